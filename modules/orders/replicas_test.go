package orders_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"
	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/domain"
	"github.com/modshop/modshop/modules/orders/internal/service"
	paymentsapi "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// dying makes the request running a placement die right after a step of
// the saga, as a crashed process would: nothing of the saga runs after it,
// and its placement keeps its lease.
type dying struct{ at atomic.Value } // the step, a string; "" for none

// errDied is what the saga's request dies of.
var errDied = errors.New("the process died")

func (d *dying) afterStep(step string) {
	if at, _ := d.at.Load().(string); at == step {
		panic(errDied)
	}
}

// place runs a placement that dies after step.
func (d *dying) place(t *testing.T, s *service.Service, checkoutID, key, step string) {
	t.Helper()
	d.at.Store(step)
	defer d.at.Store("")
	died := func() (died bool) {
		defer func() {
			if r := recover(); r != nil {
				if err, _ := r.(error); !errors.Is(err, errDied) {
					panic(r)
				}
				died = true
			}
		}()
		_, _ = s.PlaceOrder(ctx, "", key, service.PlaceRequest{CheckoutID: checkoutID, PaymentMethod: "pm_card_visa"})
		return false
	}()
	if !died {
		t.Fatalf("the placement of %s ran past %s", checkoutID, step)
	}
}

// TestRecoveryWorkersOfReplicasFinishEachPlacementOnce: two replicas of the
// shop on one database, and placements whose request died after each step
// of the saga. Recovery passes of both replicas at once (their own workers
// run meanwhile too) finish every placement exactly once: one order, one
// authorization, the stock sold once, one order_placed. A placement that
// died after selling the stock is finished even when its checkout's time
// has run out by then: the order is owed, and its payment is not voided.
// Then the orders are shipped or cancelled by requests that die before
// running the side effects: the workers capture, void and restock each
// exactly once.
func TestRecoveryWorkersOfReplicasFinishEachPlacementOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		clk := clock.NewFake(time.Now())
		d := &dying{}
		tuning := &orders.Tuning{AfterStep: d.afterStep}
		svcs := make([]*service.Service, 2)
		replicas := make([]*env, 2)
		for i := range replicas {
			replicas[i] = startWith(t, db, options{tuning: tuning, noProbe: true,
				extra: []fx.Option{fx.Supply(fx.Annotate(clk, fx.As(new(clock.Clock)))), fx.Populate(&svcs[i])}})
		}
		a := replicas[0]
		a.product(t, 1500, 100, "REC-A", "REC-B")
		g := peekDB(t, db)

		// stuck leaves n placements dead after step, half started on each
		// replica, and returns their checkouts.
		stuck := func(n int, step string) []string {
			var ids []string
			for i := range n {
				sku := []string{"REC-A", "REC-B"}[i%2]
				c := replicas[i%2].checkout(t, replicas[i%2].cart(t, "", item{sku, 1}), "")
				d.place(t, svcs[i%2], c.ID, "k-"+c.ID, step)
				ids = append(ids, c.ID)
			}
			return ids
		}
		// recoverAll runs passes of both replicas at once until no
		// placement is unfinished.
		recoverAll := func() {
			deadline := time.Now().Add(30 * time.Second)
			for count(t, g, "SELECT COUNT(*) FROM orders_placements WHERE step <> 'done'") > 0 {
				if time.Now().After(deadline) {
					t.Fatal("placements still unfinished after 30s")
				}
				passes(svcs)
			}
		}
		// placed checks that each checkout became exactly one order, paid by
		// one authorization, with its stock sold once.
		placed := func(checkouts []string) {
			t.Helper()
			for _, id := range checkouts {
				var o struct{ ID, PaymentID, ReservationID string }
				g.Raw("SELECT id, payment_id, reservation_id FROM orders_orders WHERE checkout_id = ?", id).Scan(&o)
				var pays []struct{ ID, Status string }
				g.Raw("SELECT id, status FROM payments_payments WHERE reference = ?", id).Scan(&pays)
				switch {
				case count(t, g, "SELECT COUNT(*) FROM orders_orders WHERE checkout_id = ?", id) != 1:
					t.Fatalf("checkout %s: not exactly one order", id)
				case len(pays) != 1 || pays[0].ID != o.PaymentID || pays[0].Status != string(paymentsapi.StatusAuthorized):
					t.Fatalf("checkout %s: payments %+v, want the order's %s authorized", id, pays, o.PaymentID)
				case count(t, g, "SELECT COUNT(*) FROM payments_outbox WHERE name = ? AND event_key = ?", paymentsapi.EventPaymentAuthorized, o.PaymentID) != 1,
					count(t, g, "SELECT COUNT(*) FROM payments_outbox WHERE name <> ? AND event_key = ?", paymentsapi.EventPaymentAuthorized, o.PaymentID) != 0:
					t.Fatalf("checkout %s: payment %s did not move exactly once, to authorized", id, o.PaymentID)
				case count(t, g, "SELECT COUNT(*) FROM inventory_adjustments WHERE reason = 'commit' AND reference = ?", o.ReservationID) != 1:
					t.Fatalf("checkout %s: reservation %s not sold exactly once", id, o.ReservationID)
				case count(t, g, "SELECT COUNT(*) FROM orders_outbox WHERE name = ? AND event_key = ?", api.EventOrderPlaced, o.ID) != 1:
					t.Fatalf("checkout %s: not exactly one %s for order %s", id, api.EventOrderPlaced, o.ID)
				case count(t, g, "SELECT COUNT(*) FROM orders_placements WHERE checkout_id = ? AND step = 'done' AND response_status = 201", id) != 1:
					t.Fatalf("checkout %s: its placement did not end with the order", id)
				}
			}
		}

		first := append(stuck(10, service.AfterClaim), stuck(10, service.AfterAuthorize)...)
		clk.Advance(31 * time.Second) // the dead requests' leases run out
		recoverAll()
		placed(first)

		late := stuck(10, service.AfterCommit)
		clk.Advance(inventory.DefaultReservationTTL + time.Minute) // and the checkouts' time
		recoverAll()
		placed(late)

		sold := int64(len(first) + len(late))
		if n := count(t, g, "SELECT COUNT(*) FROM orders_orders"); n != sold {
			t.Fatalf("%d orders, want %d", n, sold)
		}

		// Orders shipped and cancelled by requests that died once their
		// command was committed: the workers run the side effects, each
		// exactly once.
		var shipped, cancelled []string
		for i, id := range first {
			var orderID string
			g.Raw("SELECT id FROM orders_orders WHERE checkout_id = ?", id).Scan(&orderID)
			cmd := domain.Ship
			if i%2 == 1 {
				cmd = domain.Cancel
			}
			d.at.Store(service.AfterTransition)
			func() {
				defer func() {
					if err, _ := recover().(error); !errors.Is(err, errDied) {
						t.Fatalf("%s %s: %v, want the request to die after the transition", cmd, orderID, err)
					}
				}()
				_, _ = svcs[i%2].Apply(ctx, orderID, cmd, service.Reader{Admin: true}, nil)
			}()
			d.at.Store("")
			if cmd == domain.Ship {
				shipped = append(shipped, orderID)
			} else {
				cancelled = append(cancelled, orderID)
			}
		}
		clk.Advance(31 * time.Second) // the requests' turn to run them is over
		deadline := time.Now().Add(30 * time.Second)
		for count(t, g, "SELECT COUNT(*) FROM orders_effects WHERE done_at IS NULL") > 0 {
			if time.Now().After(deadline) {
				t.Fatal("order effects still pending after 30s")
			}
			passes(svcs)
		}
		moved := func(orderID, status, event string) {
			t.Helper()
			var o struct{ PaymentID, PaymentStatus string }
			g.Raw("SELECT payment_id, payment_status FROM orders_orders WHERE id = ?", orderID).Scan(&o)
			var pay string
			g.Raw("SELECT status FROM payments_payments WHERE id = ?", o.PaymentID).Scan(&pay)
			if pay != status || o.PaymentStatus != status {
				t.Fatalf("order %s: payment %s, shown as %s; want %s", orderID, pay, o.PaymentStatus, status)
			}
			if n := count(t, g, "SELECT COUNT(*) FROM payments_outbox WHERE name = ? AND event_key = ?", event, o.PaymentID); n != 1 {
				t.Fatalf("order %s: %d %s, want 1", orderID, n, event)
			}
		}
		for _, id := range shipped {
			moved(id, string(paymentsapi.StatusCaptured), paymentsapi.EventPaymentCaptured)
		}
		for _, id := range cancelled {
			moved(id, string(paymentsapi.StatusVoided), paymentsapi.EventPaymentVoided)
			if n := count(t, g, "SELECT COUNT(*) FROM inventory_adjustments WHERE reason = 'restock' AND reference = ?", "restock_"+id); n != 1 {
				t.Fatalf("order %s: restocked %d times, want once", id, n)
			}
		}
		onHand := 200 - sold + int64(len(cancelled))
		if l, m := a.level(t, "REC-A"), a.level(t, "REC-B"); l.OnHand+m.OnHand != onHand || l.Reserved+m.Reserved != 0 {
			t.Fatalf("levels %+v and %+v, want %d on hand in all and nothing reserved", l, m, onHand)
		}
	})
}

// gates hold the first runner that reaches a step of the saga there until
// the test lets it go; later runners pass.
type gates struct {
	mu   sync.Mutex
	held map[string]*gate
}

type gate struct{ reached, release chan struct{} }

func (g *gates) hold(step string) *gate {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held == nil {
		g.held = map[string]*gate{}
	}
	gt := &gate{reached: make(chan struct{}), release: make(chan struct{})}
	g.held[step] = gt
	return gt
}

func (g *gates) afterStep(step string) {
	g.mu.Lock()
	gt := g.held[step]
	delete(g.held, step)
	g.mu.Unlock()
	if gt != nil {
		close(gt.reached)
		<-gt.release
	}
}

func (gt *gate) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-gt.reached:
	case <-time.After(20 * time.Second):
		t.Fatalf("no runner reached %s", what)
	}
}

// TestAPlacementWhoseLeaseRanOutIsFinishedOnce: a request runs a placement
// so slowly that its lease runs out after it sold the stock, and another
// replica's recovery worker takes the placement over. The request writes
// the order; the worker, finding the checkout completed by the placement's
// own order, answers the stored order and voids nothing.
func TestAPlacementWhoseLeaseRanOutIsFinishedOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		clk := clock.NewFake(time.Now())
		g := &gates{}
		tuning := &orders.Tuning{AfterStep: g.afterStep}
		svcs := make([]*service.Service, 2)
		replicas := make([]*env, 2)
		for i := range replicas {
			replicas[i] = startWith(t, db, options{tuning: tuning, noProbe: true,
				extra: []fx.Option{fx.Supply(fx.Annotate(clk, fx.As(new(clock.Clock)))), fx.Populate(&svcs[i])}})
		}
		a := replicas[0]
		a.product(t, 1500, 10, "SLOW")
		c := a.checkout(t, a.cart(t, "", item{"SLOW", 1}), "")

		sold := g.hold(service.AfterCommit)
		replied := make(chan service.Reply, 1)
		go func() {
			r, err := svcs[0].PlaceOrder(ctx, "", "slow", service.PlaceRequest{CheckoutID: c.ID, PaymentMethod: "pm_card_visa"})
			if err != nil {
				t.Errorf("the slow request: %v", err)
			}
			replied <- r
		}()
		sold.wait(t, "the commit")
		clk.Advance(31 * time.Second) // the request's lease runs out
		resumed := g.hold(service.AfterResume)
		passed := make(chan struct{})
		go func() { defer close(passed); svcs[1].Recovery().Pass(ctx) }()
		resumed.wait(t, "the take-over")
		close(sold.release)
		if r := <-replied; r.Status != 201 || r.Order == nil {
			t.Fatalf("the slow request answered %d %v", r.Status, r.Err)
		}
		close(resumed.release)
		<-passed

		db2 := peekDB(t, db)
		var pays []struct{ ID, Status string }
		db2.Raw("SELECT id, status FROM payments_payments WHERE reference = ?", c.ID).Scan(&pays)
		if len(pays) != 1 || pays[0].Status != string(paymentsapi.StatusAuthorized) {
			t.Fatalf("payments %+v, want one authorization, not voided", pays)
		}
		if n := count(t, db2, "SELECT COUNT(*) FROM orders_orders WHERE checkout_id = ?", c.ID); n != 1 {
			t.Fatalf("%d orders, want 1", n)
		}
		if l := a.level(t, "SLOW"); l.OnHand != 9 || l.Reserved != 0 {
			t.Fatalf("level %+v, want 9 on hand and nothing reserved", l)
		}
	})
}

// passes runs a recovery pass of each service at once.
func passes(svcs []*service.Service) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, s := range svcs {
		wg.Go(func() { <-start; s.Recovery().Pass(ctx) })
	}
	close(start)
	wg.Wait()
}

// peekDB opens the database on its own, as an operator would.
func peekDB(t *testing.T, db testkit.DB) *gorm.DB {
	t.Helper()
	d, err := database.Open(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d.Gorm
}

func count(t *testing.T, g *gorm.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := g.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
