package domain

import (
	"strings"
	"testing"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/errs"
)

const (
	pending    = api.StatusPending
	authorized = api.StatusAuthorized
	captured   = api.StatusCaptured
	voided     = api.StatusVoided
	refunded   = api.StatusRefunded
	failed     = api.StatusFailed
)

// Every status against every other: only the five moves of a payment's life
// are allowed.
func TestCanMoveEveryPair(t *testing.T) {
	t.Parallel()
	allowed := map[[2]api.Status]bool{
		{pending, authorized}: true, {pending, failed}: true,
		{authorized, captured}: true, {authorized, voided}: true,
		{captured, refunded}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got, want := CanMove(from, to), allowed[[2]api.Status{from, to}]; got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
	if len(Statuses) != 6 {
		t.Fatalf("%d statuses; this table knows 6", len(Statuses))
	}
}

// Every status against every command, written out: the answer to each
// combination is part of the api's promise.
func TestDecideEveryStatusAndCommand(t *testing.T) {
	t.Parallel()
	want := map[api.Status]map[Command]Step{
		pending:    {Capture: Resolve, Void: Resolve, Refund: Refuse},
		authorized: {Capture: Apply, Void: Apply, Refund: Refuse},
		captured:   {Capture: Done, Void: Refuse, Refund: Apply},
		voided:     {Capture: Refuse, Void: Done, Refund: Refuse},
		refunded:   {Capture: Refuse, Void: Refuse, Refund: Done},
		failed:     {Capture: Refuse, Void: Refuse, Refund: Refuse},
	}
	n := 0
	for _, s := range Statuses {
		for _, c := range Commands {
			n++
			if got := Decide(s, c); got != want[s][c] {
				t.Errorf("Decide(%s, %s) = %s, want %s", s, c, got, want[s][c])
			}
			// Apply is exactly an allowed move to the command's target.
			if (Decide(s, c) == Apply) != CanMove(s, c.Target()) {
				t.Errorf("Decide(%s, %s) = %s disagrees with CanMove", s, c, Decide(s, c))
			}
		}
	}
	if n != 18 {
		t.Fatalf("checked %d combinations, want 6 statuses × 3 commands", n)
	}
}

func TestCommandTargets(t *testing.T) {
	t.Parallel()
	for c, s := range map[Command]api.Status{Capture: captured, Void: voided, Refund: refunded} {
		if c.Target() != s {
			t.Errorf("%s.Target() = %s, want %s", c, c.Target(), s)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an unknown command has a target")
		}
	}()
	_ = Command("charge").Target()
}

func TestReauthorizeEveryStatus(t *testing.T) {
	t.Parallel()
	want := map[api.Status]Step{
		pending: Resolve, failed: Refuse,
		authorized: Done, captured: Done, voided: Done, refunded: Done,
	}
	for _, s := range Statuses {
		if got := Reauthorize(s); got != want[s] {
			t.Errorf("Reauthorize(%s) = %s, want %s", s, got, want[s])
		}
	}
}

func TestCheckAuthorize(t *testing.T) {
	t.Parallel()
	ok := api.AuthorizeRequest{ID: "pay_01-AZaz09", Reference: "order-1", Amount: 1, Currency: "EUR", Method: "pm_card_visa"}
	if err := CheckAuthorize(ok); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	edge := ok
	edge.ID, edge.Reference = strings.Repeat("a", 100), ""
	if err := CheckAuthorize(edge); err != nil {
		t.Fatalf("a 100-character id and no reference: %v", err)
	}
	edge.Reference = strings.Repeat("é", 200)
	if err := CheckAuthorize(edge); err != nil {
		t.Fatalf("a 200-character reference: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*api.AuthorizeRequest)
		field string
	}{
		{"empty id", func(r *api.AuthorizeRequest) { r.ID = "" }, "id"},
		{"long id", func(r *api.AuthorizeRequest) { r.ID = strings.Repeat("a", 101) }, "id"},
		{"id with a space", func(r *api.AuthorizeRequest) { r.ID = "pay 1" }, "id"},
		{"id with a slash", func(r *api.AuthorizeRequest) { r.ID = "pay/1" }, "id"},
		{"id with a dot", func(r *api.AuthorizeRequest) { r.ID = "pay.1" }, "id"},
		{"id not ASCII", func(r *api.AuthorizeRequest) { r.ID = "payé" }, "id"},
		{"long reference", func(r *api.AuthorizeRequest) { r.Reference = strings.Repeat("x", 201) }, "reference"},
		{"reference not UTF-8", func(r *api.AuthorizeRequest) { r.Reference = "\xff" }, "reference"},
		{"zero amount", func(r *api.AuthorizeRequest) { r.Amount = 0 }, "amount"},
		{"negative amount", func(r *api.AuthorizeRequest) { r.Amount = -5 }, "amount"},
		{"lower-case currency", func(r *api.AuthorizeRequest) { r.Currency = "eur" }, "currency"},
		{"short currency", func(r *api.AuthorizeRequest) { r.Currency = "EU" }, "currency"},
		{"long currency", func(r *api.AuthorizeRequest) { r.Currency = "EURO" }, "currency"},
		{"no currency", func(r *api.AuthorizeRequest) { r.Currency = "" }, "currency"},
		{"no method", func(r *api.AuthorizeRequest) { r.Method = "" }, "payment_method"},
		{"long method", func(r *api.AuthorizeRequest) { r.Method = strings.Repeat("m", 201) }, "payment_method"},
	} {
		req := ok
		tc.edit(&req)
		e := errs.As(CheckAuthorize(req))
		if e == nil || e.Code != "validation_failed" || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
			t.Errorf("%s: %v, want one field error on %s", tc.name, e, tc.field)
		}
	}
	e := errs.As(CheckAuthorize(api.AuthorizeRequest{}))
	if e == nil || len(e.Fields) != 4 {
		t.Fatalf("an empty request: %v, want errors on id, amount, currency and payment_method", e)
	}
}

func TestSameRequest(t *testing.T) {
	t.Parallel()
	p := api.Payment{ID: "p", Reference: "o1", Amount: 100, Currency: "EUR", Method: "pm_card_visa", Status: captured}
	req := api.AuthorizeRequest{ID: "p", Reference: "o1", Amount: 100, Currency: "EUR", Method: "pm_card_visa"}
	if !SameRequest(p, req) {
		t.Fatal("the same request is not the same")
	}
	for name, edit := range map[string]func(*api.AuthorizeRequest){
		"reference": func(r *api.AuthorizeRequest) { r.Reference = "o2" },
		"amount":    func(r *api.AuthorizeRequest) { r.Amount = 101 },
		"currency":  func(r *api.AuthorizeRequest) { r.Currency = "USD" },
		"method":    func(r *api.AuthorizeRequest) { r.Method = "pm_card_mastercard" },
	} {
		other := req
		edit(&other)
		if SameRequest(p, other) {
			t.Errorf("another %s is the same request", name)
		}
	}
}

func TestUnknownMethodNamesTheField(t *testing.T) {
	t.Parallel()
	e := errs.As(UnknownMethod())
	if e == nil || e.Kind.Status() != 422 || len(e.Fields) != 1 || e.Fields[0].Field != "payment_method" {
		t.Fatalf("UnknownMethod() = %+v", e)
	}
}
