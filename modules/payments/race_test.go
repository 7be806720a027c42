package payments_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/testkit"
)

// 50 callers authorize one payment id at once: one payment, one
// authorization event, one history step each, and the same answer to all,
// on both databases. The same for a declined method.
func TestConcurrentAuthorizeOfOneID(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.prov.delay.Store(int64(20 * time.Millisecond))
		for _, tc := range []struct {
			id, method, decline string
		}{
			{"pay-race", "pm_card_visa", ""},
			{"pay-race-declined", "pm_card_insufficientFunds", "insufficient_funds"},
		} {
			req := api.AuthorizeRequest{ID: tc.id, Reference: "order-race", Amount: 4200, Currency: "EUR", Method: tc.method}
			answers := make([]api.Payment, 50)
			failures := make([]error, 50)
			var wg sync.WaitGroup
			startLine := make(chan struct{})
			for i := range answers {
				wg.Go(func() {
					<-startLine
					answers[i], failures[i] = e.pay.Authorize(ctx, req)
				})
			}
			close(startLine)
			wg.Wait()
			for i := range answers {
				switch {
				case tc.decline == "" && failures[i] != nil:
					t.Fatalf("caller %d: %v", i, failures[i])
				case tc.decline != "" && (!errors.Is(failures[i], api.ErrDeclined) || errs.As(failures[i]).Extra["decline_code"] != tc.decline):
					t.Fatalf("caller %d: %v, want the decline %s", i, failures[i], tc.decline)
				}
				sameJSON(t, fmt.Sprintf("caller %d's answer", i), answers[i], answers[0])
			}
			p, err := e.pay.Payment(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if tc.decline == "" {
				sameJSON(t, "the stored payment", p, answers[0])
			}
			if len(p.History) != 2 || p.History[0].Status != api.StatusPending || (p.History[1].Status != api.StatusAuthorized && p.History[1].Status != api.StatusFailed) {
				t.Fatalf("history %+v, want pending then one outcome", p.History)
			}
			if ev := e.eventsOf(t, tc.id, 1); ev[0].Event.Status != p.Status {
				t.Fatalf("event %+v for a payment %s", ev[0], p.Status)
			}
			for key := range e.prov.callsOf("authorize") {
				if key != "authorize:pay-race" && key != "authorize:pay-race-declined" {
					t.Fatalf("the provider was asked with key %q", key)
				}
			}
		}
		if list, _ := e.svc.List(ctx, "order-race", nil, 100); len(list) != 2 {
			t.Fatalf("%d payments of order-race, want 2", len(list))
		}
	})
}

// Captures and voids of one authorized payment race: exactly one of the
// two moves happens; every call of the winning kind answers the payment in
// its new status and every call of the other kind is invalid_state.
func TestCapturesRacingVoids(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		for n := range 8 {
			id := fmt.Sprintf("pay-%d", n)
			e.authorize(t, id, "order", "pm_card_visa", 100)
			e.prov.delay.Store(int64(10 * time.Millisecond))
			type result struct {
				op  string
				p   api.Payment
				err error
			}
			results := make([]result, 20)
			var wg sync.WaitGroup
			startLine := make(chan struct{})
			for i := range results {
				wg.Go(func() {
					<-startLine
					if i%2 == 0 {
						p, err := e.pay.Capture(ctx, id)
						results[i] = result{"capture", p, err}
					} else {
						p, err := e.pay.Void(ctx, id)
						results[i] = result{"void", p, err}
					}
				})
			}
			close(startLine)
			wg.Wait()
			e.prov.delay.Store(0)
			final, _ := e.pay.Payment(ctx, id)
			winner := map[api.Status]string{api.StatusCaptured: "capture", api.StatusVoided: "void"}[final.Status]
			if winner == "" || len(final.History) != 3 {
				t.Fatalf("%s ends %s with history %+v", id, final.Status, final.History)
			}
			for _, r := range results {
				switch {
				case r.op == winner && (r.err != nil || r.p.Status != final.Status):
					t.Fatalf("%s of %s: %+v, %v; the payment ended %s", r.op, id, r.p, r.err, final.Status)
				case r.op != winner && !errors.Is(r.err, api.ErrInvalidState):
					t.Fatalf("%s of %s: %+v, %v; want invalid_state, the payment ended %s", r.op, id, r.p, r.err, final.Status)
				}
			}
			if ev := e.eventsOf(t, id, 2); ev[1].Event.Status != final.Status {
				t.Fatalf("events of %s: %+v", id, ev)
			}
		}
	})
}
