package search_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/search"
	searchapi "github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// The search module runs alone here. In place of the catalog and inventory
// modules stands a test module that owns a real outbox and publishes their
// real api events through the real bus, and answers api.Catalog from memory.

type upstream struct {
	inventory.Inventory // search only asks for Availability, answered below
	ob                  *events.Outbox
	mu                  sync.Mutex
	cats                []catalog.Category
	prod                map[string]catalog.Product
	lvl                 map[string]inventory.Level
	// failCategories makes Categories fail; failNextPage makes Products
	// answer its first page with a cursor and fail on the next.
	failCategories, failNextPage error
}

func (u *upstream) publish(t *testing.T, evts ...events.Event) {
	t.Helper()
	if err := u.ob.Transact(context.Background(), func(tx *events.Tx) error { return tx.Publish(evts...) }); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func (u *upstream) Categories(context.Context) ([]catalog.Category, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failCategories != nil {
		return nil, u.failCategories
	}
	return append([]catalog.Category(nil), u.cats...), nil
}
func (u *upstream) VariantsBySKU(context.Context, []string) (map[string]catalog.VariantInfo, error) {
	return nil, nil
}
func (u *upstream) Product(_ context.Context, id string) (catalog.Product, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.prod[id]
	if !ok {
		return p, catalog.ErrProductNotFound
	}
	return p, nil
}
func (u *upstream) Products(_ context.Context, cursor string, limit int) ([]catalog.Product, string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failNextPage != nil && cursor != "" {
		return nil, "", u.failNextPage
	}
	var out []catalog.Product
	for _, p := range u.prod {
		out = append(out, p)
	}
	if u.failNextPage != nil {
		return out, "next-page", nil
	}
	return out, "", nil
}
func (u *upstream) Availability(_ context.Context, skus []string) (map[string]inventory.Level, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string]inventory.Level{}
	for _, s := range skus {
		if l, ok := u.lvl[s]; ok {
			out[s] = l
		}
	}
	return out, nil
}

func strp(s string) *string { return &s }

// internalToken lets the contract suite call search over HTTP.
const internalToken = "search-test-internal-token"

func startSearch(t *testing.T, db testkit.DB, dataDir string, extra ...fx.Option) (*testkit.Shop, *upstream, searchapi.Search) {
	t.Helper()
	u := &upstream{
		cats: []catalog.Category{
			{ID: "c-apparel", Slug: "apparel", Name: "Apparel"},
			{ID: "c-shoes", Slug: "shoes", Name: "Shoes", ParentID: strp("c-apparel")},
			{ID: "c-home", Slug: "home", Name: "Home"},
		},
		prod: map[string]catalog.Product{},
		lvl:  map[string]inventory.Level{},
	}
	upstreamModule := fx.Module("catalog",
		modkit.Storage("catalog"),
		fx.Invoke(func(ob *events.Outbox) { u.ob = ob }),
		fx.Provide(func() catalog.Catalog { return u }, func() inventory.Inventory { return u }),
	)
	var s searchapi.Search
	env := map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken}
	if dataDir != "" {
		env["MODSHOP_DATA_DIR"] = dataDir
	}
	shop := testkit.Start(t, []app.Module{{Name: "catalog", Local: upstreamModule}, {Name: search.Name, Local: search.Module}},
		testkit.Options{DB: &db, Env: env, Extra: append([]fx.Option{fx.Populate(&s)}, extra...)})
	return shop, u, s
}

func snapshot(id, title, desc, cat string, price int64, version int64, status catalog.Status) catalog.ProductSnapshot {
	path := []string{cat}
	if cat == "c-shoes" {
		path = []string{"c-apparel", "c-shoes"}
	}
	return catalog.ProductSnapshot{
		ProductID: id, Slug: strings.ToLower(strings.ReplaceAll(title, " ", "-")) + "-" + id, Title: title, Description: desc,
		CategoryID: strp(cat), CategoryPath: path, Status: status, Version: version,
		Variants:  []catalog.VariantPayload{{VariantID: "v-" + id, SKU: "SKU-" + id, Title: "Default", Price: catalog.Money{Amount: price, Currency: "EUR"}}},
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(version) * time.Hour),
		UpdatedAt: time.Now().UTC(),
	}
}

type result struct {
	Items []struct {
		ProductID string `json:"product_id"`
		Title     string `json:"title"`
		Snippet   string `json:"snippet"`
		InStock   bool   `json:"in_stock"`
		PriceFrom struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"price_from"`
	} `json:"items"`
	Total  int `json:"total"`
	Facets struct {
		Category []struct {
			Value string `json:"value"`
			Count int    `json:"count"`
			Slug  string `json:"slug"`
		} `json:"category"`
		Price []struct {
			From  int64  `json:"from"`
			To    *int64 `json:"to"`
			Count int    `json:"count"`
		} `json:"price"`
		InStock []struct {
			Value bool `json:"value"`
			Count int  `json:"count"`
		} `json:"in_stock"`
	} `json:"facets"`
	NextCursor *string `json:"next_cursor"`
}

func find(t *testing.T, shop *testkit.Shop, query string) result {
	t.Helper()
	var r result
	testkit.Expect(t, shop.Get("/v1/search?"+query, ""), 200).JSON(t, &r)
	return r
}

func ids(r result) []string {
	out := make([]string, len(r.Items))
	for i, it := range r.Items {
		out[i] = it.ProductID
	}
	return out
}

// within polls a search until check holds: the contract's freshness is 2 s.
func within(t *testing.T, shop *testkit.Shop, query string, check func(result) bool, what string) result {
	t.Helper()
	var last result
	testkit.Eventually(t, 2*time.Second, func() bool { last = find(t, shop, query); return check(last) }, "%s (last answer: %+v)", what, ids(last))
	return last
}

func TestSearchFollowsEvents(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop, u, _ := startSearch(t, db, "")
		u.publish(t,
			catalog.ProductPublished{ProductSnapshot: snapshot("p1", "Running Shoes", "Light shoes for long runs on the road.", "c-shoes", 8999, 1, catalog.StatusPublished)},
			catalog.ProductPublished{ProductSnapshot: snapshot("p2", "Trail Jacket", "A jacket for running in the rain.", "c-apparel", 12999, 1, catalog.StatusPublished)},
			catalog.ProductPublished{ProductSnapshot: snapshot("p3", "Coffee Mug", "Stoneware mug <b>bold</b>.", "c-home", 1299, 1, catalog.StatusPublished)},
			catalog.ProductUpdated{ProductSnapshot: snapshot("p4", "Running Socks", "Draft socks.", "c-apparel", 999, 1, catalog.StatusDraft)},
		)

		r := within(t, shop, "q=runing+sheos", func(r result) bool { return len(r.Items) > 0 && r.Items[0].ProductID == "p1" },
			"a typo query finds Running Shoes first")
		if r.Items[0].PriceFrom.Amount != 8999 || r.Items[0].PriceFrom.Currency != "EUR" {
			t.Errorf("price_from = %+v", r.Items[0].PriceFrom)
		}

		// Title matches rank above description matches; drafts never show.
		r = find(t, shop, "q=running")
		if got := ids(r); len(got) != 2 || got[0] != "p1" || got[1] != "p2" {
			t.Errorf("q=running gives %v, want [p1 p2] (title match first, no draft)", got)
		}
		if !strings.Contains(r.Items[0].Snippet, "<mark>") && !strings.Contains(r.Items[1].Snippet, "<mark>") {
			t.Errorf("no highlighted snippet in %+v", r.Items)
		}

		// Empty q lists everything, with facets over all matches.
		r = find(t, shop, "")
		if r.Total != 3 {
			t.Errorf("total = %d, want 3", r.Total)
		}
		counts := map[string]int{}
		for _, f := range r.Facets.Category {
			counts[f.Slug] = f.Count
		}
		if counts["shoes"] != 1 || counts["apparel"] != 1 || counts["home"] != 1 {
			t.Errorf("category facets = %+v", r.Facets.Category)
		}
		if len(r.Facets.Price) != 5 || r.Facets.Price[4].To != nil {
			t.Errorf("price facets = %+v", r.Facets.Price)
		}

		// Category filter by slug includes subcategories; by id too.
		if got := ids(find(t, shop, "category=apparel&sort=price_asc")); strings.Join(got, ",") != "p1,p2" {
			t.Errorf("category=apparel gives %v, want [p1 p2]", got)
		}
		if got := ids(find(t, shop, "category=c-home")); strings.Join(got, ",") != "p3" {
			t.Errorf("category=c-home gives %v", got)
		}
		// Inclusive price bounds.
		if got := ids(find(t, shop, "min_price=1299&max_price=8999&sort=price_desc")); strings.Join(got, ",") != "p1,p3" {
			t.Errorf("price filter gives %v, want [p1 p3]", got)
		}

		// Stock: nothing in stock yet, then a SKU gets stock.
		if r := find(t, shop, "in_stock=true"); r.Total != 0 {
			t.Errorf("in_stock=true before any stock: %d", r.Total)
		}
		u.publish(t, inventory.StockChanged{SKU: "SKU-p3", OnHand: 5, Available: 5, Version: 1})
		within(t, shop, "in_stock=true", func(r result) bool { return r.Total == 1 && r.Items[0].ProductID == "p3" && r.Items[0].InStock },
			"stock change shows")

		// A change is reflected; a late, older snapshot is ignored.
		u.publish(t, catalog.ProductUpdated{ProductSnapshot: snapshot("p2", "Storm Parka", "Warm.", "c-apparel", 12999, 3, catalog.StatusPublished)})
		u.publish(t, catalog.ProductUpdated{ProductSnapshot: snapshot("p2", "Trail Jacket", "Old.", "c-apparel", 12999, 2, catalog.StatusPublished)})
		within(t, shop, "q=parka", func(r result) bool { return len(r.Items) == 1 && r.Items[0].Title == "Storm Parka" }, "update shows")
		time.Sleep(200 * time.Millisecond)
		if r := find(t, shop, "q=jacket"); r.Total != 0 {
			t.Errorf("an older snapshot overwrote a newer one: %+v", r.Items)
		}

		// Archived products disappear.
		u.publish(t, catalog.ProductArchived{ProductSnapshot: snapshot("p1", "Running Shoes", "x", "c-shoes", 8999, 2, catalog.StatusArchived)})
		within(t, shop, "q=shoes", func(r result) bool { return r.Total == 0 }, "archived product disappears")
	})
}

func TestSearchPagination(t *testing.T) {
	t.Parallel()
	shop, u, _ := startSearch(t, testkit.SQLite(t), "")
	var evts []events.Event
	for i := range 45 {
		evts = append(evts, catalog.ProductPublished{ProductSnapshot: snapshot(fmt.Sprintf("p%02d", i), fmt.Sprintf("Walking Boot %d", i), "Sturdy boot.", "c-shoes", int64(1000+i%7*100), int64(i+1), catalog.StatusPublished)})
	}
	u.publish(t, evts...)
	within(t, shop, "q=boot", func(r result) bool { return r.Total == 45 }, "45 boots indexed")
	for _, sort := range []string{"relevance", "price_asc", "price_desc", "newest"} {
		seen := map[string]bool{}
		q := "q=boot&limit=10&sort=" + sort
		var prev int64 = -1
		for page := 0; ; page++ {
			r := find(t, shop, q)
			for _, it := range r.Items {
				if seen[it.ProductID] {
					t.Fatalf("%s: %s seen twice", sort, it.ProductID)
				}
				seen[it.ProductID] = true
				if sort == "price_asc" && it.PriceFrom.Amount < prev {
					t.Fatalf("price_asc out of order")
				}
				prev = it.PriceFrom.Amount
			}
			if r.NextCursor == nil {
				break
			}
			if page > 10 {
				t.Fatal("pagination does not end")
			}
			q = "q=boot&limit=10&sort=" + sort + "&cursor=" + url.QueryEscape(*r.NextCursor)
		}
		if len(seen) != 45 {
			t.Errorf("%s: walked %d products, want 45", sort, len(seen))
		}
	}
}

func TestSearchBadInput(t *testing.T) {
	t.Parallel()
	shop, u, _ := startSearch(t, testkit.SQLite(t), "")
	u.publish(t, catalog.ProductPublished{ProductSnapshot: snapshot("p1", "Running Shoes", "Light.", "c-shoes", 8999, 1, catalog.StatusPublished)},
		catalog.ProductPublished{ProductSnapshot: snapshot("p2", "Tennis Shoes", "White.", "c-shoes", 5999, 1, catalog.StatusPublished)})
	within(t, shop, "q=shoes", func(r result) bool { return r.Total == 2 }, "indexed")

	for _, q := range []string{
		`"unbalanced`, `+title:shoes -foo`, `shoes AND NOT (boots OR *)`, `\\\\`, `~~~^^^`, `title:/.*/`,
		strings.Repeat("a", 10_000), strings.Repeat("shoes ", 2000), "%ff%fe",
	} {
		r := shop.Get("/v1/search?q="+url.QueryEscape(q), "")
		if r.Status != 200 {
			t.Errorf("hostile query %.30q: status %d %s", q, r.Status, r.Body)
		}
	}
	// A NUL byte or invalid UTF-8 never reaches the index: 400 (the contract).
	for _, q := range []string{"\x00\x01", "\xff\xfe"} {
		testkit.ExpectProblem(t, shop.Get("/v1/search?q="+url.QueryEscape(q), ""), 400, "bad_request")
	}
	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=x", "limit"},
		{"sort=cheapest", "sort"}, {"in_stock=yes", "in_stock"},
		{"min_price=-1", "min_price"}, {"max_price=abc", "max_price"}, {"min_price=500&max_price=100", "max_price"},
		{"cursor=not-a-cursor", "cursor"}, {"category=no-such-category", "category"},
	} {
		r := shop.Get("/v1/search?"+tc.query, "")
		testkit.ExpectProblem(t, r, 422, "validation_failed")
		if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: no field error for %s: %s", tc.query, tc.field, r.Body)
		}
	}
	// A cursor of one sort is refused for another.
	r := find(t, shop, "limit=1&sort=price_asc")
	if r.NextCursor == nil {
		t.Fatal("no next_cursor with 2 matches and limit=1")
	}
	testkit.ExpectProblem(t, shop.Get("/v1/search?sort=newest&cursor="+url.QueryEscape(*r.NextCursor), ""), 422, "validation_failed")
	testkit.ExpectProblem(t, shop.Do(testkit.Req{Method: "POST", Path: "/v1/admin/search/reindex"}), 401, "unauthorized")
	testkit.ExpectProblem(t, shop.Do(testkit.Req{Method: "POST", Path: "/v1/admin/search/reindex", Token: shop.Token("c1", "customer")}), 403, "forbidden")
}

func TestSearchIndexRebuildsAfterLoss(t *testing.T) {
	t.Parallel()
	db := testkit.SQLite(t)
	dir := t.TempDir()
	shop, u, _ := startSearch(t, db, dir)
	u.publish(t, catalog.ProductPublished{ProductSnapshot: snapshot("p1", "Running Shoes", "Light.", "c-shoes", 8999, 1, catalog.StatusPublished)})
	within(t, shop, "q=shoes", func(r result) bool { return r.Total == 1 }, "indexed")
	shop.Stop()

	// The index folder is lost; the read model in the database is not.
	if err := os.RemoveAll(filepath.Join(dir, "search.bleve")); err != nil {
		t.Fatal(err)
	}
	shop, _, _ = startSearch(t, db, dir)
	within(t, shop, "q=shoes", func(r result) bool { return r.Total == 1 }, "the index is rebuilt from the read model at start")
}

func TestReindexFromCatalog(t *testing.T) {
	t.Parallel()
	shop, u, s := startSearch(t, testkit.SQLite(t), "")
	now := time.Now().UTC()
	u.mu.Lock()
	u.prod["p9"] = catalog.Product{ID: "p9", Slug: "garden-hose", Title: "Garden Hose", Description: "Twenty metres.", CategoryID: strp("c-home"),
		Status: catalog.StatusPublished, Version: 4, CreatedAt: now, UpdatedAt: now,
		Variants: []catalog.Variant{{ID: "v9", SKU: "SKU-p9", Title: "Green", Price: catalog.Money{Amount: 2599, Currency: "EUR"}}}}
	u.lvl["SKU-p9"] = inventory.Level{SKU: "SKU-p9", OnHand: 3, Available: 3}
	u.mu.Unlock()
	n, err := s.Reindex(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("reindex: %d, %v", n, err)
	}
	r := find(t, shop, "q=hose&in_stock=true&category=home")
	if r.Total != 1 || !r.Items[0].InStock {
		t.Fatalf("after reindex: %+v", r)
	}

	// The admin route rebuilds in the background and answers at once.
	u.mu.Lock()
	u.prod["p10"] = catalog.Product{ID: "p10", Slug: "watering-can", Title: "Watering Can", Description: "Ten litres.", CategoryID: strp("c-home"),
		Status: catalog.StatusPublished, Version: 1, CreatedAt: now, UpdatedAt: now,
		Variants: []catalog.Variant{{ID: "v10", SKU: "SKU-p10", Title: "Zinc", Price: catalog.Money{Amount: 1999, Currency: "EUR"}}}}
	u.mu.Unlock()
	testkit.Expect(t, shop.Post("/v1/admin/search/reindex", shop.AdminToken(), nil), 202)
	within(t, shop, "q=watering", func(r result) bool { return r.Total == 1 }, "the admin reindex picks up a product no event announced")
}
