package customers_test

import (
	"context"
	"net/http"
	"testing"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.BackOffice, in process and through the HTTP client,
// each on a database of its own: the same pages, the same errors.
func TestBackOfficeContract(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			var bo api.BackOffice
			shop := start(t, db, opts{fx: []fx.Option{fx.Populate(&bo)},
				env: map[string]string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": "root@example.com", "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": "root-password"}})
			backOfficeContract(t, shop, bo)
		})
		t.Run("http", func(t *testing.T) {
			shop := start(t, testkit.Fresh(t, db), opts{
				env: map[string]string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": "root@example.com", "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": "root-password"}})
			backOfficeContract(t, shop, customers.NewClient(remote.NewClient(customers.Name, shop.URL, internalToken)))
		})
	})
}

func backOfficeContract(t *testing.T, shop *testkit.Shop, bo api.BackOffice) {
	ctx := context.Background()
	root := mustLogin(t, shop, "root@example.com", "root-password")
	var ids []string // oldest first
	for _, tok := range []string{root.AccessToken,
		register(t, shop, "ann@example.com", "password1", "Ann").AccessToken,
		register(t, shop, "an_na@example.com", "password1", "Anna").AccessToken,
		register(t, shop, " Bob@Example.com", "password1", "Bob").AccessToken} {
		var me api.Customer
		testkit.Expect(t, shop.Get("/v1/me", tok), http.StatusOK).JSON(t, &me)
		ids = append(ids, me.ID)
	}

	// Newest first, in pages of 3 and then 1.
	page, err := bo.ListCustomers(ctx, api.CustomerQuery{Limit: 3})
	if err != nil || len(page.Items) != 3 || page.NextCursor == "" ||
		page.Items[0].ID != ids[3] || page.Items[1].ID != ids[2] || page.Items[2].ID != ids[1] {
		t.Fatalf("first page %+v %v", page, err)
	}
	if c := page.Items[0]; c.Email != "bob@example.com" || c.Name != "Bob" || c.Role != api.RoleCustomer || c.CreatedAt.IsZero() {
		t.Fatalf("the newest account %+v", c)
	}
	page, err = bo.ListCustomers(ctx, api.CustomerQuery{Limit: 3, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 1 || page.NextCursor != "" || page.Items[0].ID != ids[0] || page.Items[0].Role != api.RoleAdmin {
		t.Fatalf("second page %+v %v", page, err)
	}
	// The default page holds them all.
	if page, err = bo.ListCustomers(ctx, api.CustomerQuery{}); err != nil || len(page.Items) != 4 {
		t.Fatalf("the default page %+v %v", page, err)
	}

	// An e-mail prefix, matched case-insensitively; _ and % are not wildcards.
	emails := func(q api.CustomerQuery) []string {
		t.Helper()
		page, err := bo.ListCustomers(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		var out []string
		for _, c := range page.Items {
			out = append(out, c.Email)
		}
		return out
	}
	if got := emails(api.CustomerQuery{EmailPrefix: " AN"}); len(got) != 2 || got[0] != "an_na@example.com" || got[1] != "ann@example.com" {
		t.Fatalf("prefix an: %v", got)
	}
	if got := emails(api.CustomerQuery{EmailPrefix: "an_"}); len(got) != 1 || got[0] != "an_na@example.com" {
		t.Fatalf("prefix an_: %v", got)
	}
	if got := emails(api.CustomerQuery{EmailPrefix: "%"}); len(got) != 0 {
		t.Fatalf("prefix %%: %v", got)
	}
	if got := emails(api.CustomerQuery{EmailPrefix: "an", Limit: 1}); len(got) != 1 || got[0] != "an_na@example.com" {
		t.Fatalf("prefix an, one: %v", got)
	}

	// Bad input: a 422 naming the field.
	for _, c := range []struct {
		q     api.CustomerQuery
		field string
	}{{api.CustomerQuery{Cursor: "bogus"}, "cursor"}, {api.CustomerQuery{Limit: 101}, "limit"}, {api.CustomerQuery{Limit: -1}, "limit"}} {
		_, err := bo.ListCustomers(ctx, c.q)
		if e := errs.As(err); e == nil || e.Kind.Status() != http.StatusUnprocessableEntity || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
			t.Fatalf("%+v: %v, want a 422 naming %s", c.q, err, c.field)
		}
	}
}
