package customers_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/modules/customers/internal/store"
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

// The contract of api.Accounts (what the web storefront signs in and
// edits accounts with), run like api.Customers': in process and through
// the HTTP client. Its sign-in shares the /v1/auth/login limits, lowered
// here so that a few failures reach them.
func TestAccountsContract(t *testing.T) {
	t.Parallel()
	limits := service.DefaultLimits
	limits.PerAccountAddress = store.Delay{Free: 3, Base: time.Minute, Max: time.Hour, Memory: time.Hour}
	limits.PerAddressRegistrations = service.Limit{Max: 4, Window: time.Hour}
	startAccounts := func(t *testing.T, db testkit.DB) (*testkit.Shop, api.Customers, api.Accounts) {
		var cs api.Customers
		var ac api.Accounts
		shop := start(t, db, opts{cfg: service.Config{Limits: limits}, fx: []fx.Option{fx.Populate(&cs, &ac)}})
		return shop, cs, ac
	}
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			shop, cs, ac := startAccounts(t, db)
			accountsContract(t, shop, cs, ac)
		})
		t.Run("http", func(t *testing.T) {
			shop, cs, _ := startAccounts(t, testkit.Fresh(t, db))
			accountsContract(t, shop, cs, customers.NewClient(remote.NewClient(customers.Name, shop.URL, internalToken)))
		})
	})
}

func accountsContract(t *testing.T, shop *testkit.Shop, cs api.Customers, ac api.Accounts) {
	ctx := context.Background()
	const ip = "127.0.0.1" // the test's own address, as the public routes see it

	// Register: normalized, a real account (the JSON API signs it in), and
	// the module reads it back the same.
	ann, err := ac.Register(ctx, api.Registration{Email: " Ann@Example.com ", Password: "ann-password", Name: " Ann ", ClientIP: ip})
	if err != nil || ann.ID == "" || ann.Email != "ann@example.com" || ann.Name != "Ann" || ann.Role != api.RoleCustomer || ann.CreatedAt.IsZero() {
		t.Fatalf("Register: %+v %v", ann, err)
	}
	if got, err := cs.Customer(ctx, ann.ID); err != nil || !sameCustomer(got, ann) {
		t.Fatalf("the registered account reads %+v %v, registered %+v", got, err, ann)
	}
	var me api.Customer
	testkit.Expect(t, shop.Get("/v1/me", mustLogin(t, shop, "ann@example.com", "ann-password").AccessToken), http.StatusOK).JSON(t, &me)
	if !sameCustomer(me, ann) {
		t.Fatalf("GET /v1/me %+v, registered %+v", me, ann)
	}
	err = second(ac.Register(ctx, api.Registration{Email: "nope", Password: "short", Name: "", ClientIP: ip}))
	wantErr(t, "Register with bad fields", err, errs.Invalid(), http.StatusUnprocessableEntity)
	wantFields(t, "Register with bad fields", err, "email", "password", "name")
	wantErr(t, "Register of a taken e-mail", second(ac.Register(ctx, api.Registration{Email: "ANN@example.com", Password: "other-password", Name: "Ann 2", ClientIP: ip})),
		api.ErrEmailTaken, http.StatusConflict)

	// Authenticate: the account for the right password, one error for a
	// wrong one and an unknown e-mail.
	got, err := ac.Authenticate(ctx, " ANN@example.com", "ann-password", ip)
	if err != nil || !sameCustomer(got, ann) {
		t.Fatalf("Authenticate: %+v %v", got, err)
	}
	err = second(ac.Authenticate(ctx, "ann@example.com", "", ip))
	wantErr(t, "Authenticate without a password", err, errs.Invalid(), http.StatusUnprocessableEntity)
	wantFields(t, "Authenticate without a password", err, "password")

	// Failures count as the JSON API's: three go (Free), the fourth waits,
	// and so does the JSON API's login of that account from that address.
	bob, err := ac.Register(ctx, api.Registration{Email: "bob@example.com", Password: "bob-password", Name: "Bob", ClientIP: ip})
	if err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"bob@example.com", "BOB@example.com", "bob@example.com"} {
		wantErr(t, "a wrong password "+strconv.Itoa(i), second(ac.Authenticate(ctx, email, "wrong-password", ip)), api.ErrInvalidCredentials, http.StatusUnauthorized)
	}
	wantErr(t, "an unknown e-mail", second(ac.Authenticate(ctx, "nobody@example.com", "wrong-password", ip)), api.ErrInvalidCredentials, http.StatusUnauthorized)
	err = second(ac.Authenticate(ctx, "bob@example.com", "bob-password", ip))
	wantErr(t, "Authenticate over the limit", err, api.ErrTooManySignIns, http.StatusTooManyRequests)
	if secs := retryAfterOf(err); secs < 1 || secs > 60 {
		t.Fatalf("retry_after of %#v", errs.As(err))
	}
	expectLimited(t, login(shop, "bob@example.com", "bob-password"), time.Minute)
	// Another address is not held back by them.
	if got, err := ac.Authenticate(ctx, "bob@example.com", "bob-password", "198.51.100.9"); err != nil || got.ID != bob.ID {
		t.Fatalf("Authenticate from another address: %+v %v", got, err)
	}

	// The registration limit per address (4 here; ann and bob took two,
	// and a refused one counts as well).
	for i := 0; ; i++ {
		_, err := ac.Register(ctx, api.Registration{Email: "r" + strconv.Itoa(i) + "@example.com", Password: "reg-password", Name: "R", ClientIP: ip})
		if err == nil {
			continue
		}
		wantErr(t, "Register over the limit", err, api.ErrTooManyRegistrations, http.StatusTooManyRequests)
		if i > 2 || retryAfterOf(err) < 1 {
			t.Fatalf("registration %d refused with %#v", i, errs.As(err))
		}
		break
	}

	// The profile.
	renamed, err := ac.UpdateProfile(ctx, ann.ID, "  Ann Smith ")
	if err != nil || renamed.Name != "Ann Smith" || renamed.ID != ann.ID || renamed.Email != ann.Email {
		t.Fatalf("UpdateProfile: %+v %v", renamed, err)
	}
	if got, err := cs.Customer(ctx, ann.ID); err != nil || got.Name != "Ann Smith" {
		t.Fatalf("after UpdateProfile: %+v %v", got, err)
	}
	err = second(ac.UpdateProfile(ctx, ann.ID, " "))
	wantErr(t, "UpdateProfile with no name", err, errs.Invalid(), http.StatusUnprocessableEntity)
	wantFields(t, "UpdateProfile with no name", err, "name")
	wantErr(t, "UpdateProfile of nobody", second(ac.UpdateProfile(ctx, "no-such-customer", "X")), api.ErrCustomerNotFound, http.StatusNotFound)

	// The address book: add, update, delete, by NormalizeAddress's rules.
	home := api.Address{ID: "ignored", Name: " Ann Smith ", Line1: "Main St 1", City: "Berlin", PostalCode: "10115", Country: "de"}
	added, err := ac.AddAddress(ctx, ann.ID, home)
	if err != nil || added.ID == "" || added.ID == "ignored" || added.Name != "Ann Smith" || added.Country != "DE" {
		t.Fatalf("AddAddress: %+v %v", added, err)
	}
	if got, err := cs.Address(ctx, ann.ID, added.ID); err != nil || got != added {
		t.Fatalf("the added address reads %+v %v, added %+v", got, err, added)
	}
	err = second(ac.AddAddress(ctx, ann.ID, api.Address{Name: "Ann", Line1: "Main St 1", Country: "XX", Phone: "call me"}))
	wantErr(t, "AddAddress with bad fields", err, errs.Invalid(), http.StatusUnprocessableEntity)
	wantFields(t, "AddAddress with bad fields", err, "city", "postal_code", "country", "phone")
	wantErr(t, "AddAddress for nobody", second(ac.AddAddress(ctx, "no-such-customer", home)), api.ErrCustomerNotFound, http.StatusNotFound)

	moved := added
	moved.City, moved.PostalCode, moved.Line2, moved.Phone = "Potsdam", "14467", "Floor 2", "+49 331 123456"
	updated, err := ac.UpdateAddress(ctx, ann.ID, moved)
	if err != nil || updated != moved {
		t.Fatalf("UpdateAddress: %+v %v, want %+v", updated, err, moved)
	}
	if got, err := cs.Address(ctx, ann.ID, added.ID); err != nil || got != moved {
		t.Fatalf("the updated address reads %+v %v", got, err)
	}
	bad := moved
	bad.PostalCode = "14467!"
	err = second(ac.UpdateAddress(ctx, ann.ID, bad))
	wantErr(t, "UpdateAddress with a bad postal code", err, errs.Invalid(), http.StatusUnprocessableEntity)
	wantFields(t, "UpdateAddress with a bad postal code", err, "postal_code")
	if got, _ := cs.Address(ctx, ann.ID, added.ID); got != moved {
		t.Fatalf("a refused update changed the address: %+v", got)
	}
	wantErr(t, "UpdateAddress of another's address", second(ac.UpdateAddress(ctx, bob.ID, moved)), api.ErrAddressNotFound, http.StatusNotFound)
	wantErr(t, "DeleteAddress of another's address", ac.DeleteAddress(ctx, bob.ID, added.ID), api.ErrAddressNotFound, http.StatusNotFound)
	if err := ac.DeleteAddress(ctx, ann.ID, added.ID); err != nil {
		t.Fatalf("DeleteAddress: %v", err)
	}
	wantErr(t, "the deleted address", second(cs.Address(ctx, ann.ID, added.ID)), api.ErrAddressNotFound, http.StatusNotFound)
	wantErr(t, "DeleteAddress again", ac.DeleteAddress(ctx, ann.ID, added.ID), api.ErrAddressNotFound, http.StatusNotFound)

	// A full book refuses one more.
	for i := range api.MaxAddresses {
		a := home
		a.Line1 = "Main St " + strconv.Itoa(i+1)
		if _, err := ac.AddAddress(ctx, bob.ID, a); err != nil {
			t.Fatalf("address %d: %v", i+1, err)
		}
	}
	wantErr(t, "AddAddress to a full book", second(ac.AddAddress(ctx, bob.ID, home)), api.ErrTooManyAddresses, http.StatusConflict)
}

// wantFields checks that a validation error names exactly these fields.
func wantFields(t *testing.T, what string, err error, fields ...string) {
	t.Helper()
	e := errs.As(err)
	var got []string
	if e != nil {
		for _, f := range e.Fields {
			got = append(got, f.Field)
		}
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("%s: fields %v, want %v", what, got, fields)
	}
}

// retryAfterOf is a limit's wait in seconds: an int64 in process, a JSON
// number over HTTP.
func retryAfterOf(err error) int64 {
	e := errs.As(err)
	if e == nil {
		return 0
	}
	switch v := e.Extra["retry_after"].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}
