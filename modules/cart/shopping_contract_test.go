package cart_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/modshop/modshop/modules/cart"
	"github.com/modshop/modshop/modules/cart/api"
	inventoryapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Shopping (remote_shopping.go), in process and
// through the HTTP client: each answer is the cart the public API shows
// afterwards, and each refusal the public API's error.
func TestShoppingContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db, true)
			shoppingContract(t, e, cart.Local(e.svc))
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db), true)
			shoppingContract(t, e, cart.NewClient(remote.NewClient(cart.Name, e.shop.URL, internalToken)))
		})
	})
}

func shoppingContract(t *testing.T, e *env, shop api.Shopping) {
	ctx := context.Background()
	e.products(t, 1999, 50, "TEE", "MUG")
	must := func(c api.Cart, err error) api.Cart {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// A guest cart: made empty, lines added (the same SKU adds up),
	// changed and removed; each answer is what GET /v1/carts/{id} shows.
	guest := must(shop.Create(ctx, ""))
	if guest.CustomerID != nil || guest.Status != api.StatusActive || guest.Items == nil || len(guest.Items) != 0 {
		t.Fatalf("a new guest cart: %+v", guest)
	}
	sameCart(t, "Create", guest, cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK))
	must(shop.AddItem(ctx, guest.ID, "", api.NewItem{SKU: "TEE", Quantity: 2}))
	if again := must(shop.AddItem(ctx, guest.ID, "", api.NewItem{SKU: "TEE", Quantity: 1})); len(again.Items) != 1 || again.Items[0].Quantity != 3 {
		t.Fatalf("adding a SKU the cart holds adds to its line: %+v", again)
	}
	got := must(shop.AddItem(ctx, guest.ID, "", api.NewItem{SKU: "MUG", Quantity: 1}))
	if len(got.Items) != 2 || got.Items[0].SKU != "TEE" || got.Items[0].Quantity != 3 || got.ItemCount != 4 || got.Subtotal.Amount != 4*1999 {
		t.Fatalf("after three adds: %+v", got)
	}
	sameCart(t, "AddItem", got, cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK))
	tee, mug := got.Items[0].ID, got.Items[1].ID
	got = must(shop.UpdateItem(ctx, guest.ID, "", api.ItemChange{ItemID: tee, Quantity: 5}))
	if got.Items[0].Quantity != 5 || got.ItemCount != 6 {
		t.Fatalf("after UpdateItem: %+v", got)
	}
	sameCart(t, "UpdateItem", got, cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK))
	got = must(shop.UpdateItem(ctx, guest.ID, "", api.ItemChange{ItemID: mug, Quantity: 0}))
	if len(got.Items) != 1 || got.Items[0].SKU != "TEE" {
		t.Fatalf("after UpdateItem to 0: %+v", got)
	}
	got = must(shop.RemoveItem(ctx, guest.ID, "", tee))
	if len(got.Items) != 0 || got.ItemCount != 0 {
		t.Fatalf("after RemoveItem: %+v", got)
	}
	sameCart(t, "RemoveItem", got, cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK))

	// Refusals, the public API's errors; none changes the cart.
	wantErr(t, "RemoveItem of a removed line", second(shop.RemoveItem(ctx, guest.ID, "", tee)), api.ErrItemNotFound, 404)
	wantErr(t, "UpdateItem of a removed line", second(shop.UpdateItem(ctx, guest.ID, "", api.ItemChange{ItemID: tee, Quantity: 1})), api.ErrItemNotFound, 404)
	wantErr(t, "AddItem of an unknown SKU", second(shop.AddItem(ctx, guest.ID, "", api.NewItem{SKU: "NOPE", Quantity: 1})), api.ErrUnknownSKU, 404)
	wantErr(t, "AddItem to an unknown cart", second(shop.AddItem(ctx, "nope", "", api.NewItem{SKU: "TEE", Quantity: 1})), api.ErrCartNotFound, 404)
	_, err := shop.AddItem(ctx, guest.ID, "", api.NewItem{SKU: "TEE", Quantity: 0})
	if e := errs.As(err); e == nil || e.Kind != errs.KindValidation || len(e.Fields) != 1 || e.Fields[0].Field != "quantity" {
		t.Fatalf("AddItem of quantity 0: %#v", err)
	}
	_, err = shop.AddItem(ctx, guest.ID, "", api.NewItem{SKU: "TEE", Quantity: 60})
	if e := errs.As(err); !errors.Is(err, inventoryapi.ErrOutOfStock) || e.Kind.Status() != http.StatusConflict || e.Extra["unavailable"] == nil {
		t.Fatalf("AddItem beyond the stock: %#v", err)
	}
	sameCart(t, "after the refusals", got, cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK))

	// A customer's cart: made on first use, once; Create for a customer is
	// that cart; it answers its owner alone.
	ann := e.shop.Token("cust-ann", "customer")
	mine := must(shop.MyCart(ctx, "cust-ann"))
	if mine.CustomerID == nil || *mine.CustomerID != "cust-ann" {
		t.Fatalf("MyCart: %+v", mine)
	}
	if again := must(shop.Create(ctx, "cust-ann")); again.ID != mine.ID {
		t.Fatalf("Create for a customer made cart %s, not the customer's %s", again.ID, mine.ID)
	}
	got = must(shop.AddItem(ctx, mine.ID, "cust-ann", api.NewItem{SKU: "MUG", Quantity: 2}))
	sameCart(t, "the customer's cart", got, cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK))
	wantErr(t, "AddItem to another's cart", second(shop.AddItem(ctx, mine.ID, "cust-bob", api.NewItem{SKU: "MUG", Quantity: 1})), api.ErrCartNotFound, 404)
	wantErr(t, "AddItem to a customer's cart by a guest", second(shop.AddItem(ctx, mine.ID, "", api.NewItem{SKU: "MUG", Quantity: 1})), api.ErrCartNotFound, 404)
	wantErr(t, "RemoveItem from another's cart", second(shop.RemoveItem(ctx, mine.ID, "cust-bob", got.Items[0].ID)), api.ErrCartNotFound, 404)
	sameCart(t, "MyCart again", must(shop.MyCart(ctx, "cust-ann")), got)
}
