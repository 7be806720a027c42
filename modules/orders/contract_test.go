package orders_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Orders, run twice: against the module itself, and
// through its HTTP client (remote.go) against a real server, each in a shop
// of the real modules. Both runs assert the same outcomes, so any
// difference between the two implementations fails one of them.
func TestOrdersContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db)
			ordersContract(t, e, e.orders)
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			ordersContract(t, e, orders.NewClient(remote.NewClient(orders.Name, e.shop.URL, internalToken)))
		})
	})
}

func ordersContract(t *testing.T, e *env, ords api.Orders) {
	e.product(t, 2500, 10, "LAMP")
	e.product(t, 900, 10, "MUG")

	// A guest's placed order: as placed, without the guest token (only the
	// answer that placed it and a reader who gave it see that).
	placed := e.place(t, item{"LAMP", 2}, item{"MUG", 1})
	if placed.GuestToken == nil || placed.Status != api.StatusPlaced || len(placed.Lines) != 2 || placed.Total.Amount != 5900+api.ShippingFee ||
		placed.Payment.Status != api.PaymentAuthorized || placed.CustomerID != nil {
		t.Fatalf("placed %+v", placed)
	}
	token := *placed.GuestToken
	want := placed
	want.GuestToken = nil
	checkOrder(t, e, ords, "a placed guest order", want)

	// A customer's order, shipped: the tracking number, the payment captured.
	cust := e.register(t, "kim@example.com")
	c := e.checkout(t, e.cart(t, cust.token, item{"MUG", 2}), cust.token)
	var mine api.Order
	testkit.Expect(t, e.order(c.ID, "pm_card_mastercard", "k-kim", cust.token), http.StatusCreated).JSON(t, &mine)
	if mine.CustomerID == nil || *mine.CustomerID != cust.id || mine.GuestToken != nil {
		t.Fatalf("customer order %+v", mine)
	}
	checkOrder(t, e, ords, "a placed customer order", mine)
	var shipped api.Order
	testkit.Expect(t, e.shop.Post("/v1/admin/orders/"+mine.ID+"/ship", e.shop.AdminToken(), map[string]string{"tracking_number": "TRK-1"}),
		http.StatusOK).JSON(t, &shipped)
	if shipped.Status != api.StatusShipped || shipped.TrackingNumber == nil || *shipped.TrackingNumber != "TRK-1" ||
		shipped.Payment.Status != api.PaymentCaptured {
		t.Fatalf("shipped %+v", shipped)
	}
	checkOrder(t, e, ords, "a shipped order", shipped)

	// The guest's order, cancelled: the payment voided.
	var cancelled api.Order
	testkit.Expect(t, e.shop.Post("/v1/orders/"+placed.ID+"/cancel?token="+token, "", nil), http.StatusOK).JSON(t, &cancelled)
	if cancelled.Status != api.StatusCancelled || cancelled.Payment.Status != api.PaymentVoided {
		t.Fatalf("cancelled %+v", cancelled)
	}
	cancelled.GuestToken = nil
	checkOrder(t, e, ords, "a cancelled order", cancelled)

	// No such order.
	_, err := ords.Order(ctx, "nope")
	want404 := api.ErrOrderNotFound
	if ee := errs.As(err); ee == nil || !errors.Is(err, want404) || ee.Kind != want404.Kind || ee.Kind.Status() != http.StatusNotFound ||
		ee.Message != want404.Message || len(ee.Fields) != 0 || len(ee.Extra) != 0 {
		t.Fatalf("an unknown order: got %#v (%v), want %s (404)", ee, err, want404.Code)
	}
}

// checkOrder asserts that Order answers want, which is also what the admin
// reads of it.
func checkOrder(t *testing.T, e *env, ords api.Orders, what string, want api.Order) {
	t.Helper()
	got, err := ords.Order(ctx, want.ID)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	sameOrder(t, what, got, want)
	var admin api.Order
	testkit.Expect(t, e.shop.Get("/v1/admin/orders/"+want.ID, e.shop.AdminToken()), http.StatusOK).JSON(t, &admin)
	sameOrder(t, what+", as the admin reads it", got, admin)
}

// sameOrder compares two orders field by field, times by Equal.
func sameOrder(t *testing.T, what string, got, want api.Order) {
	t.Helper()
	g, w := got, want
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Fatalf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

// The contract of api.History, in process and over HTTP: a customer's own
// orders, newest first, a page at a time.
func TestHistoryContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db)
			historyContract(t, e, e.orders.(api.History))
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			historyContract(t, e, orders.NewClient(remote.NewClient(orders.Name, e.shop.URL, internalToken)))
		})
	})
}

func historyContract(t *testing.T, e *env, h api.History) {
	e.product(t, 900, 20, "MUG")
	kim := e.register(t, "kim@example.com")
	lee := e.register(t, "lee@example.com")
	var placed []api.Order // kim's, oldest first
	for i := range 3 {
		cartID := e.cart(t, kim.token, item{"MUG", int64(i + 1)})
		c := e.checkout(t, cartID, kim.token)
		var o api.Order
		testkit.Expect(t, e.order(c.ID, "pm_card_visa", "k-kim-"+c.ID, kim.token), http.StatusCreated).JSON(t, &o)
		placed = append(placed, o)
		// The order closes its cart by an event; until then the customer's
		// next cart would be this one.
		e.drain(t)
		testkit.Eventually(t, 5*time.Second, func() bool {
			r := e.shop.Get("/v1/carts/"+cartID, kim.token)
			return r.Status == http.StatusOK && r.Map(t)["status"] == "checked_out"
		}, "the cart of order %s is closed", o.Number)
	}
	e.place(t, item{"MUG", 1}) // a guest's: nobody's history

	// Newest first, the page as GET /v1/orders answers it.
	all, err := h.CustomerOrders(ctx, kim.id, "", 10)
	if err != nil || len(all.Items) != 3 || all.NextCursor != "" {
		t.Fatalf("CustomerOrders: %+v %v", all, err)
	}
	var list struct {
		Items []api.Order `json:"items"`
	}
	testkit.Expect(t, e.shop.Get("/v1/orders", kim.token), http.StatusOK).JSON(t, &list)
	for i, o := range all.Items {
		sameOrder(t, "order "+o.Number, o, list.Items[i])
		if o.ID != placed[2-i].ID {
			t.Fatalf("order %d is %s, want %s", i, o.Number, placed[2-i].Number)
		}
	}

	// A page at a time, following the cursor.
	var seen []string
	cursor := ""
	for range 3 {
		page, err := h.CustomerOrders(ctx, kim.id, cursor, 1)
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("a page after %q: %+v %v", cursor, page, err)
		}
		seen = append(seen, page.Items[0].ID)
		cursor = page.NextCursor
		if len(seen) < 3 && cursor == "" {
			t.Fatalf("page %d has no next cursor", len(seen))
		}
	}
	if cursor != "" || seen[0] != placed[2].ID || seen[2] != placed[0].ID {
		t.Fatalf("pages %v, last cursor %q", seen, cursor)
	}

	// Nobody else's: an empty page (a list, not null).
	none, err := h.CustomerOrders(ctx, lee.id, "", 10)
	if err != nil || none.Items == nil || len(none.Items) != 0 || none.NextCursor != "" {
		t.Fatalf("a customer without orders: %+v %v", none, err)
	}

	// Bad input, refused: never every customer's orders.
	for what, call := range map[string]func() error{
		"no customer":  func() error { _, err := h.CustomerOrders(ctx, "", "", 10); return err },
		"limit 0":      func() error { _, err := h.CustomerOrders(ctx, kim.id, "", 0); return err },
		"limit 101":    func() error { _, err := h.CustomerOrders(ctx, kim.id, "", api.MaxOrderPage+1); return err },
		"a bad cursor": func() error { _, err := h.CustomerOrders(ctx, kim.id, "nonsense", 10); return err },
	} {
		err := call()
		if e := errs.As(err); e == nil || e.Kind != errs.KindValidation || !errors.Is(err, errs.Invalid()) {
			t.Fatalf("%s: %v", what, err)
		}
	}
}
