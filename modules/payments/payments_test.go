package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/modules/payments/internal/provider"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/testkit"
)

func wantCode(t testing.TB, err error, code string, status int) *errs.Error {
	t.Helper()
	e := errs.As(err)
	if e == nil || e.Code != code || e.Kind.Status() != status {
		t.Fatalf("error %v, want %d %s", err, status, code)
	}
	return e
}

// sameJSON compares two values by their JSON, which is what callers see.
func sameJSON(t testing.TB, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s\n got %s\nwant %s", what, g, w)
	}
}

func history(steps ...any) []api.StatusChange {
	var out []api.StatusChange
	for i := 0; i < len(steps); i += 2 {
		out = append(out, api.StatusChange{Status: steps[i].(api.Status), At: steps[i+1].(time.Time)})
	}
	return out
}

func ref(id string) string { return provider.TestRef("authorize:" + id) }

// Each of the contract's test methods: the two cards approve with their
// brand, the two others decline with their code, and each outcome is stored
// and published.
func TestAuthorizeWithEachTestMethod(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		for i, tc := range []struct{ method, brand, decline string }{
			{"pm_card_visa", "visa", ""},
			{"pm_card_mastercard", "mastercard", ""},
			{"pm_card_chargeDeclined", "", "card_declined"},
			{"pm_card_insufficientFunds", "", "insufficient_funds"},
		} {
			id := fmt.Sprintf("pay-%d", i)
			req := api.AuthorizeRequest{ID: id, Reference: "order-" + id, Amount: 1999 + int64(i), Currency: "EUR", Method: tc.method}
			got, err := e.pay.Authorize(ctx, req)
			want := api.Payment{ID: id, Reference: req.Reference, Amount: req.Amount, Currency: "EUR", Method: tc.method,
				Provider: "test", CreatedAt: t0, UpdatedAt: t0}
			wantEvent := api.PaymentEvent{PaymentID: id, Reference: req.Reference, Amount: req.Amount, Currency: "EUR", At: t0}
			var eventName string
			if tc.decline == "" {
				if err != nil {
					t.Fatalf("%s: %v", tc.method, err)
				}
				want.Status, want.Brand, want.ProviderRef = api.StatusAuthorized, tc.brand, ref(id)
				want.History = history(api.StatusPending, t0, api.StatusAuthorized, t0)
				sameJSON(t, tc.method+": the answer", got, want)
				wantEvent.Status, wantEvent.Brand, eventName = api.StatusAuthorized, tc.brand, api.EventPaymentAuthorized
			} else {
				de := wantCode(t, err, "payment_declined", 402)
				if !errors.Is(err, api.ErrDeclined) || de.Extra["decline_code"] != tc.decline || got.ID != "" {
					t.Fatalf("%s: %+v, %v; want ErrDeclined with decline_code %s", tc.method, got, de.Extra, tc.decline)
				}
				want.Status, want.DeclineCode = api.StatusFailed, tc.decline
				want.History = history(api.StatusPending, t0, api.StatusFailed, t0)
				wantEvent.Status, wantEvent.DeclineCode, eventName = api.StatusFailed, tc.decline, api.EventPaymentFailed
			}
			stored, err := e.pay.Payment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, tc.method+": the stored payment", stored, want)
			sameJSON(t, tc.method+": the events", e.eventsOf(t, id, 1), []received{{Name: eventName, Event: wantEvent}})
		}
	})
}

// A method the provider does not know is a 422 on payment_method, and
// leaves no trace: no payment, no provider call, and the id stays free.
func TestUnknownMethodStoresNothing(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	for _, method := range []string{"pm_card_amex", "4242424242424242", "PM_CARD_VISA"} {
		_, err := e.pay.Authorize(ctx, api.AuthorizeRequest{ID: "pay-1", Reference: "o1", Amount: 100, Currency: "EUR", Method: method})
		fe := wantCode(t, err, "validation_failed", 422)
		if len(fe.Fields) != 1 || fe.Fields[0].Field != "payment_method" {
			t.Fatalf("%s: field errors %+v, want one on payment_method", method, fe.Fields)
		}
	}
	if _, err := e.pay.Payment(ctx, "pay-1"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("a payment with an unknown method was stored: %v", err)
	}
	if list, err := e.svc.List(ctx, "", nil, 10); err != nil || len(list) != 0 {
		t.Fatalf("payments stored: %+v, %v", list, err)
	}
	if calls := e.prov.callsOf("authorize"); len(calls) != 0 {
		t.Fatalf("the provider was asked: %v", calls)
	}
	if p := e.authorize(t, "pay-1", "o1", "pm_card_visa", 100); p.Status != api.StatusAuthorized {
		t.Fatalf("the id after a refused method: %+v", p)
	}
}

// A provider adapter may let a method through that the provider then says
// it does not have: the pending payment is removed again and the answer is
// the same 422.
func TestMethodRefusedByTheProviderStoresNothing(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	e.prov.forget.Store(true)
	_, err := e.pay.Authorize(ctx, api.AuthorizeRequest{ID: "late", Reference: "o1", Amount: 100, Currency: "EUR", Method: "pm_card_amex"})
	if fe := wantCode(t, err, "validation_failed", 422); fe.Fields[0].Field != "payment_method" {
		t.Fatalf("fields %+v", fe.Fields)
	}
	if n := e.prov.callsOf("authorize")["authorize:late"]; n != 1 {
		t.Fatalf("the provider was asked %d times, want once", n)
	}
	if _, err := e.pay.Payment(ctx, "late"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("the refused payment is still stored: %v", err)
	}
	if p := e.authorize(t, "late", "o1", "pm_card_visa", 100); p.Status != api.StatusAuthorized || len(p.History) != 2 {
		t.Fatalf("the id after a refused method: %+v", p)
	}
}

func TestAuthorizeValidation(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	ok := api.AuthorizeRequest{ID: "v1", Reference: "o1", Amount: 100, Currency: "EUR", Method: "pm_card_visa"}
	for _, tc := range []struct {
		field string
		edit  func(*api.AuthorizeRequest)
	}{
		{"id", func(r *api.AuthorizeRequest) { r.ID = "" }},
		{"id", func(r *api.AuthorizeRequest) { r.ID = strings.Repeat("x", 101) }},
		{"id", func(r *api.AuthorizeRequest) { r.ID = "a/b" }},
		{"reference", func(r *api.AuthorizeRequest) { r.Reference = strings.Repeat("x", 201) }},
		{"amount", func(r *api.AuthorizeRequest) { r.Amount = 0 }},
		{"amount", func(r *api.AuthorizeRequest) { r.Amount = -1 }},
		{"currency", func(r *api.AuthorizeRequest) { r.Currency = "eur" }},
		{"currency", func(r *api.AuthorizeRequest) { r.Currency = "EURO" }},
		{"payment_method", func(r *api.AuthorizeRequest) { r.Method = "" }},
	} {
		req := ok
		tc.edit(&req)
		_, err := e.pay.Authorize(ctx, req)
		if fe := wantCode(t, err, "validation_failed", 422); len(fe.Fields) != 1 || fe.Fields[0].Field != tc.field {
			t.Errorf("%+v: fields %+v, want one on %s", req, fe.Fields, tc.field)
		}
	}
	if list, err := e.svc.List(ctx, "", nil, 10); err != nil || len(list) != 0 {
		t.Fatalf("invalid requests stored payments: %+v, %v", list, err)
	}
	if calls := e.prov.callsOf("authorize"); len(calls) != 0 {
		t.Fatalf("invalid requests reached the provider: %v", calls)
	}
}

// The same id again is the same payment, asked of the provider once; the
// same id for another authorization is a conflict that changes nothing.
func TestAuthorizeIsIdempotent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		first := e.authorize(t, "pay-1", "order-1", "pm_card_visa", 500)
		e.clock.Advance(time.Minute)
		again := e.authorize(t, "pay-1", "order-1", "pm_card_visa", 500)
		sameJSON(t, "the retried authorization", again, first)
		if n := e.prov.callsOf("authorize")["authorize:pay-1"]; n != 1 {
			t.Fatalf("the provider was asked %d times, want once", n)
		}
		if list, _ := e.svc.List(ctx, "", nil, 10); len(list) != 1 {
			t.Fatalf("%d payments stored, want 1", len(list))
		}

		for name, edit := range map[string]func(*api.AuthorizeRequest){
			"amount":    func(r *api.AuthorizeRequest) { r.Amount = 501 },
			"currency":  func(r *api.AuthorizeRequest) { r.Currency = "USD" },
			"method":    func(r *api.AuthorizeRequest) { r.Method = "pm_card_mastercard" },
			"reference": func(r *api.AuthorizeRequest) { r.Reference = "order-2" },
		} {
			req := api.AuthorizeRequest{ID: "pay-1", Reference: "order-1", Amount: 500, Currency: "EUR", Method: "pm_card_visa"}
			edit(&req)
			_, err := e.pay.Authorize(ctx, req)
			wantCode(t, err, "conflict", 409)
			if !errors.Is(err, api.ErrMismatch) {
				t.Fatalf("another %s: %v, want ErrMismatch", name, err)
			}
		}
		stored, _ := e.pay.Payment(ctx, "pay-1")
		sameJSON(t, "the payment after the conflicts", stored, first)

		// Later in its life, the authorization still answers the payment.
		if _, err := e.pay.Capture(ctx, "pay-1"); err != nil {
			t.Fatal(err)
		}
		later := e.authorize(t, "pay-1", "order-1", "pm_card_visa", 500)
		if later.Status != api.StatusCaptured || later.ProviderRef != first.ProviderRef {
			t.Fatalf("authorize after capture = %+v", later)
		}
		names := []string{}
		for _, r := range e.eventsOf(t, "pay-1", 2) {
			names = append(names, r.Name)
		}
		if strings.Join(names, ",") != api.EventPaymentAuthorized+","+api.EventPaymentCaptured {
			t.Fatalf("events %v", names)
		}

		// A decline is answered again, from the store.
		for range 3 {
			_, err := e.pay.Authorize(ctx, api.AuthorizeRequest{ID: "pay-2", Reference: "order-2", Amount: 500, Currency: "EUR", Method: "pm_card_insufficientFunds"})
			if de := wantCode(t, err, "payment_declined", 402); de.Extra["decline_code"] != "insufficient_funds" {
				t.Fatalf("decline extras %v", de.Extra)
			}
		}
		if n := e.prov.callsOf("authorize")["authorize:pay-2"]; n != 1 {
			t.Fatalf("the provider was asked %d times for the declined payment, want once", n)
		}
		e.eventsOf(t, "pay-2", 1)
	})
}

// The happy paths: capture then refund, and void; each repeated call
// answers the payment as it is, without a provider call or an event.
func TestCaptureRefundAndVoid(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
		e.authorize(t, "pay-c", "order-c", "pm_card_mastercard", 2500)
		e.clock.Advance(time.Minute)
		captured, err := e.pay.Capture(ctx, "pay-c")
		if err != nil {
			t.Fatal(err)
		}
		want := api.Payment{ID: "pay-c", Reference: "order-c", Amount: 2500, Currency: "EUR", Method: "pm_card_mastercard", Brand: "mastercard",
			Status: api.StatusCaptured, Provider: "test", ProviderRef: ref("pay-c"),
			History:   history(api.StatusPending, t0, api.StatusAuthorized, t0, api.StatusCaptured, t1),
			CreatedAt: t0, UpdatedAt: t1}
		sameJSON(t, "captured", captured, want)
		e.clock.Advance(time.Minute)
		again, err := e.pay.Capture(ctx, "pay-c")
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "captured again", again, want)

		refunded, err := e.pay.Refund(ctx, "pay-c")
		if err != nil {
			t.Fatal(err)
		}
		want.Status, want.UpdatedAt = api.StatusRefunded, t2
		want.History = append(want.History, api.StatusChange{Status: api.StatusRefunded, At: t2})
		sameJSON(t, "refunded", refunded, want)
		e.clock.Advance(time.Minute)
		if again, err = e.pay.Refund(ctx, "pay-c"); err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "refunded again", again, want)
		stored, _ := e.pay.Payment(ctx, "pay-c")
		sameJSON(t, "stored", stored, want)

		ev := func(status api.Status, at time.Time) api.PaymentEvent {
			return api.PaymentEvent{PaymentID: "pay-c", Reference: "order-c", Amount: 2500, Currency: "EUR", Brand: "mastercard", Status: status, At: at}
		}
		sameJSON(t, "events", e.eventsOf(t, "pay-c", 3), []received{
			{api.EventPaymentAuthorized, ev(api.StatusAuthorized, t0)},
			{api.EventPaymentCaptured, ev(api.StatusCaptured, t1)},
			{api.EventPaymentRefunded, ev(api.StatusRefunded, t2)},
		})

		t4 := e.clock.Now()
		e.authorize(t, "pay-v", "order-v", "pm_card_visa", 700)
		for range 2 {
			voided, err := e.pay.Void(ctx, "pay-v")
			if err != nil {
				t.Fatal(err)
			}
			if voided.Status != api.StatusVoided || len(voided.History) != 3 || voided.History[2] != (api.StatusChange{Status: api.StatusVoided, At: t4}) {
				t.Fatalf("voided = %+v", voided)
			}
		}
		names := []string{}
		for _, r := range e.eventsOf(t, "pay-v", 2) {
			names = append(names, r.Name+"/"+string(r.Event.Status))
		}
		if strings.Join(names, ",") != api.EventPaymentAuthorized+"/authorized,"+api.EventPaymentVoided+"/voided" {
			t.Fatalf("events of the voided payment: %v", names)
		}

		// Each operation reached the provider once, with its own key.
		for op, key := range map[string]string{"capture": "capture:pay-c", "refund": "refund:pay-c", "void": "void:pay-v"} {
			if calls := e.prov.callsOf(op); len(calls) != 1 || calls[key] != 1 {
				t.Errorf("%s calls: %v, want one with key %s", op, calls, key)
			}
		}
	})
}

// Every command on a payment in every status: the allowed moves happen, a
// repeat is answered as is, and everything else is invalid_state that
// changes nothing and asks the provider nothing.
func TestEveryCommandInEveryStatus(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		type command struct {
			name string
			fn   func(context.Context, string) (api.Payment, error)
		}
		capture, void, refund := command{"capture", e.pay.Capture}, command{"void", e.pay.Void}, command{"refund", e.pay.Refund}
		// setup brings a new payment to a status.
		setup := map[string]func(id string){
			"authorized": func(id string) { e.authorize(t, id, "o", "pm_card_visa", 100) },
			"captured": func(id string) {
				e.authorize(t, id, "o", "pm_card_visa", 100)
				if _, err := e.pay.Capture(ctx, id); err != nil {
					t.Fatal(err)
				}
			},
			"voided": func(id string) {
				e.authorize(t, id, "o", "pm_card_visa", 100)
				if _, err := e.pay.Void(ctx, id); err != nil {
					t.Fatal(err)
				}
			},
			"refunded": func(id string) {
				e.authorize(t, id, "o", "pm_card_visa", 100)
				if _, err := e.pay.Capture(ctx, id); err != nil {
					t.Fatal(err)
				}
				if _, err := e.pay.Refund(ctx, id); err != nil {
					t.Fatal(err)
				}
			},
			"failed": func(id string) {
				_, err := e.pay.Authorize(ctx, api.AuthorizeRequest{ID: id, Reference: "o", Amount: 100, Currency: "EUR", Method: "pm_card_chargeDeclined"})
				wantCode(t, err, "payment_declined", 402)
			},
			// pending: the provider was down when it was asked; it is up again
			// when the command comes.
			"pending": func(id string) {
				e.prov.down.Store(true)
				defer e.prov.down.Store(false)
				_, err := e.pay.Authorize(ctx, api.AuthorizeRequest{ID: id, Reference: "o", Amount: 100, Currency: "EUR", Method: "pm_card_visa"})
				wantCode(t, err, "unavailable", 503)
			},
			// pending, and the provider will decline it once asked again.
			"pending-declined": func(id string) {
				e.prov.down.Store(true)
				defer e.prov.down.Store(false)
				_, err := e.pay.Authorize(ctx, api.AuthorizeRequest{ID: id, Reference: "o", Amount: 100, Currency: "EUR", Method: "pm_card_chargeDeclined"})
				wantCode(t, err, "unavailable", 503)
			},
		}
		const invalid = api.Status("invalid_state")
		for _, tc := range []struct {
			status string
			cmd    command
			want   api.Status // the status the command answers, or invalid
		}{
			{"authorized", capture, api.StatusCaptured},
			{"authorized", void, api.StatusVoided},
			{"authorized", refund, invalid},
			{"captured", capture, api.StatusCaptured},
			{"captured", void, invalid},
			{"captured", refund, api.StatusRefunded},
			{"voided", capture, invalid},
			{"voided", void, api.StatusVoided},
			{"voided", refund, invalid},
			{"refunded", capture, invalid},
			{"refunded", void, invalid},
			{"refunded", refund, api.StatusRefunded},
			{"failed", capture, invalid},
			{"failed", void, invalid},
			{"failed", refund, invalid},
			{"pending", capture, api.StatusCaptured}, // the authorization is finished first
			{"pending", void, api.StatusVoided},      // a caller giving up leaves no authorization behind
			{"pending", refund, invalid},             // nothing can have been captured
			{"pending-declined", capture, invalid},
			{"pending-declined", void, invalid},
		} {
			id := tc.status + "-" + tc.cmd.name
			setup[tc.status](id)
			before, err := e.pay.Payment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			callsBefore := e.prov.callsOf(tc.cmd.name)[tc.cmd.name+":"+id]
			got, err := tc.cmd.fn(ctx, id)
			after, _ := e.pay.Payment(ctx, id)
			callsAfter := e.prov.callsOf(tc.cmd.name)[tc.cmd.name+":"+id]
			switch {
			case tc.want == invalid:
				wantCode(t, err, "invalid_state", 409)
				if !errors.Is(err, api.ErrInvalidState) || got.ID != "" {
					t.Fatalf("%s: %+v, %v", id, got, err)
				}
				if tc.status != "pending-declined" {
					sameJSON(t, id+": the payment after a refused command", after, before)
				} else if after.Status != api.StatusFailed || after.DeclineCode != "card_declined" {
					t.Fatalf("%s: the authorization was not resolved first: %+v", id, after)
				}
				if callsAfter != callsBefore {
					t.Fatalf("%s: a refused command reached the provider", id)
				}
			case err != nil:
				t.Fatalf("%s: %v, want %s", id, err, tc.want)
			case got.Status != tc.want || after.Status != tc.want:
				t.Fatalf("%s: answered %s, stored %s, want %s", id, got.Status, after.Status, tc.want)
			case before.Status == tc.want && (callsAfter != callsBefore || len(after.History) != len(before.History)):
				t.Fatalf("%s: a repeated command reached the provider or the history", id)
			case before.Status != tc.want && (callsAfter != callsBefore+1 || after.History[len(after.History)-1].Status != tc.want):
				t.Fatalf("%s: the move was not asked of the provider once and recorded: %+v", id, after)
			}
		}
		// A pending payment that was resolved by a command went through
		// authorized, as its history and its events say.
		p, _ := e.pay.Payment(ctx, "pending-void")
		if len(p.History) != 3 || p.History[0].Status != api.StatusPending || p.History[1].Status != api.StatusAuthorized || p.History[2].Status != api.StatusVoided {
			t.Fatalf("history of a voided pending payment: %+v", p.History)
		}
		if ev := e.eventsOf(t, "pending-void", 2); ev[0].Name != api.EventPaymentAuthorized || ev[1].Name != api.EventPaymentVoided {
			t.Fatalf("events of a voided pending payment: %+v", ev)
		}

		for _, cmd := range []command{capture, void, refund, {"payment", e.pay.Payment}} {
			_, err := cmd.fn(ctx, "nope")
			wantCode(t, err, "not_found", 404)
			if !errors.Is(err, api.ErrNotFound) {
				t.Fatalf("%s of an unknown payment: %v", cmd.name, err)
			}
		}
	})
}

// The provider is down: the authorization stays pending and answers 503,
// nothing is published, and the same call later finishes it. A capture
// during an outage leaves the payment authorized.
func TestProviderOutageLeavesPaymentPending(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		req := api.AuthorizeRequest{ID: "pay-out", Reference: "order-out", Amount: 900, Currency: "EUR", Method: "pm_card_visa"}
		e.prov.down.Store(true)
		for range 2 {
			_, err := e.pay.Authorize(ctx, req)
			wantCode(t, err, "unavailable", 503)
			p, err := e.pay.Payment(ctx, "pay-out")
			if err != nil || p.Status != api.StatusPending || p.ProviderRef != "" || p.Brand != "" || len(p.History) != 1 {
				t.Fatalf("during the outage the payment is %+v, %v; want pending", p, err)
			}
		}
		e.drain(t)
		if ev := e.probe.of("pay-out"); len(ev) != 0 {
			t.Fatalf("a pending payment published %+v", ev)
		}

		e.prov.down.Store(false)
		e.clock.Advance(time.Minute)
		p := e.authorize(t, "pay-out", "order-out", "pm_card_visa", 900)
		sameJSON(t, "after the outage", p, api.Payment{ID: "pay-out", Reference: "order-out", Amount: 900, Currency: "EUR",
			Method: "pm_card_visa", Brand: "visa", Status: api.StatusAuthorized, Provider: "test", ProviderRef: ref("pay-out"),
			History:   history(api.StatusPending, t0, api.StatusAuthorized, t0.Add(time.Minute)),
			CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)})
		e.eventsOf(t, "pay-out", 1)

		e.prov.down.Store(true)
		_, err := e.pay.Capture(ctx, "pay-out")
		wantCode(t, err, "unavailable", 503)
		if p, _ := e.pay.Payment(ctx, "pay-out"); p.Status != api.StatusAuthorized || len(p.History) != 2 {
			t.Fatalf("a failed capture moved the payment: %+v", p)
		}
		e.prov.down.Store(false)
		if p, err := e.pay.Capture(ctx, "pay-out"); err != nil || p.Status != api.StatusCaptured {
			t.Fatalf("capture after the outage: %+v, %v", p, err)
		}
		e.eventsOf(t, "pay-out", 2)
	})
}

// The provider acts on a call but its answer never arrives, and the process
// stops before anything is recorded. A new process finishes each payment
// with the same idempotency key, so the provider's first authorization is
// the one recorded, and a capture whose answer was lost is asked again
// under the key it had.
func TestCrashBetweenProviderAndDatabase(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		first := start(t, db)
		first.authorize(t, "pay-cap", "order-3", "pm_card_visa", 300)
		first.prov.lose.Store(true)
		for _, req := range []api.AuthorizeRequest{
			{ID: "pay-auth", Reference: "order-1", Amount: 100, Currency: "EUR", Method: "pm_card_visa"},
			{ID: "pay-void", Reference: "order-2", Amount: 200, Currency: "EUR", Method: "pm_card_mastercard"},
		} {
			_, err := first.pay.Authorize(ctx, req)
			wantCode(t, err, "unavailable", 503)
			if _, ok := first.prov.answered("authorize:" + req.ID); !ok {
				t.Fatalf("the provider did not authorize %s", req.ID)
			}
			if p, _ := first.pay.Payment(ctx, req.ID); p.Status != api.StatusPending {
				t.Fatalf("%s is %s after the lost answer, want pending", req.ID, p.Status)
			}
		}
		_, err := first.pay.Capture(ctx, "pay-cap")
		wantCode(t, err, "unavailable", 503)
		lostAuth, _ := first.prov.answered("authorize:pay-auth")
		first.shop.Stop()

		second := start(t, db)
		second.clock.Advance(time.Hour)
		p := second.authorize(t, "pay-auth", "order-1", "pm_card_visa", 100)
		if p.Status != api.StatusAuthorized || p.ProviderRef != lostAuth.Ref || p.Brand != lostAuth.Brand || !p.CreatedAt.Equal(t0) ||
			len(p.History) != 2 || !p.History[1].At.Equal(t0.Add(time.Hour)) {
			t.Fatalf("after the restart: %+v; want the provider's first authorization %+v", p, lostAuth)
		}
		second.eventsOf(t, "pay-auth", 1)

		// The saga gives up the order it never heard back about: the void
		// resolves the authorization first, then gives it up.
		v, err := second.pay.Void(ctx, "pay-void")
		if err != nil || v.Status != api.StatusVoided || v.ProviderRef != ref("pay-void") || len(v.History) != 3 {
			t.Fatalf("void after the restart: %+v, %v", v, err)
		}
		if ev := second.eventsOf(t, "pay-void", 2); ev[0].Name != api.EventPaymentAuthorized || ev[1].Name != api.EventPaymentVoided {
			t.Fatalf("events: %+v", ev)
		}

		c, err := second.pay.Capture(ctx, "pay-cap")
		if err != nil || c.Status != api.StatusCaptured {
			t.Fatalf("capture after the restart: %+v, %v", c, err)
		}
		if n, m := first.prov.callsOf("capture")["capture:pay-cap"], second.prov.callsOf("capture")["capture:pay-cap"]; n != 1 || m != 1 {
			t.Fatalf("capture asked %d and %d times with key capture:pay-cap, want once in each process", n, m)
		}
		for _, k := range []string{"authorize:pay-auth", "authorize:pay-void"} {
			if second.prov.callsOf("authorize")[k] != 1 {
				t.Fatalf("the new process did not ask again with key %s: %v", k, second.prov.callsOf("authorize"))
			}
		}
	})
}

// The caller goes away once the provider has approved: the approval is
// still recorded and published, not left pending.
func TestApprovalIsRecordedWhenTheCallerLeaves(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	leave := func() { cancel() }
	e.prov.afterCall.Store(&leave)
	p, err := e.pay.Authorize(cctx, api.AuthorizeRequest{ID: "gone", Reference: "o", Amount: 100, Currency: "EUR", Method: "pm_card_visa"})
	e.prov.afterCall.Store(nil)
	if cctx.Err() == nil {
		t.Fatal("the caller's context was not cancelled")
	}
	if err != nil || p.Status != api.StatusAuthorized {
		t.Fatalf("authorize = %+v, %v", p, err)
	}
	if stored, _ := e.pay.Payment(ctx, "gone"); stored.Status != api.StatusAuthorized {
		t.Fatalf("stored %+v", stored)
	}
	e.eventsOf(t, "gone", 1)
}
