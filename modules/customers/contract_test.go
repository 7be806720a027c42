package customers_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Customers, run twice: against the module itself, and
// through its HTTP client (remote.go) against a real server, each on a
// database of its own. Both runs assert the same outcomes, and compare every
// answer with what the module itself reads.
func TestContract(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			shop, local := startContract(t, db)
			contract(t, shop, local, local)
		})
		t.Run("http", func(t *testing.T) {
			shop, local := startContract(t, testkit.Fresh(t, db))
			contract(t, shop, local, customers.NewClient(remote.NewClient(customers.Name, shop.URL, internalToken)))
		})
	})
}

func startContract(t *testing.T, db testkit.DB) (*testkit.Shop, api.Customers) {
	var local api.Customers
	shop := start(t, db, opts{fx: []fx.Option{fx.Populate(&local)},
		env: map[string]string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": " Root@Example.com", "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": "root-password"}})
	return shop, local
}

// contract runs the suite against cs; local is the module itself, whose
// answers cs must repeat.
func contract(t *testing.T, shop *testkit.Shop, local, cs api.Customers) {
	ctx := context.Background()
	q := register(t, shop, " Quinn@Example.com", "password1", "Quinn")
	r := register(t, shop, "ruth@example.com", "password1", "Ruth")
	root := mustLogin(t, shop, "root@example.com", "root-password")

	accounts := map[string]api.Customer{} // by e-mail, as GET /v1/me shows them
	for _, tok := range []string{q.AccessToken, r.AccessToken, root.AccessToken} {
		var want api.Customer
		testkit.Expect(t, shop.Get("/v1/me", tok), http.StatusOK).JSON(t, &want)
		accounts[want.Email] = want
		got, err := cs.Customer(ctx, want.ID)
		if err != nil || !sameCustomer(got, want) {
			t.Fatalf("customer %s:\n got %+v %v\nwant %+v", want.Email, got, err, want)
		}
		mine, err := local.Customer(ctx, want.ID)
		if err != nil || !sameCustomer(got, mine) {
			t.Fatalf("customer %s: %+v, the module reads %+v %v", want.Email, got, mine, err)
		}
	}
	if c := accounts["quinn@example.com"]; c.ID != q.Customer.ID || c.Name != "Quinn" || c.Role != api.RoleCustomer || !c.CreatedAt.Equal(q.Customer.CreatedAt) {
		t.Fatalf("a customer: %+v, registered as %+v", c, q.Customer)
	}
	if c := accounts["root@example.com"]; c.ID == "" || c.Role != api.RoleAdmin {
		t.Fatalf("the bootstrap admin: %+v", c)
	}
	for _, id := range []string{"no-such-customer", ""} {
		err := second(cs.Customer(ctx, id))
		wantErr(t, "customer "+id, err, api.ErrCustomerNotFound, http.StatusNotFound)
		wantMessage(t, "customer "+id, err, api.ErrCustomerNotFound.Message)
	}

	// Addresses, added through the public API.
	var full, bare api.Address
	testkit.Expect(t, shop.Post("/v1/me/addresses", q.AccessToken, map[string]any{"name": " Quinn Q ", "line1": "Main St 1", "line2": "Floor 3",
		"city": "Berlin", "postal_code": "10115", "country": "de", "phone": "+49 30 1234567"}), http.StatusCreated).JSON(t, &full)
	testkit.Expect(t, shop.Post("/v1/me/addresses", q.AccessToken, validAddress()), http.StatusCreated).JSON(t, &bare)
	for _, want := range []api.Address{full, bare} {
		got, err := cs.Address(ctx, q.Customer.ID, want.ID)
		if err != nil || got != want {
			t.Fatalf("address:\n got %+v %v\nwant %+v", got, err, want)
		}
		if mine, err := local.Address(ctx, q.Customer.ID, want.ID); err != nil || mine != got {
			t.Fatalf("address %+v, the module reads %+v %v", got, mine, err)
		}
	}
	if full.Name != "Quinn Q" || full.Country != "DE" || full.Phone != "+49 30 1234567" || bare.Line2 != "" || bare.Phone != "" {
		t.Fatalf("addresses %+v and %+v", full, bare)
	}

	// Someone else's address, an unknown one and one removed answer the
	// same: the caller cannot tell them apart.
	testkit.Expect(t, del(shop, "/v1/me/addresses/"+bare.ID, q.AccessToken), http.StatusNoContent)
	for what, ids := range map[string][2]string{
		"someone else's address": {r.Customer.ID, full.ID},
		"an unknown address":     {q.Customer.ID, "no-such-address"},
		"an unknown customer":    {"no-such-customer", full.ID},
		"a removed address":      {q.Customer.ID, bare.ID},
	} {
		err := second(cs.Address(ctx, ids[0], ids[1]))
		wantErr(t, what, err, api.ErrAddressNotFound, http.StatusNotFound)
		wantMessage(t, what, err, api.ErrAddressNotFound.Message)
	}
}

func sameCustomer(a, b api.Customer) bool {
	return a.CreatedAt.Equal(b.CreatedAt) && a.ID == b.ID && a.Email == b.Email && a.Name == b.Name && a.Role == b.Role
}

func second[T any](_ T, err error) error { return err }

// wantErr checks an error's code and HTTP status: what survives the wire.
func wantErr(t *testing.T, what string, err error, want *errs.Error, status int) {
	t.Helper()
	e := errs.As(err)
	if e == nil || !errors.Is(err, want) || e.Kind.Status() != status {
		t.Fatalf("%s: got %v, want %s (%d)", what, err, want.Code, status)
	}
}

// wantMessage checks the error's message, which travels as the problem's
// detail.
func wantMessage(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if e := errs.As(err); e == nil || e.Message != msg {
		t.Fatalf("%s: message of %v, want %q", what, err, msg)
	}
}
