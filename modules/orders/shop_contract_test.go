package orders_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"go.uber.org/fx"

	cartapi "github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/orders/api"
	paymentsapi "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Shop (remote_shop.go), in process and through the
// HTTP client, in a shop of the real modules: checkouts and orders as the
// public API shows them, declines and replays as its Idempotency-Key gives
// them, and orders hidden from whoever may not read them.
func TestShopContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			var shop api.Shop
			e := startWith(t, db, options{extra: []fx.Option{fx.Populate(&shop)}})
			shopContract(t, e, shop)
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			shopContract(t, e, orders.NewClient(remote.NewClient(orders.Name, e.shop.URL, internalToken)))
		})
	})
}

func shopContract(t *testing.T, e *env, shop api.Shop) {
	e.product(t, 2500, 10, "LAMP")
	addr := &api.Address{Name: "Ann Lee", Line1: "Main St 1", City: "Berlin", PostalCode: "10115", Country: "de"}

	// A guest's checkout, as GET /v1/checkouts/{id} shows it.
	cartID := e.cart(t, "", item{"LAMP", 2})
	co, err := shop.Checkout(ctx, cartID, "", api.CheckoutRequest{Email: "Ann@Example.com", ShippingAddress: addr})
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	if co.Status != api.CheckoutOpen || co.Email != "ann@example.com" || co.ShippingAddress.Country != "DE" || len(co.Lines) != 1 ||
		co.Total.Amount != 5000+api.ShippingFee || co.CustomerID != nil {
		t.Fatalf("checkout %+v", co)
	}
	var public api.Checkout
	testkit.Expect(t, e.shop.Get("/v1/checkouts/"+co.ID, ""), http.StatusOK).JSON(t, &public)
	shopSame(t, "Checkout", co, public)

	// Bad input: the fields, as the public API names them; an unknown cart.
	_, err = shop.Checkout(ctx, cartID, "", api.CheckoutRequest{Email: "nope", ShippingAddress: &api.Address{Name: "Ann"}})
	if e := errs.As(err); e == nil || e.Kind != errs.KindValidation || !shopHasField(e, "email") || !shopHasField(e, "shipping_address.line1") {
		t.Fatalf("Checkout of bad input: %#v", err)
	}
	shopSameErr(t, "Checkout of an unknown cart", shopErrOf(shop.Checkout(ctx, "nope", "", api.CheckoutRequest{Email: "a@b.de", ShippingAddress: addr})),
		cartapi.ErrCartNotFound)

	// A declined card: payments' error with the provider's code, the same
	// again for the same key; the checkout stays open for another key.
	declined := api.PlaceOrderRequest{CheckoutID: co.ID, PaymentMethod: "pm_card_chargeDeclined"}
	for range 2 {
		_, err = shop.PlaceOrder(ctx, "", "k-declined", declined)
		if e := errs.As(err); !errors.Is(err, paymentsapi.ErrDeclined) || e.Kind.Status() != http.StatusPaymentRequired || e.Extra["decline_code"] != "card_declined" {
			t.Fatalf("PlaceOrder with a declined card: %#v", err)
		}
	}
	shopSameErr(t, "PlaceOrder of the key with another body", shopErrOf(shop.PlaceOrder(ctx, "", "k-declined",
		api.PlaceOrderRequest{CheckoutID: co.ID, PaymentMethod: "pm_card_visa"})), api.ErrIdempotencyKeyReused)

	// The order, with the guest's token; the same key again: the same order.
	visa := api.PlaceOrderRequest{CheckoutID: co.ID, PaymentMethod: "pm_card_visa"}
	o, err := shop.PlaceOrder(ctx, "", "k-visa", visa)
	if err != nil || o.GuestToken == nil || o.Status != api.StatusPlaced || o.CheckoutID != co.ID || o.Payment.Brand != "visa" {
		t.Fatalf("PlaceOrder: %+v %v", o, err)
	}
	again, err := shop.PlaceOrder(ctx, "", "k-visa", visa)
	if err != nil {
		t.Fatalf("PlaceOrder again: %v", err)
	}
	shopSame(t, "PlaceOrder again", again, o)
	shopSameErr(t, "PlaceOrder with a new key", shopErrOf(shop.PlaceOrder(ctx, "", "k-late", visa)), api.ErrCheckoutCompleted)
	if list := shopAdminCount(t, e); list != 1 {
		t.Fatalf("%d orders, want 1", list)
	}

	// OrderFor: the guest with the token reads what GET /v1/orders/{id}?token= shows.
	var read api.Order
	testkit.Expect(t, e.shop.Get("/v1/orders/"+o.ID+"?token="+*o.GuestToken, ""), http.StatusOK).JSON(t, &read)
	got, err := shop.OrderFor(ctx, o.ID, "", *o.GuestToken)
	if err != nil {
		t.Fatalf("OrderFor with the token: %v", err)
	}
	shopSame(t, "OrderFor with the token", got, read)
	shopSameErr(t, "OrderFor with a wrong token", shopErrOf(shop.OrderFor(ctx, o.ID, "", "wrong")), api.ErrOrderNotFound)
	shopSameErr(t, "OrderFor without a token", shopErrOf(shop.OrderFor(ctx, o.ID, "", "")), api.ErrOrderNotFound)
	shopSameErr(t, "OrderFor of a guest order by a customer", shopErrOf(shop.OrderFor(ctx, o.ID, "cust-x", "")), api.ErrOrderNotFound)
	shopSameErr(t, "OrderFor of no order", shopErrOf(shop.OrderFor(ctx, "nope", "", "")), api.ErrOrderNotFound)

	// A customer's checkout takes the account's e-mail; the order answers
	// its customer alone.
	kim := e.register(t, "kim@example.com")
	kco, err := shop.Checkout(ctx, e.cart(t, kim.token, item{"LAMP", 1}), kim.id, api.CheckoutRequest{ShippingAddress: addr})
	if err != nil || kco.Email != "kim@example.com" || kco.CustomerID == nil || *kco.CustomerID != kim.id {
		t.Fatalf("a customer's Checkout: %+v %v", kco, err)
	}
	shopSameErr(t, "PlaceOrder of a customer's checkout by a guest", shopErrOf(shop.PlaceOrder(ctx, "", "k-kim",
		api.PlaceOrderRequest{CheckoutID: kco.ID, PaymentMethod: "pm_card_visa"})), api.ErrCheckoutNotFound)
	ko, err := shop.PlaceOrder(ctx, kim.id, "k-kim", api.PlaceOrderRequest{CheckoutID: kco.ID, PaymentMethod: "pm_card_mastercard"})
	if err != nil || ko.CustomerID == nil || *ko.CustomerID != kim.id || ko.GuestToken != nil {
		t.Fatalf("a customer's PlaceOrder: %+v %v", ko, err)
	}
	testkit.Expect(t, e.shop.Get("/v1/orders/"+ko.ID, kim.token), http.StatusOK).JSON(t, &read)
	got, err = shop.OrderFor(ctx, ko.ID, kim.id, "")
	if err != nil {
		t.Fatalf("OrderFor by its customer: %v", err)
	}
	shopSame(t, "OrderFor by its customer", got, read)
	shopSameErr(t, "OrderFor by another customer", shopErrOf(shop.OrderFor(ctx, ko.ID, "cust-x", "")), api.ErrOrderNotFound)
	shopSameErr(t, "OrderFor of a customer's order by a guest", shopErrOf(shop.OrderFor(ctx, ko.ID, "", "")), api.ErrOrderNotFound)
}

func shopErrOf[T any](_ T, err error) error { return err }

func shopHasField(e *errs.Error, name string) bool {
	for _, f := range e.Fields {
		if f.Field == name {
			return true
		}
	}
	return false
}

// sameErr checks an error's identity, status and message.
func shopSameErr(t *testing.T, what string, err error, want *errs.Error) {
	t.Helper()
	e := errs.As(err)
	if e == nil || !errors.Is(err, want) || e.Kind != want.Kind || e.Message != want.Message {
		t.Fatalf("%s: got %#v (%v), want %s", what, e, err, want.Code)
	}
}

// same compares two values through their JSON, times by instant.
func shopSame[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	var g, w any
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	_ = json.Unmarshal(gj, &g)
	_ = json.Unmarshal(wj, &w)
	shopNormalizeTimes(g)
	shopNormalizeTimes(w)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

// normalizeTimes rewrites RFC 3339 strings in a decoded JSON value as UTC
// instants, so one instant in two zones compares equal.
func shopNormalizeTimes(v any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			if s, ok := x.(string); ok {
				if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
					m[k] = tm.UTC().Format(time.RFC3339Nano)
				}
				continue
			}
			shopNormalizeTimes(x)
		}
	}
	if a, ok := v.([]any); ok {
		for _, x := range a {
			shopNormalizeTimes(x)
		}
	}
}

func shopAdminCount(t *testing.T, e *env) int {
	t.Helper()
	var list struct{ Items []api.Order }
	testkit.Expect(t, e.shop.Get("/v1/admin/orders", e.shop.AdminToken()), http.StatusOK).JSON(t, &list)
	return len(list.Items)
}
