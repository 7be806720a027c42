package inventory_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// replica starts another inventory process on e's database and clock.
func (e *env) replica(t *testing.T, db testkit.DB) *env {
	t.Helper()
	r := &env{up: &upstream{}, clock: e.clock}
	return r.run(t, db, fx.Supply(fx.Annotate(e.clock, fx.As(new(clock.Clock)))),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer { return r.up.consumer() }))
}

// TestSweepersOfReplicasExpireEachReservationOnce: two inventory processes
// on one database, 50 reservations past their time, and the sweeps of both
// at once (their own sweepers run meanwhile too): every reservation is
// expired exactly once, its stock given back exactly once, and exactly one
// inventory.reservation_expired.v1 per reservation is in the outbox.
func TestSweepersOfReplicasExpireEachReservationOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		a := start(t, db)
		b := a.replica(t, db)
		skus := []string{"SW-0", "SW-1", "SW-2", "SW-3", "SW-4"}
		for _, sku := range skus {
			a.stock(t, sku, 1000)
		}
		const n = 50
		linesOf := map[string]int{}
		for i := range n {
			id := fmt.Sprintf("sweep-%02d", i)
			ls := lines(skus[i%5], 1+i%3)
			if i%4 == 0 { // some hold two SKUs
				ls = lines(skus[i%5], 2, skus[(i+1)%5], 1)
			}
			linesOf[id] = len(ls)
			if _, err := []*env{a, b}[i%2].inv.Reserve(ctx, id, ls, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		for _, sku := range skus {
			if l := a.level(t, sku); l.Reserved == 0 {
				t.Fatalf("%s: nothing reserved before the sweep", sku)
			}
		}

		a.clock.Advance(2 * time.Minute)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, e := range []*env{a, b, a, b} {
			wg.Go(func() {
				<-start
				if _, err := e.svc.ExpireDue(ctx); err != nil {
					t.Errorf("sweep: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()

		g := peek(t, db)
		var expired int64
		g.Raw("SELECT COUNT(*) FROM inventory_reservations WHERE status = 'expired'").Scan(&expired)
		if expired != n {
			t.Fatalf("%d reservations expired, want %d", expired, n)
		}
		for id, k := range linesOf {
			var entries, events int64
			g.Raw("SELECT COUNT(*) FROM inventory_adjustments WHERE reason = 'expire' AND reference = ?", id).Scan(&entries)
			g.Raw("SELECT COUNT(*) FROM inventory_outbox WHERE name = ? AND event_key = ?", api.EventReservationExpired, id).Scan(&events)
			if entries != int64(k) || events != 1 {
				t.Fatalf("%s: %d ledger entries and %d events of its expiry, want %d and 1", id, entries, events, k)
			}
		}
		for _, sku := range skus {
			wantLevel(t, a, sku, 1000, 0)
			a.checkLedger(t, sku)
		}
	})
}

// peek opens the database on its own, as an operator would.
func peek(t *testing.T, db testkit.DB) *gorm.DB {
	t.Helper()
	d, err := database.Open(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d.Gorm
}
