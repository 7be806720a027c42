package orders_test

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/orders/api"
	paymentsapi "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/testkit"
)

var numberPattern = regexp.MustCompile(`^MS-\d{6,}$`)

func TestPlacingAGuestOrder(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 2500, 10, "LAMP")
		cartID := e.cart(t, "", item{"LAMP", 3})
		c := e.checkout(t, cartID, "")
		r := testkit.Expect(t, e.order(c.ID, "pm_card_mastercard", "key-1", ""), http.StatusCreated)
		var o api.Order
		r.JSON(t, &o)
		if o.Status != api.StatusPlaced || !numberPattern.MatchString(o.Number) || o.CustomerID != nil || o.Email != "ann@example.com" {
			t.Fatalf("order %+v", o)
		}
		if o.Total.Amount != 8000 || o.Shipping.Amount != 500 || o.Subtotal.Amount != 7500 {
			t.Fatalf("totals %+v %+v %+v", o.Subtotal, o.Shipping, o.Total)
		}
		if o.Subtotal.Amount+o.Shipping.Amount != o.Total.Amount || len(o.Lines) != 1 || o.Lines[0].Quantity != 3 || o.ShippingAddress.City != "Berlin" {
			t.Fatalf("order copy of the checkout: %+v", o)
		}
		if o.Payment.Status != api.PaymentAuthorized || o.Payment.Brand != "mastercard" || o.Payment.ID == "" {
			t.Fatalf("payment %+v", o.Payment)
		}
		if o.GuestToken == nil || len(*o.GuestToken) < 43 {
			t.Fatalf("a guest order carries a guest_token of 256 bits: %v", o.GuestToken)
		}
		// The reservation became a sale.
		if l := e.level(t, "LAMP"); l.OnHand != 7 || l.Reserved != 0 {
			t.Fatalf("LAMP %+v after the order", l)
		}
		var done api.Checkout
		testkit.Expect(t, e.shop.Get("/v1/checkouts/"+c.ID, ""), http.StatusOK).JSON(t, &done)
		if done.Status != api.CheckoutCompleted || done.OrderID == nil || *done.OrderID != o.ID {
			t.Fatalf("checkout after the order: %+v", done)
		}
		// The guest reads it with the token, nobody reads it without.
		var got api.Order
		testkit.Expect(t, e.shop.Get("/v1/orders/"+o.ID+"?token="+*o.GuestToken, ""), http.StatusOK).JSON(t, &got)
		if got.ID != o.ID || got.Number != o.Number || got.GuestToken == nil {
			t.Fatalf("guest read %+v", got)
		}
		testkit.ExpectProblem(t, e.shop.Get("/v1/orders/"+o.ID, ""), http.StatusNotFound, "not_found")
		testkit.ExpectProblem(t, e.shop.Get("/v1/orders/"+o.ID+"?token=wrong", ""), http.StatusNotFound, "not_found")
		testkit.ExpectProblem(t, e.shop.Get("/v1/orders/"+o.ID, e.shop.Token("someone", "customer")), http.StatusNotFound, "not_found")
		// The cart closes on order_placed; the payment is authorized once.
		testkit.Eventually(t, 5*time.Second, func() bool {
			var cart struct {
				Status string `json:"status"`
			}
			e.shop.Get("/v1/carts/"+cartID, "").JSON(t, &cart)
			return cart.Status == "checked_out" && e.probe.count(api.EventOrderPlaced) == 1
		}, "the cart is checked out and order_placed published")
		testkit.Eventually(t, 5*time.Second, func() bool {
			s := e.probe.paymentStatuses(o.Payment.ID)
			return len(s) == 1 && s[0] == paymentsapi.StatusAuthorized
		}, "one payment_authorized for %s (got %v)", o.Payment.ID, e.probe.paymentStatuses(o.Payment.ID))
		// A checked-out cart cannot be checked out again.
		testkit.ExpectProblem(t, e.shop.Post("/v1/carts/"+cartID+"/checkout", "", checkoutBody("a@example.com")), http.StatusConflict, "checkout_completed")
	})
}

func TestOrderRequestsAreIdempotent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 1000, 10, "BOOK")
		c := e.checkout(t, e.cart(t, "", item{"BOOK", 1}), "")

		testkit.ExpectProblem(t, e.order(c.ID, "pm_card_visa", "", ""), http.StatusBadRequest, "idempotency_key_missing")
		first := testkit.Expect(t, e.order(c.ID, "pm_card_visa", "abc", ""), http.StatusCreated)
		again := testkit.Expect(t, e.order(c.ID, "pm_card_visa", "abc", ""), http.StatusCreated)
		var a, b api.Order
		first.JSON(t, &a)
		again.JSON(t, &b)
		if a.ID != b.ID || a.Number != b.Number || *a.GuestToken != *b.GuestToken {
			t.Fatalf("the same key gave two answers: %s / %s", first.Body, again.Body)
		}
		if again.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatal("a replayed answer says so, the first does not")
		}
		testkit.ExpectProblem(t, e.order(c.ID, "pm_card_mastercard", "abc", ""), http.StatusUnprocessableEntity, "idempotency_key_reused")
		testkit.ExpectProblem(t, e.order(c.ID, "pm_card_visa", "other-key", ""), http.StatusConflict, "checkout_completed")
		if l := e.level(t, "BOOK"); l.OnHand != 9 || l.Reserved != 0 {
			t.Fatalf("BOOK %+v: one unit sold", l)
		}
		// A key is the caller's: a customer's "abc" is not the guest's.
		cust := e.register(t, "kim@example.com")
		cc := e.checkout(t, e.cart(t, cust.token, item{"BOOK", 1}), cust.token)
		var o api.Order
		testkit.Expect(t, e.order(cc.ID, "pm_card_visa", "abc", cust.token), http.StatusCreated).JSON(t, &o)
		if o.ID == a.ID || o.CustomerID == nil || *o.CustomerID != cust.id || o.GuestToken != nil {
			t.Fatalf("customer order %+v", o)
		}
		e.drain(t)
		testkit.Eventually(t, 5*time.Second, func() bool { return e.probe.count(paymentsapi.EventPaymentAuthorized) == 2 },
			"two authorizations for two orders (got %d)", e.probe.count(paymentsapi.EventPaymentAuthorized))
	})
}

func TestDeclinedPaymentKeepsTheCheckoutOpen(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 1000, 4, "KITE")
		c := e.checkout(t, e.cart(t, "", item{"KITE", 2}), "")
		for i, m := range []string{"pm_card_chargeDeclined", "pm_card_insufficientFunds"} {
			testkit.ExpectProblem(t, e.order(c.ID, m, fmt.Sprintf("declined-%d", i), ""), http.StatusPaymentRequired, "payment_declined")
		}
		// The stored answer again, and no second authorization attempt.
		testkit.ExpectProblem(t, e.order(c.ID, "pm_card_chargeDeclined", "declined-0", ""), http.StatusPaymentRequired, "payment_declined")
		testkit.ExpectProblem(t, e.order(c.ID, "pm_bitcoin", "unknown-method", ""), http.StatusUnprocessableEntity, "validation_failed")
		testkit.ExpectProblem(t, e.order(c.ID, "", "no-method", ""), http.StatusUnprocessableEntity, "validation_failed")
		var open api.Checkout
		testkit.Expect(t, e.shop.Get("/v1/checkouts/"+c.ID, ""), http.StatusOK).JSON(t, &open)
		if open.Status != api.CheckoutOpen {
			t.Fatalf("after declines the checkout is %s, want open", open.Status)
		}
		if l := e.level(t, "KITE"); l.Reserved != 2 || l.OnHand != 4 {
			t.Fatalf("KITE %+v: the reservation is kept after a decline", l)
		}
		var o api.Order
		testkit.Expect(t, e.order(c.ID, "pm_card_visa", "visa", ""), http.StatusCreated).JSON(t, &o)
		if o.Payment.Brand != "visa" {
			t.Fatalf("payment %+v", o.Payment)
		}
		if l := e.level(t, "KITE"); l.Reserved != 0 || l.OnHand != 2 {
			t.Fatalf("KITE %+v after the order", l)
		}
		testkit.Eventually(t, 5*time.Second, func() bool {
			return e.probe.count(paymentsapi.EventPaymentFailed) == 2 && e.probe.count(paymentsapi.EventPaymentAuthorized) == 1
		}, "two payment_failed and one payment_authorized (got %d, %d)", e.probe.count(paymentsapi.EventPaymentFailed), e.probe.count(paymentsapi.EventPaymentAuthorized))
		testkit.ExpectProblem(t, e.order("chk_unknown", "pm_card_visa", "unknown-checkout", ""), http.StatusNotFound, "not_found")
		testkit.ExpectProblem(t, e.shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/orders", Header: map[string]string{"Idempotency-Key": "bad-json"},
			Body: `{"checkout_id": 7}`}), http.StatusBadRequest, "bad_request")
	})
}

func TestCustomerOrders(t *testing.T) {
	e := start(t, testkit.SQLite(t))
	e.product(t, 1000, 50, "PAD")
	ann := e.register(t, "ann@example.com")
	bob := e.register(t, "bob@example.com")
	var ids []string
	for i := range 3 {
		cartID := e.cart(t, ann.token, item{"PAD", 1})
		c := e.checkout(t, cartID, ann.token)
		var o api.Order
		testkit.Expect(t, e.order(c.ID, "pm_card_visa", fmt.Sprintf("ann-%d", i), ann.token), http.StatusCreated).JSON(t, &o)
		ids = append(ids, o.ID)
		testkit.Eventually(t, 5*time.Second, func() bool {
			var cart struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			e.shop.Get("/v1/me/cart", ann.token).JSON(t, &cart)
			return cart.Status == "active" && cart.ID != cartID
		}, "a fresh cart after the order")
	}
	var page struct {
		Items      []api.Order `json:"items"`
		NextCursor *string     `json:"next_cursor"`
	}
	testkit.Expect(t, e.shop.Get("/v1/orders?limit=2", ann.token), http.StatusOK).JSON(t, &page)
	if len(page.Items) != 2 || page.Items[0].ID != ids[2] || page.Items[1].ID != ids[1] || page.NextCursor == nil {
		t.Fatalf("first page %+v", page)
	}
	cursor := *page.NextCursor
	page.Items, page.NextCursor = nil, nil
	testkit.Expect(t, e.shop.Get("/v1/orders?limit=2&cursor="+cursor, ann.token), http.StatusOK).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != ids[0] || page.NextCursor != nil {
		t.Fatalf("second page %+v", page)
	}
	testkit.Expect(t, e.shop.Get("/v1/orders", bob.token), http.StatusOK).JSON(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("Bob sees %d orders", len(page.Items))
	}
	testkit.ExpectProblem(t, e.shop.Get("/v1/orders/"+ids[0], bob.token), http.StatusNotFound, "not_found")
	testkit.Expect(t, e.shop.Get("/v1/orders/"+ids[0], ann.token), http.StatusOK)
	testkit.ExpectProblem(t, e.shop.Get("/v1/orders", ""), http.StatusUnauthorized, "unauthorized")
	testkit.ExpectProblem(t, e.shop.Get("/v1/orders?cursor=zzz", ann.token), http.StatusUnprocessableEntity, "validation_failed")
	testkit.ExpectProblem(t, e.shop.Get("/v1/orders?limit=0", ann.token), http.StatusUnprocessableEntity, "validation_failed")
	// Bob cannot cancel Ann's order; Ann can.
	testkit.ExpectProblem(t, e.shop.Post("/v1/orders/"+ids[0]+"/cancel", bob.token, nil), http.StatusNotFound, "not_found")
	var o api.Order
	testkit.Expect(t, e.shop.Post("/v1/orders/"+ids[0]+"/cancel", ann.token, nil), http.StatusOK).JSON(t, &o)
	if o.Status != api.StatusCancelled || o.Payment.Status != api.PaymentVoided {
		t.Fatalf("cancelled order %+v", o)
	}
}

func TestOrderLifecycle(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 1000, 20, "RUG")
		admin := e.shop.AdminToken()
		post := func(path string, body any) testkit.Response { return e.shop.Post(path, admin, body) }

		// placed → shipped → delivered → refunded.
		o := e.place(t, item{"RUG", 2})
		testkit.ExpectProblem(t, post("/v1/admin/orders/"+o.ID+"/ship", map[string]any{}), http.StatusUnprocessableEntity, "validation_failed")
		testkit.ExpectProblem(t, post("/v1/admin/orders/"+o.ID+"/deliver", nil), http.StatusConflict, "invalid_state")
		testkit.ExpectProblem(t, post("/v1/admin/orders/"+o.ID+"/refund", nil), http.StatusConflict, "invalid_state")
		var got api.Order
		testkit.Expect(t, post("/v1/admin/orders/"+o.ID+"/ship", map[string]any{"tracking_number": "TRK-1"}), http.StatusOK).JSON(t, &got)
		if got.Status != api.StatusShipped || got.Payment.Status != api.PaymentCaptured || got.TrackingNumber == nil || *got.TrackingNumber != "TRK-1" {
			t.Fatalf("shipped %+v", got)
		}
		testkit.ExpectProblem(t, post("/v1/admin/orders/"+o.ID+"/cancel", nil), http.StatusConflict, "invalid_state")
		testkit.ExpectProblem(t, post("/v1/admin/orders/"+o.ID+"/ship", map[string]any{"tracking_number": "TRK-2"}), http.StatusConflict, "invalid_state")
		testkit.Expect(t, post("/v1/admin/orders/"+o.ID+"/deliver", nil), http.StatusOK).JSON(t, &got)
		if got.Status != api.StatusDelivered {
			t.Fatalf("delivered %+v", got)
		}
		testkit.Expect(t, post("/v1/admin/orders/"+o.ID+"/refund", nil), http.StatusOK).JSON(t, &got)
		if got.Status != api.StatusRefunded || got.Payment.Status != api.PaymentRefunded {
			t.Fatalf("refunded %+v", got)
		}
		testkit.ExpectProblem(t, post("/v1/admin/orders/"+o.ID+"/refund", nil), http.StatusConflict, "invalid_state")
		pay, err := e.payments.Payment(ctx, o.Payment.ID)
		if err != nil || pay.Status != paymentsapi.StatusRefunded || pay.Amount != o.Total.Amount {
			t.Fatalf("payment %+v, %v", pay, err)
		}

		// placed → cancelled: voided, stock back on hand.
		before := e.level(t, "RUG")
		c := e.place(t, item{"RUG", 3})
		testkit.Expect(t, post("/v1/admin/orders/"+c.ID+"/cancel", nil), http.StatusOK).JSON(t, &got)
		if got.Status != api.StatusCancelled || got.Payment.Status != api.PaymentVoided {
			t.Fatalf("cancelled %+v", got)
		}
		if l := e.level(t, "RUG"); l.OnHand != before.OnHand || l.Reserved != 0 {
			t.Fatalf("RUG %+v after cancel, want on_hand %d again", l, before.OnHand)
		}
		for _, cmd := range []string{"cancel", "deliver", "refund"} {
			testkit.ExpectProblem(t, post("/v1/admin/orders/"+c.ID+"/"+cmd, nil), http.StatusConflict, "invalid_state")
		}
		testkit.ExpectProblem(t, post("/v1/admin/orders/"+c.ID+"/ship", map[string]any{"tracking_number": "T"}), http.StatusConflict, "invalid_state")
		testkit.ExpectProblem(t, e.shop.Post("/v1/orders/"+c.ID+"/cancel?token="+*c.GuestToken, "", nil), http.StatusConflict, "invalid_state")

		// A guest cancels with the token.
		g := e.place(t, item{"RUG", 1})
		testkit.ExpectProblem(t, e.shop.Post("/v1/orders/"+g.ID+"/cancel", "", nil), http.StatusNotFound, "not_found")
		testkit.Expect(t, e.shop.Post("/v1/orders/"+g.ID+"/cancel?token="+*g.GuestToken, "", nil), http.StatusOK).JSON(t, &got)
		if got.Status != api.StatusCancelled {
			t.Fatalf("guest cancel %+v", got)
		}

		// Admin reads and lists; shoppers may not.
		var list struct {
			Items []api.Order `json:"items"`
		}
		testkit.Expect(t, e.shop.Get("/v1/admin/orders?status=cancelled", admin), http.StatusOK).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].ID != g.ID || list.Items[1].ID != c.ID {
			t.Fatalf("cancelled orders %+v", list.Items)
		}
		testkit.ExpectProblem(t, e.shop.Get("/v1/admin/orders?status=lost", admin), http.StatusUnprocessableEntity, "validation_failed")
		testkit.Expect(t, e.shop.Get("/v1/admin/orders/"+o.ID, admin), http.StatusOK)
		testkit.ExpectProblem(t, e.shop.Get("/v1/admin/orders/ord_nope", admin), http.StatusNotFound, "not_found")
		testkit.ExpectProblem(t, e.shop.Get("/v1/admin/orders", ""), http.StatusUnauthorized, "unauthorized")
		testkit.ExpectProblem(t, e.shop.Get("/v1/admin/orders", e.shop.Token("c1", "customer")), http.StatusForbidden, "forbidden")
		testkit.ExpectProblem(t, e.shop.Post("/v1/admin/orders/"+o.ID+"/deliver", e.shop.Token("c1", "customer"), nil), http.StatusForbidden, "forbidden")

		// Every transition was announced once.
		e.drain(t)
		testkit.Eventually(t, 5*time.Second, func() bool {
			return e.probe.count(api.EventOrderShipped) == 1 && e.probe.count(api.EventOrderDelivered) == 1 &&
				e.probe.count(api.EventOrderRefunded) == 1 && e.probe.count(api.EventOrderCancelled) == 2 &&
				e.probe.count(paymentsapi.EventPaymentCaptured) == 1 && e.probe.count(paymentsapi.EventPaymentRefunded) == 1 &&
				e.probe.count(paymentsapi.EventPaymentVoided) == 2
		}, "the events of every transition")
	})
}
