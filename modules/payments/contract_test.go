package payments_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/payments"
	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/modules/payments/internal/domain"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Payments, run twice: against the module itself, and
// through its HTTP client (remote.go) against a real server. Both runs
// assert the same outcomes, so any difference between the two
// implementations fails one of them.
func TestPaymentsContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db)
			paymentsContract(t, e, e.pay)
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			paymentsContract(t, e, payments.NewClient(remote.NewClient(payments.Name, e.shop.URL, internalToken)))
		})
	})
}

func paymentsContract(t *testing.T, e *env, pay api.Payments) {
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	visa := api.AuthorizeRequest{ID: "pay-a", Reference: "order-a", Amount: 2500, Currency: "EUR", Method: "pm_card_visa"}

	// Approved, and the same request again is the same payment.
	want := api.Payment{ID: "pay-a", Reference: "order-a", Amount: 2500, Currency: "EUR", Method: "pm_card_visa", Brand: "visa",
		Status: api.StatusAuthorized, Provider: "test", ProviderRef: ref("pay-a"),
		History: history(api.StatusPending, t0, api.StatusAuthorized, t0), CreatedAt: t0, UpdatedAt: t0}
	got, err := pay.Authorize(ctx, visa)
	samePayment(t, "authorize", got, err, want)
	e.clock.Advance(time.Minute)
	got, err = pay.Authorize(ctx, visa)
	samePayment(t, "authorize again", got, err, want)
	got, err = pay.Payment(ctx, "pay-a")
	samePayment(t, "the authorized payment", got, err, want)
	if n := e.prov.callsOf("authorize")["authorize:pay-a"]; n != 1 {
		t.Fatalf("the provider was asked %d times, want once", n)
	}

	// The same id for another authorization.
	for name, edit := range map[string]func(*api.AuthorizeRequest){
		"amount":    func(r *api.AuthorizeRequest) { r.Amount = 2501 },
		"currency":  func(r *api.AuthorizeRequest) { r.Currency = "USD" },
		"method":    func(r *api.AuthorizeRequest) { r.Method = "pm_card_mastercard" },
		"reference": func(r *api.AuthorizeRequest) { r.Reference = "order-b" },
	} {
		req := visa
		edit(&req)
		wantErr(t, "authorize with another "+name, second(pay.Authorize(ctx, req)), api.ErrMismatch, 409)
	}

	// Declined, with the reason as an extra member, again on a retry; the
	// failed payment is stored.
	for _, tc := range []struct{ id, method, code string }{
		{"pay-d", "pm_card_chargeDeclined", "card_declined"},
		{"pay-f", "pm_card_insufficientFunds", "insufficient_funds"},
	} {
		req := api.AuthorizeRequest{ID: tc.id, Reference: "order-d", Amount: 700, Currency: "EUR", Method: tc.method}
		for _, what := range []string{"decline", "decline again"} {
			got, err := pay.Authorize(ctx, req)
			wantErr(t, what+" "+tc.method, err, api.ErrDeclined.With("decline_code", tc.code), 402)
			if !reflect.DeepEqual(got, api.Payment{}) {
				t.Fatalf("%s %s answers a payment: %+v", what, tc.method, got)
			}
		}
		got, err := pay.Payment(ctx, tc.id)
		samePayment(t, "the declined payment", got, err, api.Payment{ID: tc.id, Reference: "order-d", Amount: 700, Currency: "EUR",
			Method: tc.method, Status: api.StatusFailed, Provider: "test", DeclineCode: tc.code,
			History: history(api.StatusPending, t1, api.StatusFailed, t1), CreatedAt: t1, UpdatedAt: t1})
	}

	// A method the provider does not know is a 422 on payment_method, and
	// nothing is stored; so is an invalid request.
	unknown := api.AuthorizeRequest{ID: "pay-u", Reference: "order-u", Amount: 100, Currency: "EUR", Method: "pm_card_amex"}
	wantErr(t, "unknown method", second(pay.Authorize(ctx, unknown)), errs.As(domain.UnknownMethod()), 422)
	wantErr(t, "the payment of an unknown method", second(pay.Payment(ctx, "pay-u")), api.ErrNotFound, 404)
	for _, edit := range []func(*api.AuthorizeRequest){
		func(r *api.AuthorizeRequest) { r.Amount = 0 },
		func(r *api.AuthorizeRequest) { r.ID = "a/b" },
		func(r *api.AuthorizeRequest) { r.Currency = "eur"; r.Method = "" },
	} {
		req := visa
		req.ID = "pay-v"
		edit(&req)
		wantErr(t, "invalid request", second(pay.Authorize(ctx, req)), errs.As(domain.CheckAuthorize(req)), 422)
	}

	// Capture, again, refund, again; whatever the status forbids is
	// invalid_state.
	e.clock.Advance(time.Minute) // t2
	want.Status, want.UpdatedAt = api.StatusCaptured, t2
	want.History = append(want.History, api.StatusChange{Status: api.StatusCaptured, At: t2})
	for _, what := range []string{"capture", "capture again"} {
		got, err = pay.Capture(ctx, "pay-a")
		samePayment(t, what, got, err, want)
	}
	wantErr(t, "void a captured payment", second(pay.Void(ctx, "pay-a")), api.ErrInvalidState, 409)
	e.clock.Advance(time.Minute) // t3
	t3 := e.clock.Now()
	want.Status, want.UpdatedAt = api.StatusRefunded, t3
	want.History = append(want.History, api.StatusChange{Status: api.StatusRefunded, At: t3})
	for _, what := range []string{"refund", "refund again"} {
		got, err = pay.Refund(ctx, "pay-a")
		samePayment(t, what, got, err, want)
	}
	got, err = pay.Payment(ctx, "pay-a")
	samePayment(t, "the refunded payment", got, err, want)
	wantErr(t, "capture a refunded payment", second(pay.Capture(ctx, "pay-a")), api.ErrInvalidState, 409)
	wantErr(t, "void a refunded payment", second(pay.Void(ctx, "pay-a")), api.ErrInvalidState, 409)

	// Void, again; a voided payment is neither captured nor refunded, an
	// authorized one is not refunded, a failed one is not captured.
	mc := api.AuthorizeRequest{ID: "pay-m", Reference: "order-m", Amount: 900, Currency: "EUR", Method: "pm_card_mastercard"}
	if _, err := pay.Authorize(ctx, mc); err != nil {
		t.Fatalf("authorize %s: %v", mc.ID, err)
	}
	wantErr(t, "refund an authorized payment", second(pay.Refund(ctx, "pay-m")), api.ErrInvalidState, 409)
	voided := api.Payment{ID: "pay-m", Reference: "order-m", Amount: 900, Currency: "EUR", Method: "pm_card_mastercard", Brand: "mastercard",
		Status: api.StatusVoided, Provider: "test", ProviderRef: ref("pay-m"),
		History: history(api.StatusPending, t3, api.StatusAuthorized, t3, api.StatusVoided, t3), CreatedAt: t3, UpdatedAt: t3}
	for _, what := range []string{"void", "void again"} {
		got, err = pay.Void(ctx, "pay-m")
		samePayment(t, what, got, err, voided)
	}
	wantErr(t, "capture a voided payment", second(pay.Capture(ctx, "pay-m")), api.ErrInvalidState, 409)
	wantErr(t, "refund a voided payment", second(pay.Refund(ctx, "pay-m")), api.ErrInvalidState, 409)
	wantErr(t, "capture a failed payment", second(pay.Capture(ctx, "pay-d")), api.ErrInvalidState, 409)

	// The provider down: 503, the payment stays pending, and the same call
	// again finishes it.
	e.prov.down.Store(true)
	later := api.AuthorizeRequest{ID: "pay-o", Reference: "order-o", Amount: 300, Currency: "EUR", Method: "pm_card_visa"}
	wantErr(t, "authorize while the provider is down", second(pay.Authorize(ctx, later)),
		errs.Unavailable("the payment provider did not answer; call again with the same payment id"), 503)
	pending := api.Payment{ID: "pay-o", Reference: "order-o", Amount: 300, Currency: "EUR", Method: "pm_card_visa",
		Status: api.StatusPending, Provider: "test", History: history(api.StatusPending, t3), CreatedAt: t3, UpdatedAt: t3}
	got, err = pay.Payment(ctx, "pay-o")
	samePayment(t, "the payment while the provider is down", got, err, pending)
	e.prov.down.Store(false)
	got, err = pay.Authorize(ctx, later)
	samePayment(t, "authorize again once the provider is back", got, err, api.Payment{ID: "pay-o", Reference: "order-o", Amount: 300,
		Currency: "EUR", Method: "pm_card_visa", Brand: "visa", Status: api.StatusAuthorized, Provider: "test", ProviderRef: ref("pay-o"),
		History: history(api.StatusPending, t3, api.StatusAuthorized, t3), CreatedAt: t3, UpdatedAt: t3})

	// No such payment.
	wantErr(t, "payment", second(pay.Payment(ctx, "nope")), api.ErrNotFound, 404)
	wantErr(t, "capture", second(pay.Capture(ctx, "nope")), api.ErrNotFound, 404)
	wantErr(t, "void", second(pay.Void(ctx, "nope")), api.ErrNotFound, 404)
	wantErr(t, "refund", second(pay.Refund(ctx, "nope")), api.ErrNotFound, 404)
}

// samePayment checks a call's answer field by field, times by Equal.
func samePayment(t *testing.T, what string, got api.Payment, err error, want api.Payment) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	ok := got.CreatedAt.Equal(want.CreatedAt) && got.UpdatedAt.Equal(want.UpdatedAt) && len(got.History) == len(want.History)
	g, w := got, want
	g.CreatedAt, g.UpdatedAt, g.History = time.Time{}, time.Time{}, nil
	w.CreatedAt, w.UpdatedAt, w.History = time.Time{}, time.Time{}, nil
	for i := 0; ok && i < len(got.History); i++ {
		ok = got.History[i].Status == want.History[i].Status && got.History[i].At.Equal(want.History[i].At)
	}
	if !ok || !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Fatalf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

func second[T any](_ T, err error) error { return err }

// wantErr checks what survives the wire of an error: its code, kind and
// HTTP status, message, field errors and extra members.
func wantErr(t *testing.T, what string, err error, want *errs.Error, status int) {
	t.Helper()
	e := errs.As(err)
	if e == nil || !errors.Is(err, want) || e.Kind != want.Kind || e.Kind.Status() != status || e.Message != want.Message ||
		!reflect.DeepEqual(e.Fields, want.Fields) || !sameExtra(e.Extra, want.Extra) {
		t.Fatalf("%s: got %#v (%v), want %#v (%d)", what, e, err, want, status)
	}
}

// sameExtra compares extra problem members as a client reads them: as JSON.
func sameExtra(got, want map[string]any) bool {
	if len(got) == 0 || len(want) == 0 {
		return len(got) == len(want)
	}
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	return err1 == nil && err2 == nil && string(g) == string(w)
}
