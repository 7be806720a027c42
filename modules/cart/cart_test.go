package cart_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/modshop/modshop/modules/cart/api"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventoryapi "github.com/modshop/modshop/modules/inventory/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// cartOf decodes a Cart answer after checking its status.
func cartOf(t *testing.T, r testkit.Response, status int) api.Cart {
	t.Helper()
	var c api.Cart
	testkit.Expect(t, r, status).JSON(t, &c)
	return c
}

func newGuestCart(t *testing.T, e *env) api.Cart {
	t.Helper()
	return cartOf(t, e.shop.Post("/v1/carts", "", nil), http.StatusCreated)
}

func add(e *env, cartID, token, sku string, q int) testkit.Response {
	return e.shop.Post("/v1/carts/"+cartID+"/items", token, map[string]any{"sku": sku, "quantity": q})
}

func patch(e *env, cartID, itemID, token string, body any) testkit.Response {
	return e.shop.Do(testkit.Req{Method: http.MethodPatch, Path: "/v1/carts/" + cartID + "/items/" + itemID, Token: token, Body: body})
}

func del(e *env, cartID, itemID, token string) testkit.Response {
	return e.shop.Do(testkit.Req{Method: http.MethodDelete, Path: "/v1/carts/" + cartID + "/items/" + itemID, Token: token})
}

func eur(a int64) string { return fmt.Sprintf("{%d EUR}", a) }

func TestGuestCart(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db, false)
		e.product(t, "TEE-M", 1999, 50)
		e.product(t, "MUG", 899, 50)

		c := newGuestCart(t, e)
		if len(c.ID) < 26 || c.CustomerID != nil || c.Status != api.StatusActive || len(c.Items) != 0 || c.ItemCount != 0 ||
			eur(c.Subtotal.Amount) != fmt.Sprint(c.Subtotal) {
			t.Fatalf("new guest cart = %+v", c)
		}
		raw := e.shop.Get("/v1/carts/"+c.ID, "")
		for _, field := range []string{`"customer_id":null`, `"items":[]`, `"item_count":0`, `"subtotal":{"amount":0,"currency":"EUR"}`, `"updated_at":"`} {
			if !strings.Contains(string(raw.Body), field) {
				t.Errorf("GET cart body lacks %s: %s", field, raw.Body)
			}
		}

		c = cartOf(t, add(e, c.ID, "", "TEE-M", 2), http.StatusCreated)
		c = cartOf(t, add(e, c.ID, "", "MUG", 1), http.StatusCreated)
		c = cartOf(t, add(e, c.ID, "", "TEE-M", 3), http.StatusCreated) // the same SKU adds up
		if len(c.Items) != 2 || c.ItemCount != 6 || c.Subtotal.Amount != 5*1999+899 {
			t.Fatalf("cart after adds = %+v", c)
		}
		tee := c.Items[0]
		if tee.SKU != "TEE-M" || tee.Quantity != 5 || tee.VariantID != "v-TEE-M" || tee.ProductID != "p-TEE-M" ||
			tee.Title != "Product TEE-M – Blue" || tee.UnitPrice.Amount != 1999 || tee.LineTotal.Amount != 5*1999 ||
			tee.LineTotal.Currency != "EUR" || !tee.Available || tee.ID == "" {
			t.Fatalf("line = %+v", tee)
		}

		c = cartOf(t, patch(e, c.ID, tee.ID, "", map[string]any{"quantity": 1}), http.StatusOK)
		if c.Items[0].Quantity != 1 || c.Subtotal.Amount != 1999+899 {
			t.Fatalf("after patch: %+v", c)
		}
		c = cartOf(t, patch(e, c.ID, tee.ID, "", map[string]any{"quantity": 0}), http.StatusOK)
		if len(c.Items) != 1 || c.Items[0].SKU != "MUG" {
			t.Fatalf("quantity 0 does not remove the line: %+v", c)
		}
		testkit.ExpectProblem(t, patch(e, c.ID, tee.ID, "", map[string]any{"quantity": 2}), 404, "not_found")
		testkit.ExpectProblem(t, del(e, c.ID, tee.ID, ""), 404, "not_found")
		c = cartOf(t, del(e, c.ID, c.Items[0].ID, ""), http.StatusOK)
		if len(c.Items) != 0 || c.Subtotal.Amount != 0 {
			t.Fatalf("after delete: %+v", c)
		}
		testkit.ExpectProblem(t, e.shop.Get("/v1/carts/"+strings.Repeat("a", 26), ""), 404, "not_found")
	})
}

func TestCartValidation(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t), false)
	e.product(t, "A", 500, 200)
	e.product(t, "FEW", 500, 3)
	e.product(t, "DRAFT", 500, 10)
	e.catalog.set("DRAFT", func(v *catalog.VariantInfo) { v.ProductStatus = catalog.StatusDraft })
	c := newGuestCart(t, e)

	for _, q := range []any{0, 101, -1} {
		testkit.ExpectProblem(t, add(e, c.ID, "", "A", q.(int)), 422, "validation_failed")
	}
	testkit.ExpectProblem(t, e.shop.Post("/v1/carts/"+c.ID+"/items", "", map[string]any{"sku": "A"}), 422, "validation_failed")
	testkit.ExpectProblem(t, e.shop.Post("/v1/carts/"+c.ID+"/items", "", map[string]any{"quantity": 1}), 422, "validation_failed")
	testkit.ExpectProblem(t, e.shop.Post("/v1/carts/"+c.ID+"/items", "", map[string]any{"sku": "A", "quantity": 1, "x": 1}), 400, "bad_request")
	testkit.ExpectProblem(t, e.shop.Post("/v1/carts/"+c.ID+"/items", "", map[string]any{"sku": "A", "quantity": "1"}), 400, "bad_request")
	testkit.ExpectProblem(t, e.shop.Do(testkit.Req{Method: "POST", Path: "/v1/carts/" + c.ID + "/items", Body: `{"sku":"A","quantity":1}`, NoCType: true}), 415, "unsupported_media_type")
	testkit.ExpectProblem(t, add(e, c.ID, "", "NOPE", 1), 404, "unknown_sku")
	testkit.ExpectProblem(t, add(e, c.ID, "", "DRAFT", 1), 404, "unknown_sku")
	testkit.ExpectProblem(t, add(e, "no-such-cart", "", "A", 1), 404, "not_found")

	// 409 out_of_stock names the line, with what is requested and available.
	r := add(e, c.ID, "", "FEW", 4)
	testkit.ExpectProblem(t, r, 409, "out_of_stock")
	if !strings.Contains(string(r.Body), `"unavailable":[{"sku":"FEW","requested":4,"available":3}]`) {
		t.Fatalf("out_of_stock body: %s", r.Body)
	}
	c = cartOf(t, add(e, c.ID, "", "FEW", 2), http.StatusCreated)
	testkit.ExpectProblem(t, add(e, c.ID, "", "FEW", 2), 409, "out_of_stock") // 2 + 2 > 3
	testkit.ExpectProblem(t, patch(e, c.ID, c.Items[0].ID, "", map[string]any{"quantity": 4}), 409, "out_of_stock")
	// The check reserves nothing: availability is unchanged.
	if lv, _ := e.inv.Availability(context.Background(), []string{"FEW"}); lv["FEW"].Reserved != 0 {
		t.Fatalf("adding to a cart reserved stock: %+v", lv["FEW"])
	}

	// A line holds at most 100.
	c = cartOf(t, add(e, c.ID, "", "A", 60), http.StatusCreated)
	testkit.ExpectProblem(t, add(e, c.ID, "", "A", 41), 422, "validation_failed")
	cartOf(t, add(e, c.ID, "", "A", 40), http.StatusCreated)
	item := c.Items[1].ID
	for _, body := range []map[string]any{{"quantity": 101}, {"quantity": -1}, {}} {
		testkit.ExpectProblem(t, patch(e, c.ID, item, "", body), 422, "validation_failed")
	}
}

func TestCustomerCartIsPrivate(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db, false)
		e.product(t, "A", 1000, 10)
		ann, bob := e.shop.Token("cust-ann", "customer"), e.shop.Token("cust-bob", "customer")

		owned := cartOf(t, e.shop.Post("/v1/carts", ann, nil), http.StatusCreated)
		if owned.CustomerID == nil || *owned.CustomerID != "cust-ann" {
			t.Fatalf("a cart made with a token is not the customer's: %+v", owned)
		}
		cartOf(t, add(e, owned.ID, ann, "A", 1), http.StatusCreated)
		mine := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK)
		again := cartOf(t, e.shop.Post("/v1/carts", ann, nil), http.StatusCreated)
		if mine.ID != owned.ID || again.ID != owned.ID || mine.ItemCount != 1 {
			t.Fatalf("one active cart per customer: %s, %s, %s", owned.ID, mine.ID, again.ID)
		}

		// Another customer or a guest learns nothing about it.
		for _, token := range []string{bob, "", e.shop.AdminToken()} {
			testkit.ExpectProblem(t, e.shop.Get("/v1/carts/"+owned.ID, token), 404, "not_found")
			testkit.ExpectProblem(t, add(e, owned.ID, token, "A", 1), 404, "not_found")
			testkit.ExpectProblem(t, del(e, owned.ID, mine.Items[0].ID, token), 404, "not_found")
		}
		testkit.ExpectProblem(t, e.shop.Get("/v1/me/cart", ""), 401, "unauthorized")
		testkit.ExpectProblem(t, e.shop.Get("/v1/carts/"+owned.ID, "not-a-token"), 401, "unauthorized")

		// Concurrent first visits create one cart.
		cat := e.shop.Token("cust-cat", "customer")
		ids := make([]string, 10)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				r := e.shop.Get("/v1/me/cart", cat)
				if r.Status != 200 {
					t.Errorf("GET /v1/me/cart: %d %s", r.Status, r.Body)
					return
				}
				var c api.Cart
				r.JSON(t, &c)
				ids[i] = c.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent first visits made several carts: %v", ids)
			}
		}
	})
}

func TestPricesAreReadAtEachRead(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t), false)
	e.products(t, 1000, 10, "A", "B", "C")
	c := newGuestCart(t, e)
	for _, sku := range []string{"A", "B", "C"} {
		cartOf(t, add(e, c.ID, "", sku, 2), http.StatusCreated)
	}

	e.catalog.set("A", func(v *catalog.VariantInfo) { v.Price.Amount = 1500 })
	before := e.catalog.calls.Load()
	c = cartOf(t, e.shop.Get("/v1/carts/"+c.ID, ""), http.StatusOK)
	if n := e.catalog.calls.Load() - before; n != 1 {
		t.Fatalf("one cart read asked the catalog %d times, want 1 batch", n)
	}
	if c.Items[0].UnitPrice.Amount != 1500 || c.Items[0].LineTotal.Amount != 3000 || c.Subtotal.Amount != 3000+2000+2000 {
		t.Fatalf("the new price does not show at once: %+v", c)
	}

	e.catalog.set("B", func(v *catalog.VariantInfo) { v.ProductStatus = catalog.StatusArchived })
	e.catalog.set("C", func(v *catalog.VariantInfo) { v.ProductStatus = catalog.StatusDraft })
	c = cartOf(t, e.shop.Get("/v1/carts/"+c.ID, ""), http.StatusOK)
	b, cc := c.Items[1], c.Items[2]
	if len(c.Items) != 3 || b.Available || b.UnavailableReason != api.ReasonArchived || b.LineTotal.Amount != 0 || b.Title == "" ||
		cc.Available || cc.UnavailableReason != api.ReasonUnpublished || c.Subtotal.Amount != 3000 || c.ItemCount != 6 {
		t.Fatalf("unsellable lines must stay, flagged, out of the subtotal: %+v", c)
	}
	e.catalog.remove("C")
	c = cartOf(t, e.shop.Get("/v1/carts/"+c.ID, ""), http.StatusOK)
	if c.Items[2].Available || c.Items[2].UnavailableReason != api.ReasonUnknown || c.Items[2].SKU != "C" {
		t.Fatalf("a SKU the catalog forgot: %+v", c.Items[2])
	}
	// A flagged line can be lowered or removed, not grown.
	cartOf(t, patch(e, c.ID, b.ID, "", map[string]any{"quantity": 1}), http.StatusOK)
	testkit.ExpectProblem(t, patch(e, c.ID, b.ID, "", map[string]any{"quantity": 3}), 404, "unknown_sku")
	cartOf(t, del(e, c.ID, b.ID, ""), http.StatusOK)
}

func TestMergeGuestCart(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db, false)
		e.product(t, "PLENTY", 100, 1000)
		e.product(t, "SCARCE", 100, 5)
		e.product(t, "GUESTONLY", 100, 10)
		ann := e.shop.Token("cust-ann", "customer")

		mine := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK)
		cartOf(t, add(e, mine.ID, ann, "PLENTY", 98), http.StatusCreated)
		cartOf(t, add(e, mine.ID, ann, "SCARCE", 4), http.StatusCreated)
		guest := newGuestCart(t, e)
		cartOf(t, add(e, guest.ID, "", "PLENTY", 5), http.StatusCreated)
		cartOf(t, add(e, guest.ID, "", "SCARCE", 2), http.StatusCreated)
		cartOf(t, add(e, guest.ID, "", "GUESTONLY", 3), http.StatusCreated)

		merged := cartOf(t, e.shop.Post("/v1/me/cart/merge", ann, map[string]any{"cart_id": guest.ID}), http.StatusOK)
		got := map[string]int64{}
		for _, it := range merged.Items {
			got[it.SKU] = it.Quantity
		}
		// 98+5 capped at 100; 4+2 capped at the 5 available; 3 added.
		if merged.ID != mine.ID || got["PLENTY"] != 100 || got["SCARCE"] != 5 || got["GUESTONLY"] != 3 || len(got) != 3 {
			t.Fatalf("merged cart = %v (%+v)", got, merged)
		}
		g := cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK)
		if g.Status != api.StatusMerged {
			t.Fatalf("guest cart status %q, want merged", g.Status)
		}
		// A retry is harmless; the merged guest cart takes no writes.
		again := cartOf(t, e.shop.Post("/v1/me/cart/merge", ann, map[string]any{"cart_id": guest.ID}), http.StatusOK)
		if fmt.Sprint(again.Items) != fmt.Sprint(merged.Items) {
			t.Fatalf("merging twice changed the cart: %+v", again.Items)
		}
		testkit.ExpectProblem(t, add(e, guest.ID, "", "PLENTY", 1), 409, "conflict")
		bob := e.shop.Token("cust-bob", "customer")
		testkit.ExpectProblem(t, e.shop.Post("/v1/me/cart/merge", bob, map[string]any{"cart_id": guest.ID}), 409, "conflict")

		// Only guest carts merge; another's cart is not found.
		testkit.ExpectProblem(t, e.shop.Post("/v1/me/cart/merge", bob, map[string]any{"cart_id": mine.ID}), 404, "not_found")
		testkit.ExpectProblem(t, e.shop.Post("/v1/me/cart/merge", ann, map[string]any{"cart_id": mine.ID}), 409, "conflict")
		testkit.ExpectProblem(t, e.shop.Post("/v1/me/cart/merge", ann, map[string]any{"cart_id": "nope"}), 404, "not_found")
		testkit.ExpectProblem(t, e.shop.Post("/v1/me/cart/merge", ann, map[string]any{}), 422, "validation_failed")
		testkit.ExpectProblem(t, e.shop.Post("/v1/me/cart/merge", "", map[string]any{"cart_id": guest.ID}), 401, "unauthorized")
	})
}

// publishRaw hands one message to the transport as the relay would, so a
// test can deliver the same message id twice.
func publishRaw(t *testing.T, e *env, id string, ev events.Event) {
	t.Helper()
	payload := fmt.Sprintf(`{"order_id":"o-1","number":"1001","cart_id":%q,"customer_id":null,"lines":[],"placed_at":"2026-03-01T12:00:00Z"}`,
		ev.(orders.OrderPlaced).CartID)
	msg := message.NewMessage(id, []byte(payload))
	msg.Metadata.Set("name", ev.EventName())
	msg.Metadata.Set("key", ev.EventKey())
	if err := e.shop.Runtime.Bus().Transport().Publisher().Publish(events.Topic("orders"), msg); err != nil {
		t.Fatal(err)
	}
}

func TestCartClosesWhenItsOrderIsPlaced(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db, true)
		e.product(t, "A", 1000, 10)
		ann := e.shop.Token("cust-ann", "customer")
		c := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK)
		cartOf(t, add(e, c.ID, ann, "A", 1), http.StatusCreated)

		// Through the orders module's outbox, as orders will publish it.
		err := e.orders.Transact(context.Background(), func(tx *events.Tx) error {
			return tx.Publish(orders.OrderPlaced{OrderID: "o-1", Number: "1001", CartID: c.ID, CustomerID: c.CustomerID,
				Lines: []orders.OrderLine{{SKU: "A", Quantity: 1}}, PlacedAt: t0})
		})
		if err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 5*time.Second, func() bool {
			return cartOf(t, e.shop.Get("/v1/carts/"+c.ID, ann), http.StatusOK).Status == api.StatusCheckedOut
		}, "the cart is checked out")
		testkit.ExpectProblem(t, add(e, c.ID, ann, "A", 1), 409, "conflict")
		next := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK)
		if next.ID == c.ID || next.Status != api.StatusActive || len(next.Items) != 0 {
			t.Fatalf("after checkout the customer gets a fresh cart, got %+v", next)
		}

		// A redelivered event is recognised by the inbox and changes nothing.
		guest := newGuestCart(t, e)
		publishRaw(t, e, "msg-1", orders.OrderPlaced{CartID: guest.ID})
		closed := cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK)
		e.clock.Advance(time.Hour)
		publishRaw(t, e, "msg-1", orders.OrderPlaced{CartID: guest.ID})
		after := cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK)
		if closed.Status != api.StatusCheckedOut || !after.UpdatedAt.Equal(closed.UpdatedAt) || after.Status != closed.Status {
			t.Fatalf("redelivery changed the cart: %+v then %+v", closed, after)
		}
		metrics := string(e.shop.Get("/metrics", "").Body)
		if !strings.Contains(metrics, `modshop_events_duplicates_total{consumer="cart.checkout"} 1`) {
			t.Fatalf("the redelivery did not reach the inbox as a duplicate:\n%s", grep(metrics, "cart.checkout"))
		}
	})
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestStaleCartsAreDeleted(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db, true)
		e.product(t, "A", 1000, 10)
		old := newGuestCart(t, e)
		cartOf(t, add(e, old.ID, "", "A", 1), http.StatusCreated)
		kept := newGuestCart(t, e)
		ctx := context.Background()

		e.clock.Advance(29 * 24 * time.Hour)
		cartOf(t, add(e, kept.ID, "", "A", 1), http.StatusCreated) // touched on day 29
		if n, err := e.svc.DeleteStale(ctx); err != nil || n != 0 {
			t.Fatalf("deleted %d (%v) before any cart was 30 days old", n, err)
		}
		e.clock.Advance(24*time.Hour + time.Second) // old: 30 days and a second untouched
		if n, err := e.svc.DeleteStale(ctx); err != nil || n != 1 {
			t.Fatalf("deleted %d (%v), want the one stale cart", n, err)
		}
		testkit.ExpectProblem(t, e.shop.Get("/v1/carts/"+old.ID, ""), 404, "not_found")
		if c := cartOf(t, e.shop.Get("/v1/carts/"+kept.ID, ""), http.StatusOK); c.ItemCount != 1 {
			t.Fatalf("the recently touched cart changed: %+v", c)
		}
		// Reading a cart does not keep it alive; only changes do.
		e.clock.Advance(30 * 24 * time.Hour)
		if n, err := e.svc.DeleteStale(ctx); err != nil || n != 1 {
			t.Fatalf("deleted %d (%v), want 1", n, err)
		}
	})
}

// The api the orders module will use.
func TestCartsAPI(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t), false)
	e.product(t, "A", 1000, 10)
	ann := e.shop.Token("cust-ann", "customer")
	owned := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK)
	cartOf(t, add(e, owned.ID, ann, "A", 2), http.StatusCreated)
	var carts api.Carts = e.svc
	ctx := context.Background()
	c, err := carts.Cart(ctx, owned.ID)
	if err != nil || c.Subtotal.Amount != 2000 || len(c.Items) != 1 || !c.AccessibleBy("cust-ann") || c.AccessibleBy("cust-bob") || c.AccessibleBy("") {
		t.Fatalf("Cart = %+v, %v", c, err)
	}
	if _, err := carts.CartFor(ctx, owned.ID, "cust-bob"); err == nil || err.Error() != api.ErrCartNotFound.Error() {
		t.Fatalf("CartFor another customer = %v, want not found", err)
	}
	if _, err := carts.Cart(ctx, "nope"); err == nil {
		t.Fatal("an unknown cart was found")
	}
	var _ inventoryapi.Inventory = e.inv // the real inventory answers availability here
}
