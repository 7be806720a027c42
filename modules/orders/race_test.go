package orders_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/orders/api"
	paymentsapi "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/testkit"
)

// 200 buyers race for 20 units of one SKU: each checks out, then sends its
// order request three times at once with one key. Exactly 20 orders, 20
// units sold, 20 authorizations; each winner's three answers name one order.
func TestTwoHundredBuyersTwentyUnits(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 1999, 20, "HOT")
		const buyers = 200
		var outOfStock, placed atomic.Int64
		orderIDs := make([]string, buyers)
		var wg sync.WaitGroup
		startGun := make(chan struct{})
		for b := range buyers {
			cartID := e.cart(t, "", item{"HOT", 1})
			wg.Go(func() {
				<-startGun
				r := e.shop.Post("/v1/carts/"+cartID+"/checkout", "", checkoutBody(fmt.Sprintf("buyer%d@example.com", b)))
				switch {
				case r.Status == http.StatusConflict && r.Code() == "out_of_stock":
					outOfStock.Add(1)
					return
				case r.Status != http.StatusCreated:
					t.Errorf("buyer %d checkout: %d %s", b, r.Status, r.Body)
					return
				}
				var c api.Checkout
				if err := jsonDecode(r.Body, &c); err != nil {
					t.Errorf("buyer %d: %v", b, err)
					return
				}
				key := fmt.Sprintf("buyer-%d", b)
				answers := make([]testkit.Response, 3)
				var same sync.WaitGroup
				for i := range answers {
					same.Go(func() { answers[i] = e.order(c.ID, "pm_card_visa", key, "") })
				}
				same.Wait()
				var id string
				for _, a := range answers {
					switch {
					case a.Status == http.StatusCreated:
						var o api.Order
						_ = jsonDecode(a.Body, &o)
						if id != "" && o.ID != id {
							t.Errorf("buyer %d got two orders: %s and %s", b, id, o.ID)
						}
						id = o.ID
					case a.Status == http.StatusConflict && a.Code() == "request_in_progress":
					default:
						t.Errorf("buyer %d order: %d %s", b, a.Status, a.Body)
					}
				}
				if id == "" {
					// All three raced into "in progress": the key's answer
					// comes with the next retry.
					deadline := time.Now().Add(10 * time.Second)
					for id == "" && time.Now().Before(deadline) {
						a := e.order(c.ID, "pm_card_visa", key, "")
						if a.Status == http.StatusCreated {
							var o api.Order
							_ = jsonDecode(a.Body, &o)
							id = o.ID
						}
						time.Sleep(20 * time.Millisecond)
					}
				}
				if id == "" {
					t.Errorf("buyer %d has a checkout but no order", b)
					return
				}
				orderIDs[b] = id
				placed.Add(1)
			})
		}
		close(startGun)
		wg.Wait()
		if placed.Load() != 20 || outOfStock.Load() != 180 {
			t.Fatalf("%d orders placed and %d buyers out of stock; want 20 and 180", placed.Load(), outOfStock.Load())
		}
		if l := e.level(t, "HOT"); l.OnHand != 0 || l.Reserved != 0 {
			t.Fatalf("HOT %+v: 20 units sold, nothing held", l)
		}
		var list struct {
			Items      []api.Order `json:"items"`
			NextCursor *string     `json:"next_cursor"`
		}
		testkit.Expect(t, e.shop.Get("/v1/admin/orders?limit=100", e.shop.AdminToken()), http.StatusOK).JSON(t, &list)
		if len(list.Items) != 20 || list.NextCursor != nil {
			t.Fatalf("%d orders in the shop, want 20", len(list.Items))
		}
		numbers := map[string]bool{}
		for _, o := range list.Items {
			if numbers[o.Number] {
				t.Fatalf("order number %s twice", o.Number)
			}
			numbers[o.Number] = true
		}
		e.drain(t)
		testkit.Eventually(t, 10*time.Second, func() bool {
			return e.probe.count(paymentsapi.EventPaymentAuthorized) == 20 && e.probe.count(api.EventOrderPlaced) == 20
		}, "20 authorizations and 20 order_placed (got %d and %d)", e.probe.count(paymentsapi.EventPaymentAuthorized), e.probe.count(api.EventOrderPlaced))
	})
}
