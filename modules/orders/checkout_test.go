package orders_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/testkit"
)

func TestCheckoutFreezesTheCartAndHoldsItsStock(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 1500, 10, "TEE-S", "TEE-M")
		cartID := e.cart(t, "", item{"TEE-S", 2}, item{"TEE-M", 1})
		before := time.Now()
		c := e.checkout(t, cartID, "")
		if c.Status != api.CheckoutOpen || c.CartID != cartID || c.Email != "ann@example.com" || c.CustomerID != nil {
			t.Fatalf("checkout %+v", c)
		}
		if c.ShippingAddress.Country != "DE" || c.ShippingAddress.Name != "Ann Lee" {
			t.Fatalf("address not normalized: %+v", c.ShippingAddress)
		}
		if len(c.Lines) != 2 || c.Subtotal.Amount != 4500 || c.Shipping.Amount != 500 || c.Total.Amount != 5000 || c.Total.Currency != "EUR" {
			t.Fatalf("lines and totals: %+v", c)
		}
		for _, l := range c.Lines {
			if l.UnitPrice.Amount != 1500 || l.LineTotal.Amount != 1500*l.Quantity || l.Title == "" {
				t.Fatalf("line %+v", l)
			}
		}
		if ttl := c.ExpiresAt.Sub(before); ttl < 14*time.Minute || ttl > 16*time.Minute {
			t.Fatalf("expires in %s, want the default 15m", ttl)
		}
		if l := e.level(t, "TEE-S"); l.Reserved != 2 || l.Available != 8 {
			t.Fatalf("TEE-S level %+v: 2 must be held", l)
		}
		var got api.Checkout
		testkit.Expect(t, e.shop.Get("/v1/checkouts/"+c.ID, ""), http.StatusOK).JSON(t, &got)
		if got.ID != c.ID || got.Total != c.Total || got.Status != api.CheckoutOpen {
			t.Fatalf("GET checkout %+v", got)
		}
		// A price change after checkout does not change the frozen lines.
		testkit.ExpectProblem(t, e.shop.Get("/v1/checkouts/chk_nope", ""), http.StatusNotFound, "not_found")
	})
}

func TestShippingIsFreeFromTenThousand(t *testing.T) {
	e := start(t, testkit.SQLite(t))
	e.product(t, 5000, 10, "BAG")
	e.product(t, 4999, 10, "CAP")
	free := e.checkout(t, e.cart(t, "", item{"BAG", 2}), "")
	if free.Subtotal.Amount != 10000 || free.Shipping.Amount != 0 || free.Total.Amount != 10000 {
		t.Fatalf("subtotal 10000: %+v %+v %+v", free.Subtotal, free.Shipping, free.Total)
	}
	paid := e.checkout(t, e.cart(t, "", item{"CAP", 2}), "")
	if paid.Subtotal.Amount != 9998 || paid.Shipping.Amount != 500 || paid.Total.Amount != 10498 {
		t.Fatalf("subtotal 9998: %+v %+v %+v", paid.Subtotal, paid.Shipping, paid.Total)
	}
}

func TestCheckoutRefusesBadInput(t *testing.T) {
	e := start(t, testkit.SQLite(t))
	e.product(t, 1000, 3, "MUG")
	e.product(t, 1000, 10, "PEN")
	cartID := e.cart(t, "", item{"MUG", 2}, item{"PEN", 1})
	post := func(body any) testkit.Response { return e.shop.Post("/v1/carts/"+cartID+"/checkout", "", body) }

	testkit.ExpectProblem(t, post(map[string]any{"shipping_address": address}), http.StatusUnprocessableEntity, "validation_failed")
	r := post(map[string]any{"email": "not-an-email", "shipping_address": map[string]any{"name": "A", "country": "XX"}})
	testkit.ExpectProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	fields := map[string]bool{}
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	r.JSON(t, &p)
	for _, f := range p.Errors {
		fields[f.Field] = true
	}
	for _, f := range []string{"email", "shipping_address.line1", "shipping_address.city", "shipping_address.postal_code", "shipping_address.country"} {
		if !fields[f] {
			t.Errorf("no field error for %s in %s", f, r.Body)
		}
	}
	testkit.ExpectProblem(t, post(map[string]any{"email": "a@example.com"}), http.StatusUnprocessableEntity, "validation_failed")
	testkit.ExpectProblem(t, post(`{"email": "a@example.com",`), http.StatusBadRequest, "bad_request")
	testkit.ExpectProblem(t, post(map[string]any{"email": "a@example.com", "shipping_address": address, "coupon": "X"}), http.StatusBadRequest, "bad_request")
	testkit.ExpectProblem(t, e.shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/carts/" + cartID + "/checkout", Body: `{}`, NoCType: true}),
		http.StatusUnsupportedMediaType, "unsupported_media_type")
	testkit.ExpectProblem(t, e.shop.Post("/v1/carts/nope/checkout", "", checkoutBody("a@example.com")), http.StatusNotFound, "not_found")
	if l := e.level(t, "MUG"); l.Reserved != 0 {
		t.Fatalf("a refused checkout held stock: %+v", l)
	}

	// Empty cart.
	testkit.ExpectProblem(t, e.shop.Post("/v1/carts/"+e.cart(t, "")+"/checkout", "", checkoutBody("a@example.com")),
		http.StatusUnprocessableEntity, "empty_cart")

	// Out of stock: all or nothing, and the problem names the short line.
	// Another buyer takes 2 MUGs first, leaving 1.
	e.checkout(t, e.cart(t, "", item{"MUG", 2}), "")
	r = post(checkoutBody("a@example.com"))
	testkit.ExpectProblem(t, r, http.StatusConflict, "out_of_stock")
	var oos struct {
		Unavailable []struct {
			SKU       string `json:"sku"`
			Requested int64  `json:"requested"`
			Available int64  `json:"available"`
		} `json:"unavailable"`
	}
	r.JSON(t, &oos)
	if len(oos.Unavailable) != 1 || oos.Unavailable[0].SKU != "MUG" || oos.Unavailable[0].Requested != 2 || oos.Unavailable[0].Available != 1 {
		t.Fatalf("unavailable: %s", r.Body)
	}
	if l := e.level(t, "PEN"); l.Reserved != 0 {
		t.Fatalf("PEN held although the checkout failed: %+v", l)
	}
}

func TestANewCheckoutReplacesTheOpenOne(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 1000, 5, "SOCK")
		cartID := e.cart(t, "", item{"SOCK", 3})
		first := e.checkout(t, cartID, "")
		second := e.checkout(t, cartID, "")
		if first.ID == second.ID {
			t.Fatal("the same checkout twice")
		}
		if l := e.level(t, "SOCK"); l.Reserved != 3 {
			t.Fatalf("SOCK reserved %d, want 3 (the first checkout's hold released)", l.Reserved)
		}
		var got api.Checkout
		testkit.Expect(t, e.shop.Get("/v1/checkouts/"+first.ID, ""), http.StatusOK).JSON(t, &got)
		if got.Status != api.CheckoutExpired {
			t.Fatalf("the replaced checkout is %s, want expired", got.Status)
		}
		testkit.ExpectProblem(t, e.order(first.ID, "pm_card_visa", "k1", ""), http.StatusConflict, "checkout_expired")
		testkit.Expect(t, e.order(second.ID, "pm_card_visa", "k2", ""), http.StatusCreated)
	})
}

func TestCheckoutExpiresWithItsReservation(t *testing.T) {
	e := startWith(t, testkit.SQLite(t), options{env: map[string]string{"MODSHOP_RESERVATION_TTL": "1s"}})
	e.product(t, 1000, 5, "HAT")
	c := e.checkout(t, e.cart(t, "", item{"HAT", 2}), "")
	testkit.Eventually(t, 5*time.Second, func() bool {
		var got api.Checkout
		r := e.shop.Get("/v1/checkouts/"+c.ID, "")
		r.JSON(t, &got)
		return got.Status == api.CheckoutExpired && e.level(t, "HAT").Reserved == 0
	}, "the checkout expires and its stock is released")
	testkit.ExpectProblem(t, e.order(c.ID, "pm_card_visa", "k", ""), http.StatusConflict, "checkout_expired")
	if l := e.level(t, "HAT"); l.OnHand != 5 || l.Reserved != 0 {
		t.Fatalf("HAT %+v after an expired checkout", l)
	}
}

func TestCustomerCheckoutUsesTheAccount(t *testing.T) {
	e := start(t, testkit.SQLite(t))
	e.product(t, 1000, 5, "CUP")
	ann := e.register(t, "Ann@Example.com")
	bob := e.register(t, "bob@example.com")
	cartID := e.cart(t, ann.token, item{"CUP", 1})
	// Only Ann reaches her cart and her checkout.
	testkit.ExpectProblem(t, e.shop.Post("/v1/carts/"+cartID+"/checkout", bob.token, checkoutBody("")), http.StatusNotFound, "not_found")
	testkit.ExpectProblem(t, e.shop.Post("/v1/carts/"+cartID+"/checkout", "", checkoutBody("x@example.com")), http.StatusNotFound, "not_found")
	var c api.Checkout
	testkit.Expect(t, e.shop.Post("/v1/carts/"+cartID+"/checkout", ann.token, checkoutBody("")), http.StatusCreated).JSON(t, &c)
	if c.Email != "ann@example.com" || c.CustomerID == nil || *c.CustomerID != ann.id {
		t.Fatalf("checkout %+v: the account's e-mail and id", c)
	}
	testkit.ExpectProblem(t, e.shop.Get("/v1/checkouts/"+c.ID, bob.token), http.StatusNotFound, "not_found")
	testkit.ExpectProblem(t, e.shop.Get("/v1/checkouts/"+c.ID, ""), http.StatusNotFound, "not_found")
	testkit.Expect(t, e.shop.Get("/v1/checkouts/"+c.ID, ann.token), http.StatusOK)
	// Bob cannot order from Ann's checkout.
	testkit.ExpectProblem(t, e.order(c.ID, "pm_card_visa", "k", bob.token), http.StatusNotFound, "not_found")
}

type customer struct{ id, token string }

func (e *env) register(t testing.TB, email string) customer {
	t.Helper()
	var s struct {
		Customer struct {
			ID string `json:"id"`
		} `json:"customer"`
		AccessToken string `json:"access_token"`
	}
	testkit.Expect(t, e.shop.Post("/v1/auth/register", "", map[string]string{"email": email, "password": "correct horse battery", "name": "Test"}),
		http.StatusCreated).JSON(t, &s)
	return customer{id: s.Customer.ID, token: s.AccessToken}
}
