package customers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/platform/testkit"
)

func patch(shop *testkit.Shop, path, token string, body any) testkit.Response {
	return shop.Do(testkit.Req{Method: http.MethodPatch, Path: path, Token: token, Body: body})
}

func del(shop *testkit.Shop, path, token string) testkit.Response {
	return shop.Do(testkit.Req{Method: http.MethodDelete, Path: path, Token: token})
}

func TestProfile(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		var customers api.Customers
		shop := start(t, db, opts{fx: []fx.Option{fx.Populate(&customers)}})
		s := register(t, shop, "pia@example.com", "password1", "Pia")
		tok := s.AccessToken

		var me map[string]any
		testkit.Expect(t, patch(shop, "/v1/me", tok, map[string]string{"name": "  Pia Park  "}), 200).JSON(t, &me)
		if me["name"] != "Pia Park" || me["email"] != "pia@example.com" || me["id"] != s.Customer.ID {
			t.Fatalf("PATCH /v1/me = %v", me)
		}
		testkit.Expect(t, patch(shop, "/v1/me", tok, map[string]any{}), 200).JSON(t, &me)
		if me["name"] != "Pia Park" {
			t.Fatalf("an empty PATCH changed the name to %v", me["name"])
		}
		for _, bad := range []string{"", "   ", strings.Repeat("n", 201), "Pia\nPark"} {
			testkit.ExpectProblem(t, patch(shop, "/v1/me", tok, map[string]string{"name": bad}), 422, "validation_failed")
		}
		testkit.ExpectProblem(t, patch(shop, "/v1/me", tok, map[string]string{"email": "new@example.com"}), 400, "bad_request")
		testkit.ExpectProblem(t, patch(shop, "/v1/me", tok, map[string]string{"role": "admin"}), 400, "bad_request")

		got, err := customers.Customer(context.Background(), s.Customer.ID)
		if err != nil || got.Name != "Pia Park" || got.Role != api.RoleCustomer || got.Email != "pia@example.com" {
			t.Fatalf("api.Customer = %+v, %v", got, err)
		}
		if _, err := customers.Customer(context.Background(), "no-such-id"); !errors.Is(err, api.ErrCustomerNotFound) {
			t.Fatalf("api.Customer(unknown) err = %v", err)
		}
		// A valid token whose account does not exist finds no profile.
		testkit.ExpectProblem(t, shop.Get("/v1/me", shop.Token("ghost", "customer")), 404, "not_found")
	})
}

type address struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
	Phone      string `json:"phone"`
}

type addressList struct {
	Items      []address `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

func validAddress() map[string]any {
	return map[string]any{"name": "Quinn Q", "line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "de"}
}

func TestAddressBook(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		var customers api.Customers
		shop := start(t, db, opts{fx: []fx.Option{fx.Populate(&customers)}})
		q := register(t, shop, "quinn@example.com", "password1", "Quinn")
		r := register(t, shop, "ruth@example.com", "password1", "Ruth")
		ctx := context.Background()

		var a address
		testkit.Expect(t, shop.Post("/v1/me/addresses", q.AccessToken, validAddress()), 201).JSON(t, &a)
		if a.ID == "" || a.Country != "DE" || a.Name != "Quinn Q" || a.Line2 != "" || a.Phone != "" {
			t.Fatalf("created %+v", a)
		}
		m := shop.Post("/v1/me/addresses", q.AccessToken, validAddress()).Map(t)
		for _, k := range []string{"id", "name", "line1", "line2", "city", "postal_code", "country", "phone"} {
			if _, ok := m[k]; !ok {
				t.Errorf("an address lacks %q: %v", k, m)
			}
		}
		second := m["id"].(string)

		var list addressList
		testkit.Expect(t, shop.Get("/v1/me/addresses", q.AccessToken), 200).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].ID != a.ID || list.Items[1].ID != second || list.NextCursor != nil {
			t.Fatalf("list = %+v", list)
		}

		var changed address
		testkit.Expect(t, patch(shop, "/v1/me/addresses/"+a.ID, q.AccessToken,
			map[string]string{"line2": "Apt 4", "phone": "+49 30 1234567", "country": "FR"}), 200).JSON(t, &changed)
		if changed.Line2 != "Apt 4" || changed.Phone != "+49 30 1234567" || changed.Country != "FR" || changed.Line1 != "Main St 1" || changed.ID != a.ID {
			t.Fatalf("patched %+v", changed)
		}
		testkit.ExpectProblem(t, patch(shop, "/v1/me/addresses/"+a.ID, q.AccessToken, map[string]string{"country": "XX"}), 422, "validation_failed")
		testkit.ExpectProblem(t, patch(shop, "/v1/me/addresses/"+a.ID, q.AccessToken, map[string]string{"city": ""}), 422, "validation_failed")
		got, err := customers.Address(ctx, q.Customer.ID, a.ID)
		if err != nil || got.Country != "FR" || got.Line2 != "Apt 4" {
			t.Fatalf("api.Address = %+v, %v (a refused PATCH must change nothing)", got, err)
		}

		// Another customer's address does not exist for Ruth.
		testkit.ExpectProblem(t, patch(shop, "/v1/me/addresses/"+a.ID, r.AccessToken, map[string]string{"city": "Paris"}), 404, "not_found")
		testkit.ExpectProblem(t, del(shop, "/v1/me/addresses/"+a.ID, r.AccessToken), 404, "not_found")
		testkit.Expect(t, shop.Get("/v1/me/addresses", r.AccessToken), 200).JSON(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("Ruth sees %d addresses", len(list.Items))
		}
		if _, err := customers.Address(ctx, r.Customer.ID, a.ID); !errors.Is(err, api.ErrNotFound) || !errors.Is(err, api.ErrAddressNotFound) {
			t.Fatalf("api.Address of another customer: %v, want ErrAddressNotFound", err)
		}
		if got, _ := customers.Address(ctx, q.Customer.ID, a.ID); got.City != "Berlin" {
			t.Fatalf("Ruth's attempts changed Quinn's address: %+v", got)
		}

		testkit.Expect(t, del(shop, "/v1/me/addresses/"+a.ID, q.AccessToken), 204)
		testkit.ExpectProblem(t, del(shop, "/v1/me/addresses/"+a.ID, q.AccessToken), 404, "not_found")
		testkit.ExpectProblem(t, patch(shop, "/v1/me/addresses/"+a.ID, q.AccessToken, map[string]string{"city": "Rome"}), 404, "not_found")
		if _, err := customers.Address(ctx, q.Customer.ID, a.ID); !errors.Is(err, api.ErrAddressNotFound) {
			t.Fatalf("deleted address: %v", err)
		}
	})
}

func TestAddressValidation(t *testing.T) {
	shop := start(t, testkit.SQLite(t), opts{})
	tok := register(t, shop, "sam@example.com", "password1", "Sam").AccessToken
	with := func(k string, v any) map[string]any { m := validAddress(); m[k] = v; return m }
	without := func(k string) map[string]any { m := validAddress(); delete(m, k); return m }
	long := strings.Repeat("x", 201)
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no name", without("name"), "name"},
		{"no line1", without("line1"), "line1"},
		{"no city", without("city"), "city"},
		{"no postal code", without("postal_code"), "postal_code"},
		{"no country", without("country"), "country"},
		{"name too long", with("name", long), "name"},
		{"line1 too long", with("line1", long), "line1"},
		{"line2 too long", with("line2", long), "line2"},
		{"city too long", with("city", long), "city"},
		{"postal code too long", with("postal_code", strings.Repeat("1", 21)), "postal_code"},
		{"not a country", with("country", "XK"), "country"},
		{"three letters", with("country", "DEU"), "country"},
		{"phone with letters", with("phone", "call me maybe"), "phone"},
		{"phone too long", with("phone", "+49 "+strings.Repeat("1", 29)), "phone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := shop.Post("/v1/me/addresses", tok, c.body)
			testkit.ExpectProblem(t, res, 422, "validation_failed")
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			res.JSON(t, &p)
			if len(p.Errors) == 0 || p.Errors[0].Field != c.field {
				t.Fatalf("field errors %+v, want %s", p.Errors, c.field)
			}
		})
	}
	testkit.ExpectProblem(t, shop.Post("/v1/me/addresses", tok, with("zip", "10115")), 400, "bad_request")
	var list addressList
	testkit.Expect(t, shop.Get("/v1/me/addresses", tok), 200).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("refused addresses were stored: %+v", list.Items)
	}
}

// The book holds 50 addresses, even when they are added all at once; the
// list pages through them with a cursor.
func TestAddressBookHoldsFifty(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := start(t, db, opts{})
		tok := register(t, shop, "tia@example.com", "password1", "Tia").AccessToken
		const tries = api.MaxAddresses + 10
		statuses := make(chan int, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := validAddress()
				body["line1"] = testkit.Fmt("Main St %d", i)
				statuses <- shop.Post("/v1/me/addresses", tok, body).Status
			}()
		}
		wg.Wait()
		close(statuses)
		got := map[int]int{}
		for s := range statuses {
			got[s]++
		}
		if got[201] != api.MaxAddresses || got[409] != tries-api.MaxAddresses {
			t.Fatalf("statuses %v, want %d × 201 and %d × 409", got, api.MaxAddresses, tries-api.MaxAddresses)
		}
		testkit.ExpectProblem(t, shop.Post("/v1/me/addresses", tok, validAddress()), 409, "conflict")

		seen := map[string]bool{}
		cursor := ""
		pages := 0
		for {
			var list addressList
			testkit.Expect(t, shop.Get("/v1/me/addresses?limit=20&cursor="+cursor, tok), 200).JSON(t, &list)
			pages++
			for _, a := range list.Items {
				if seen[a.ID] {
					t.Fatalf("address %s on two pages", a.ID)
				}
				seen[a.ID] = true
			}
			if list.NextCursor == nil {
				break
			}
			cursor = *list.NextCursor
		}
		if len(seen) != api.MaxAddresses || pages != 3 {
			t.Fatalf("paged through %d addresses in %d pages, want 50 in 3", len(seen), pages)
		}
		testkit.ExpectProblem(t, shop.Get("/v1/me/addresses?limit=0", tok), 422, "validation_failed")
		testkit.ExpectProblem(t, shop.Get("/v1/me/addresses?cursor=bogus", tok), 422, "validation_failed")

		// Deleting one makes room for one.
		var list addressList
		testkit.Expect(t, shop.Get("/v1/me/addresses?limit=1", tok), 200).JSON(t, &list)
		testkit.Expect(t, del(shop, "/v1/me/addresses/"+list.Items[0].ID, tok), 204)
		testkit.Expect(t, shop.Post("/v1/me/addresses", tok, validAddress()), 201)
		testkit.ExpectProblem(t, shop.Post("/v1/me/addresses", tok, validAddress()), 409, "conflict")
	})
}
