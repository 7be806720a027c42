package cart_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// TestCleanersOfReplicasDeleteEachStaleCartOnce: the cleaners of two
// processes on one database delete, at once, 700 carts untouched for 30
// days (more than a batch): every stale cart and its lines are
// gone, each counted by exactly one of them, and every cart touched since
// is there.
func TestCleanersOfReplicasDeleteEachStaleCartOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		a := start(t, db, true)
		b := startOn(t, db, a.clock)
		a.product(t, "A", 1000, 1_000_000)
		const stale, fresh = 700, 30
		var made sync.WaitGroup
		for w := range 4 {
			made.Go(func() {
				for i := w; i < stale; i += 4 {
					r := a.shop.Post("/v1/carts", "", nil)
					var c struct{ ID string }
					if err := json.Unmarshal(r.Body, &c); err != nil || r.Status != http.StatusCreated {
						t.Errorf("new cart: %d %s", r.Status, r.Body)
						return
					}
					if i%20 == 0 {
						if r := add(a, c.ID, "", "A", 1); r.Status != http.StatusCreated {
							t.Errorf("add: %d %s", r.Status, r.Body)
						}
					}
				}
			})
		}
		made.Wait()
		a.clock.Advance(29 * 24 * time.Hour)
		for i := range fresh {
			c := newGuestCart(t, a)
			if i%3 == 0 {
				cartOf(t, add(a, c.ID, "", "A", 1), http.StatusCreated)
			}
		}
		a.clock.Advance(24*time.Hour + time.Second)

		ctx := context.Background()
		deleted := make([]int, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, e := range []*env{a, b} {
			wg.Go(func() {
				<-start
				n, err := e.svc.DeleteStale(ctx)
				if err != nil {
					t.Errorf("cleanup: %v", err)
				}
				deleted[i] = n
			})
		}
		close(start)
		wg.Wait()
		t.Logf("deleted %d and %d", deleted[0], deleted[1])
		if deleted[0]+deleted[1] != stale {
			t.Fatalf("the cleaners deleted %d and %d carts, want %d in all", deleted[0], deleted[1], stale)
		}
		d, err := database.Open(db.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		for query, want := range map[string]int64{
			"SELECT COUNT(*) FROM cart_carts": fresh,
			"SELECT COUNT(*) FROM cart_items": fresh / 3,
			"SELECT COUNT(*) FROM cart_items i WHERE NOT EXISTS (SELECT 1 FROM cart_carts c WHERE c.id = i.cart_id)": 0,
		} {
			var n int64
			if err := d.Gorm.Raw(query).Scan(&n).Error; err != nil || n != want {
				t.Errorf("%s = %d (%v), want %d", query, n, err, want)
			}
		}
	})
}
