package inventory_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/testkit"
)

// 100 buyers race for 10 units: exactly 10 get one, on both databases.
func TestNoOversellUnderRace(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.stock(t, "HOT", 10)
		var won, lost atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 100 {
			wg.Go(func() {
				<-start
				_, err := e.inv.Reserve(ctx, fmt.Sprintf("r%03d", i), lines("HOT", 1), time.Minute)
				switch {
				case err == nil:
					won.Add(1)
				case errs.HasCode(err, "out_of_stock"):
					lost.Add(1)
				default:
					t.Errorf("reserve: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if won.Load() != 10 || lost.Load() != 90 {
			t.Fatalf("%d reservations succeeded and %d were out of stock; want 10 and 90", won.Load(), lost.Load())
		}
		wantLevel(t, e, "HOT", 10, 10)
		e.checkLedger(t, "HOT")
		e.checkEvents(t, "HOT")
		if n := len(e.ledger(t, "HOT")); n != 11 {
			t.Fatalf("ledger has %d entries, want the initial adjustment and 10 holds", n)
		}
		// Exactly the 10 winners hold stock: committing every id sells 10.
		sold := 0
		for i := range 100 {
			err := e.inv.Commit(ctx, fmt.Sprintf("r%03d", i))
			switch {
			case err == nil:
				sold++
			case !errs.HasCode(err, "not_found"):
				t.Fatalf("commit: %v", err)
			}
		}
		if sold != 10 {
			t.Fatalf("%d reservations could be committed, want 10", sold)
		}
		wantLevel(t, e, "HOT", 0, 0)
		e.checkLedger(t, "HOT")
		e.checkEvents(t, "HOT")
	})
}

// Many concurrent holds of one SKU with stock for all (the hot path, which
// groups them into shared transactions): each is its own reservation, with
// its own ledger entry, and the events end at the level.
func TestConcurrentHoldsOfOneSKU(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.stock(t, "HOT", 1000)
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				id := fmt.Sprintf("h%03d", i)
				r, err := e.inv.Reserve(ctx, id, lines("HOT", 1+i%3), time.Minute)
				if err != nil || r.ID != id || r.Lines[0].Quantity != int64(1+i%3) {
					t.Errorf("reserve %s = %+v, %v", id, r, err)
				}
			})
		}
		wg.Wait()
		wantLevel(t, e, "HOT", 1000, 399) // 67 holds of 1, 67 of 2, 66 of 3
		refs := map[string]bool{}
		for _, a := range e.ledger(t, "HOT") {
			if a.Reason == "reserve" {
				refs[a.Reference] = true
			}
		}
		if len(refs) != 200 {
			t.Fatalf("%d reservations in the ledger, want 200", len(refs))
		}
		e.checkLedger(t, "HOT")
		e.checkEvents(t, "HOT")
		for i := range 200 {
			if err := e.inv.Commit(ctx, fmt.Sprintf("h%03d", i)); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
		wantLevel(t, e, "HOT", 1000-399, 0)
	})
}

// Multi-line reservations in opposite orders, releases, commits and admin
// removals racing on two SKUs: no deadlock, no negative stock, and the
// ledger still sums to each level.
func TestMixedWritersStayConsistent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.stock(t, "X", 40)
		e.stock(t, "Y", 40)
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Go(func() {
				id := fmt.Sprintf("m%02d", i)
				ls := lines("X", 1, "Y", 2)
				if i%2 == 1 {
					ls = lines("Y", 2, "X", 1)
				}
				_, err := e.inv.Reserve(ctx, id, ls, time.Minute)
				if err != nil && !errs.HasCode(err, "out_of_stock") {
					t.Errorf("reserve: %v", err)
					return
				}
				if err != nil {
					return
				}
				if i%3 == 0 {
					err = e.inv.Release(ctx, id)
				} else {
					err = e.inv.Commit(ctx, id)
				}
				if err != nil {
					t.Errorf("finish %s: %v", id, err)
				}
			})
			wg.Go(func() {
				_, _, err := e.admin.Adjust(ctx, []string{"X", "Y"}[i%2], -1, "shrinkage", "test", "")
				if err != nil && !errs.HasCode(err, "conflict") {
					t.Errorf("adjust: %v", err)
				}
			})
		}
		wg.Wait()
		for _, sku := range []string{"X", "Y"} {
			l := e.level(t, sku)
			if l.OnHand < 0 || l.Reserved != 0 || l.Available != l.OnHand {
				t.Errorf("%s ends at %+v", sku, l)
			}
			e.checkLedger(t, sku)
		}
	})
}

// Concurrent retries of one Reserve hold stock once.
func TestConcurrentRetriesHoldOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.stock(t, "A", 100)
		var wg sync.WaitGroup
		results := make([]api.Reservation, 20)
		for i := range results {
			wg.Go(func() {
				r, err := e.inv.Reserve(ctx, "same", lines("A", 3), time.Minute)
				if err != nil {
					t.Errorf("reserve: %v", err)
				}
				results[i] = r
			})
		}
		wg.Wait()
		for _, r := range results[1:] {
			if !r.CreatedAt.Equal(results[0].CreatedAt) || r.ID != "same" {
				t.Fatalf("retries returned different reservations: %+v vs %+v", r, results[0])
			}
		}
		wantLevel(t, e, "A", 100, 3)
		e.checkLedger(t, "A")
	})
}

// The same keyed adjustment sent 20 times at once (a client retrying on
// timeouts) changes the stock once and records one ledger entry.
func TestConcurrentKeyedAdjustmentsApplyOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.stock(t, "K", 10)
		var wg sync.WaitGroup
		ids := make([]string, 20)
		for i := range ids {
			wg.Go(func() {
				a, _, err := e.admin.Adjust(ctx, "K", 5, "delivery", "test", "same-key")
				if err != nil {
					t.Errorf("adjust: %v", err)
				}
				ids[i] = a.ID
			})
		}
		wg.Wait()
		for _, id := range ids[1:] {
			if id != ids[0] {
				t.Fatalf("the requests returned different adjustments: %q", ids)
			}
		}
		wantLevel(t, e, "K", 15, 0)
		e.checkLedger(t, "K")
	})
}

// A Commit racing the sweeper over an expired reservation: exactly one of
// them wins, and the stock is given back or sold exactly once.
func TestCommitRacingTheSweeper(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.stock(t, "A", 50)
		for i := range 20 {
			if _, err := e.inv.Reserve(ctx, fmt.Sprintf("c%02d", i), lines("A", 1), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 5 {
				if _, err := e.svc.ExpireDue(ctx); err != nil {
					t.Errorf("sweep: %v", err)
				}
			}
		})
		e.clock.Advance(time.Minute) // every reservation is due now
		var sold atomic.Int64
		for i := range 20 {
			wg.Go(func() {
				err := e.inv.Commit(ctx, fmt.Sprintf("c%02d", i))
				switch {
				case err == nil:
					sold.Add(1)
				case !errs.HasCode(err, "checkout_expired"):
					t.Errorf("commit: %v", err)
				}
			})
		}
		wg.Wait()
		if _, err := e.svc.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		wantLevel(t, e, "A", 50-sold.Load(), 0)
		e.checkLedger(t, "A")
	})
}

// Holds of scarce and plentiful SKUs racing at once (so batches mix them):
// a SKU that runs out refuses exactly its extra holds and holds up no other.
func TestScarceSKUsInMixedBatches(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		var skus []string
		for i := range 8 {
			e.stock(t, fmt.Sprintf("SCARCE-%d", i), 2)
			e.stock(t, fmt.Sprintf("PLENTY-%d", i), 1000)
			skus = append(skus, fmt.Sprintf("SCARCE-%d", i), fmt.Sprintf("PLENTY-%d", i))
		}
		won := make([]atomic.Int64, len(skus))
		var wg sync.WaitGroup
		for n := range 20 {
			for i, sku := range skus {
				wg.Go(func() {
					_, err := e.inv.Reserve(ctx, fmt.Sprintf("%s-%02d", sku, n), lines(sku, 1), time.Minute)
					switch {
					case err == nil:
						won[i].Add(1)
					case !errs.HasCode(err, "out_of_stock"):
						t.Errorf("reserve: %v", err)
					}
				})
			}
		}
		wg.Wait()
		for i, sku := range skus {
			want := int64(20)
			if i%2 == 0 {
				want = 2
			}
			if won[i].Load() != want {
				t.Errorf("%s: %d holds succeeded, want %d", sku, won[i].Load(), want)
			}
			wantLevel(t, e, sku, map[bool]int64{true: 2, false: 1000}[i%2 == 0], want)
			e.checkLedger(t, sku)
		}
		// A refused hold left no reservation behind.
		committed := 0
		for n := range 20 {
			if err := e.inv.Commit(ctx, fmt.Sprintf("SCARCE-0-%02d", n)); err == nil {
				committed++
			} else if !errs.HasCode(err, "not_found") {
				t.Fatalf("commit: %v", err)
			}
		}
		if committed != 2 {
			t.Fatalf("%d reservations of SCARCE-0 exist, want 2", committed)
		}
	})
}
