package cart_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/cart"
	"github.com/modshop/modshop/modules/cart/api"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Carts, run twice: against the module itself, and
// through its HTTP client (remote.go) against a real server. Both runs
// assert the same outcomes, so any difference between the two
// implementations fails one of them.
func TestCartsContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db, true)
			cartsContract(t, e, e.carts)
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db), true)
			cartsContract(t, e, cart.NewClient(remote.NewClient(cart.Name, e.shop.URL, internalToken)))
		})
	})
}

func cartsContract(t *testing.T, e *env, carts api.Carts) {
	ctx := context.Background()
	e.products(t, 1999, 50, "TEE", "OLD")
	e.product(t, "MUG", 899, 50)

	// An empty guest cart: items is an empty list, not null.
	empty := newGuestCart(t, e)
	got, err := carts.Cart(ctx, empty.ID)
	if err != nil || got.Items == nil || len(got.Items) != 0 || got.CustomerID != nil || got.Subtotal != (catalog.Money{Currency: "EUR"}) {
		t.Fatalf("empty cart: %+v %v", got, err)
	}
	sameCart(t, "Cart of an empty guest cart", got, cartOf(t, e.shop.Get("/v1/carts/"+empty.ID, ""), http.StatusOK))

	// A guest cart, one of whose lines can no longer be bought: its id is
	// its capability, for a guest and a customer alike.
	guest := newGuestCart(t, e)
	cartOf(t, add(e, guest.ID, "", "TEE", 2), http.StatusCreated)
	cartOf(t, add(e, guest.ID, "", "MUG", 1), http.StatusCreated)
	cartOf(t, add(e, guest.ID, "", "OLD", 3), http.StatusCreated)
	e.catalog.set("OLD", func(v *catalog.VariantInfo) { v.ProductStatus = catalog.StatusArchived })
	want := cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK)
	if want.CustomerID != nil || want.Status != api.StatusActive || len(want.Items) != 3 || want.ItemCount != 6 ||
		want.Subtotal != (catalog.Money{Amount: 2*1999 + 899, Currency: "EUR"}) || !want.UpdatedAt.Equal(t0) ||
		want.Items[2].Available || want.Items[2].UnavailableReason != api.ReasonArchived || want.Items[2].LineTotal.Amount != 0 {
		t.Fatalf("the guest cart as the public API shows it: %+v", want)
	}
	got, err = carts.Cart(ctx, guest.ID)
	if err != nil {
		t.Fatalf("Cart of a guest cart: %v", err)
	}
	sameCart(t, "Cart of a guest cart", got, want)
	for _, caller := range []string{"", "cust-ann"} {
		got, err = carts.CartFor(ctx, guest.ID, caller)
		if err != nil {
			t.Fatalf("CartFor(guest, %q): %v", caller, err)
		}
		sameCart(t, "CartFor of a guest cart by "+caller, got, want)
	}

	// An owned cart answers its owner alone; Cart (for the orders module)
	// reads any cart.
	ann := e.shop.Token("cust-ann", "customer")
	owned := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK)
	cartOf(t, add(e, owned.ID, ann, "TEE", 1), http.StatusCreated)
	want = cartOf(t, e.shop.Get("/v1/carts/"+owned.ID, ann), http.StatusOK)
	if want.CustomerID == nil || *want.CustomerID != "cust-ann" || len(want.Items) != 1 || want.Subtotal.Amount != 1999 {
		t.Fatalf("the owned cart as the public API shows it: %+v", want)
	}
	got, err = carts.Cart(ctx, owned.ID)
	if err != nil {
		t.Fatalf("Cart of an owned cart: %v", err)
	}
	sameCart(t, "Cart of an owned cart", got, want)
	got, err = carts.CartFor(ctx, owned.ID, "cust-ann")
	if err != nil {
		t.Fatalf("CartFor(owned, owner): %v", err)
	}
	sameCart(t, "CartFor of an owned cart by its owner", got, want)
	wantErr(t, "CartFor of another customer's cart", second(carts.CartFor(ctx, owned.ID, "cust-bob")), api.ErrCartNotFound, 404)
	wantErr(t, "CartFor of an owned cart by a guest", second(carts.CartFor(ctx, owned.ID, "")), api.ErrCartNotFound, 404)
	wantErr(t, "Cart of an unknown cart", second(carts.Cart(ctx, "nope")), api.ErrCartNotFound, 404)
	wantErr(t, "CartFor of an unknown cart", second(carts.CartFor(ctx, "nope", "cust-ann")), api.ErrCartNotFound, 404)

	// A checked-out cart is still read, with its status.
	e.clock.Advance(time.Minute)
	err = e.orders.Transact(ctx, func(tx *events.Tx) error {
		return tx.Publish(orders.OrderPlaced{OrderID: "o-1", Number: "1001", CartID: owned.ID, CustomerID: want.CustomerID,
			Lines: []orders.OrderLine{{SKU: "TEE", Quantity: 1}}, PlacedAt: e.clock.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.shop.Runtime.Bus().Drain(ctx)
	testkit.Eventually(t, 5*time.Second, func() bool {
		c, err := carts.Cart(ctx, owned.ID)
		return err == nil && c.Status == api.StatusCheckedOut
	}, "the cart is checked out")
	want = cartOf(t, e.shop.Get("/v1/carts/"+owned.ID, ann), http.StatusOK)
	if want.Status != api.StatusCheckedOut || !want.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("the checked-out cart as the public API shows it: %+v", want)
	}
	got, err = carts.CartFor(ctx, owned.ID, "cust-ann")
	if err != nil {
		t.Fatalf("CartFor(checked out, owner): %v", err)
	}
	sameCart(t, "CartFor of a checked-out cart", got, want)
}

// sameCart compares two carts field by field, the time by Equal.
func sameCart(t *testing.T, what string, got, want api.Cart) {
	t.Helper()
	g, w := got, want
	g.UpdatedAt, w.UpdatedAt = time.Time{}, time.Time{}
	if !got.UpdatedAt.Equal(want.UpdatedAt) || !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Fatalf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

func second[T any](_ T, err error) error { return err }

// wantErr checks what survives the wire of an error: its code, kind and
// HTTP status, message, field errors and extra members.
func wantErr(t *testing.T, what string, err error, want *errs.Error, status int) {
	t.Helper()
	e := errs.As(err)
	if e == nil || !errors.Is(err, want) || e.Kind != want.Kind || e.Kind.Status() != status || e.Message != want.Message ||
		!reflect.DeepEqual(e.Fields, want.Fields) || len(e.Extra) != 0 {
		t.Fatalf("%s: got %#v (%v), want %s (%d)", what, e, err, want.Code, status)
	}
}

// The contract of api.Merger, in process and over HTTP: a guest cart's
// lines move into the customer's cart once, capped at what is available.
func TestMergeContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db, true)
			mergeContract(t, e, cart.Local(e.svc))
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db), true)
			mergeContract(t, e, cart.NewClient(remote.NewClient(cart.Name, e.shop.URL, internalToken)))
		})
	})
}

func mergeContract(t *testing.T, e *env, m api.Merger) {
	ctx := context.Background()
	e.product(t, "TEE", 1999, 5)
	e.product(t, "MUG", 899, 50)
	ann := e.shop.Token("cust-ann", "customer")
	owned := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK)
	cartOf(t, add(e, owned.ID, ann, "TEE", 1), http.StatusCreated)
	guest := newGuestCart(t, e)
	cartOf(t, add(e, guest.ID, "", "TEE", 2), http.StatusCreated)
	cartOf(t, add(e, guest.ID, "", "MUG", 1), http.StatusCreated)

	got, err := m.Merge(ctx, "cust-ann", guest.ID)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	want := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK)
	sameCart(t, "the merged cart", got, want)
	if got.ID != owned.ID || len(got.Items) != 2 || got.ItemCount != 4 || got.Subtotal.Amount != 3*1999+899 {
		t.Fatalf("the merged cart: %+v", got)
	}
	if g := cartOf(t, e.shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK); g.Status != api.StatusMerged {
		t.Fatalf("the guest cart after the merge: %+v", g)
	}
	// Again (a retry): nothing changes.
	again, err := m.Merge(ctx, "cust-ann", guest.ID)
	if err != nil {
		t.Fatalf("Merge again: %v", err)
	}
	sameCart(t, "the cart merged again", again, want)

	// Quantities add up to what is available, no more.
	more := newGuestCart(t, e)
	cartOf(t, add(e, more.ID, "", "TEE", 4), http.StatusCreated)
	got, err = m.Merge(ctx, "cust-ann", more.ID)
	if err != nil || got.ItemCount != 6 || got.Items[0].SKU != "TEE" || got.Items[0].Quantity != 5 {
		t.Fatalf("Merge over the stock: %+v %v", got, err)
	}

	// What cannot be merged.
	wantErr(t, "Merge of a merged cart into another's", second(m.Merge(ctx, "cust-bob", guest.ID)), api.ErrNotActive, http.StatusConflict)
	wantErr(t, "Merge of an unknown cart", second(m.Merge(ctx, "cust-ann", "nope")), api.ErrCartNotFound, http.StatusNotFound)
	wantErr(t, "Merge of another customer's cart", second(m.Merge(ctx, "cust-bob", owned.ID)), api.ErrCartNotFound, http.StatusNotFound)
	wantErr(t, "Merge of no cart", second(m.Merge(ctx, "cust-ann", "")),
		errs.Invalid(errs.FieldError{Field: "cart_id", Message: "is required"}), http.StatusUnprocessableEntity)
	if c := cartOf(t, e.shop.Get("/v1/me/cart", ann), http.StatusOK); c.ItemCount != 6 {
		t.Fatalf("refused merges changed the cart: %+v", c)
	}
}
