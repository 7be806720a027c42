package search_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/search"
	searchapi "github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Search, run twice: against the module itself, and
// through its HTTP client (remote.go) against a real server, each on a
// database of its own. Both runs assert the same outcomes.
func TestContract(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			shop, u, s := startSearch(t, db, "")
			contract(t, shop, u, s)
		})
		t.Run("http", func(t *testing.T) {
			shop, u, _ := startSearch(t, testkit.Fresh(t, db), "")
			contract(t, shop, u, search.NewClient(remote.NewClient(search.Name, shop.URL, internalToken)))
		})
	})
}

func contract(t *testing.T, shop *testkit.Shop, u *upstream, s searchapi.Search) {
	ctx := context.Background()
	if n, err := s.Reindex(ctx); err != nil || n != 0 {
		t.Fatalf("reindex of an empty catalog: %d %v", n, err)
	}
	if r := find(t, shop, ""); r.Total != 0 {
		t.Fatalf("after an empty reindex: %d found", r.Total)
	}

	now := time.Now().UTC()
	product := func(id, title, cat string, price int64, status catalog.Status) catalog.Product {
		return catalog.Product{ID: id, Slug: id, Title: title, Description: "About " + title, CategoryID: strp(cat),
			Status: status, Version: 1, CreatedAt: now, UpdatedAt: now,
			Variants: []catalog.Variant{{ID: "v-" + id, SKU: "SKU-" + id, Title: "Default", Price: catalog.Money{Amount: price, Currency: "EUR"}}}}
	}
	u.mu.Lock()
	for _, p := range []catalog.Product{
		product("p1", "Trail Shoes", "c-shoes", 8999, catalog.StatusPublished),
		product("p2", "Garden Hose", "c-home", 2599, catalog.StatusPublished),
		product("p3", "Draft Boots", "c-shoes", 9999, catalog.StatusDraft),
		product("p4", "Old Sandals", "c-shoes", 1999, catalog.StatusArchived),
	} {
		u.prod[p.ID] = p
	}
	u.lvl["SKU-p2"] = inventory.Level{SKU: "SKU-p2", OnHand: 3, Available: 3}
	u.mu.Unlock()

	// Reindex reads every product, whatever its status; search shows the
	// published ones, with the stock it read.
	for _, what := range []string{"reindex", "reindex again"} {
		n, err := s.Reindex(ctx)
		if err != nil || n != 4 {
			t.Fatalf("%s: %d %v, want 4 products read", what, n, err)
		}
		if got := ids(find(t, shop, "sort=price_asc")); !slices.Equal(got, []string{"p2", "p1"}) {
			t.Fatalf("%s: search finds %v, want [p2 p1]", what, got)
		}
		if got := ids(find(t, shop, "in_stock=true&category=apparel")); len(got) != 0 {
			t.Fatalf("%s: in stock in apparel: %v", what, got)
		}
		if got := ids(find(t, shop, "in_stock=true")); !slices.Equal(got, []string{"p2"}) {
			t.Fatalf("%s: in stock: %v, want [p2]", what, got)
		}
	}

	// A catalog that does not answer fails the rebuild with its error,
	// and no count: not the categories, nor a page after the first.
	down := errs.Unavailable("the catalog module is not answering")
	u.mu.Lock()
	u.failCategories = down
	u.mu.Unlock()
	n, err := s.Reindex(ctx)
	wantErr(t, "reindex without categories", err, down, http.StatusServiceUnavailable)
	if n != 0 {
		t.Fatalf("a failed reindex read %d products", n)
	}
	u.mu.Lock()
	u.failCategories, u.failNextPage = nil, down
	u.mu.Unlock()
	n, err = s.Reindex(ctx)
	wantErr(t, "reindex failing on its second page", err, down, http.StatusServiceUnavailable)
	if n != 0 {
		t.Fatalf("a reindex that failed on its second page answered %d products", n)
	}
	if e := errs.As(err); e.Message != down.Message {
		t.Fatalf("message %q, want the catalog's %q", e.Message, down.Message)
	}
	u.mu.Lock()
	u.failNextPage = nil
	u.mu.Unlock()
	if n, err := s.Reindex(ctx); err != nil || n != 4 {
		t.Fatalf("reindex once the catalog answers: %d %v", n, err)
	}

	// api.Searcher: the same search as GET /v1/search.
	sr, ok := s.(searchapi.Searcher)
	if !ok {
		t.Fatalf("%T is not a searchapi.Searcher", s)
	}
	searcherContract(t, shop, sr)
}

func searcherContract(t *testing.T, shop *testkit.Shop, s searchapi.Searcher) {
	ctx := context.Background()
	hits := func(r searchapi.Result) []string {
		var out []string
		for _, h := range r.Items {
			out = append(out, h.ProductID)
		}
		return out
	}
	// A typo ("shoos") finds the product; facets count every match.
	r, err := s.Query(ctx, searchapi.Query{Text: "trail shoos"})
	if err != nil || !slices.Equal(hits(r), []string{"p1"}) || r.Total != 1 || r.Next != "" {
		t.Fatalf("query with a typo: %v total %d next %q %v", hits(r), r.Total, r.Next, err)
	}
	web := find(t, shop, "q=trail+shoos")
	h := r.Items[0]
	if h.Slug != "p1" || h.Title != "Trail Shoes" || h.InStock || h.Snippet != web.Items[0].Snippet ||
		h.PriceFrom != (catalog.Money{Amount: 8999, Currency: web.Items[0].PriceFrom.Currency}) || h.PriceFrom.Currency == "" {
		t.Fatalf("hit %+v, GET /v1/search has %+v", h, web.Items[0])
	}
	if f := r.Facets; !reflect.DeepEqual(f.Category, []searchapi.CategoryCount{{ID: "c-shoes", Slug: "shoes", Name: "Shoes", Count: 1}}) ||
		!reflect.DeepEqual(f.InStock, []searchapi.StockCount{{InStock: false, Count: 1}}) || len(f.Price) != 5 ||
		f.Price[2].From != 5000 || *f.Price[2].To != 10000 || f.Price[2].Count != 1 || f.Price[4].To != nil {
		t.Fatalf("facets %+v", f)
	}
	// Pages by cursor; filters.
	r, err = s.Query(ctx, searchapi.Query{Sort: searchapi.SortPriceAsc, Limit: 1})
	if err != nil || !slices.Equal(hits(r), []string{"p2"}) || r.Total != 2 || r.Next == "" {
		t.Fatalf("page 1: %v total %d next %q %v", hits(r), r.Total, r.Next, err)
	}
	r, err = s.Query(ctx, searchapi.Query{Sort: searchapi.SortPriceAsc, Limit: 1, Cursor: r.Next})
	if err != nil || !slices.Equal(hits(r), []string{"p1"}) || r.Next != "" {
		t.Fatalf("page 2: %v next %q %v", hits(r), r.Next, err)
	}
	yes, lo, hi := true, int64(2000), int64(3000)
	for _, c := range []struct {
		q    searchapi.Query
		want []string
	}{
		{searchapi.Query{InStock: &yes}, []string{"p2"}},
		{searchapi.Query{Category: "apparel"}, []string{"p1"}}, // shoes is below apparel
		{searchapi.Query{MinPrice: &lo, MaxPrice: &hi}, []string{"p2"}},
		{searchapi.Query{Text: "boots"}, nil}, // a draft
	} {
		if r, err := s.Query(ctx, c.q); err != nil || !slices.Equal(hits(r), c.want) {
			t.Fatalf("query %+v: %v %v, want %v", c.q, hits(r), err, c.want)
		}
	}
	neg := int64(-1)
	for _, c := range []struct {
		q     searchapi.Query
		field string
	}{
		{searchapi.Query{Category: "no-such-category"}, "category"},
		{searchapi.Query{Sort: "cheapest"}, "sort"},
		{searchapi.Query{MinPrice: &neg}, "min_price"},
		{searchapi.Query{MinPrice: &hi, MaxPrice: &lo}, "max_price"},
		{searchapi.Query{Limit: 101}, "limit"},
		{searchapi.Query{Cursor: "not-a-cursor"}, "cursor"},
	} {
		_, err := s.Query(ctx, c.q)
		e := errs.As(err)
		if e == nil || e.Kind != errs.KindValidation || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
			t.Fatalf("query %+v: %v, want a validation error of %s", c.q, err, c.field)
		}
	}
}

// wantErr checks an error's code and HTTP status: what survives the wire.
func wantErr(t *testing.T, what string, err error, want *errs.Error, status int) {
	t.Helper()
	e := errs.As(err)
	if e == nil || !errors.Is(err, want) || e.Kind.Status() != status {
		t.Fatalf("%s: got %v, want %s (%d)", what, err, want.Code, status)
	}
}
