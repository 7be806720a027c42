package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/catalog"
	"github.com/modshop/modshop/modules/catalog/api"
	invapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/testkit"
)

func importable(slug string, status api.Status, categoryID *string, prices ...int64) api.NewProduct {
	p := api.NewProduct{Slug: slug, Title: "Title " + slug, Status: status, CategoryID: categoryID}
	for i, pr := range prices {
		p.Variants = append(p.Variants, api.NewVariant{SKU: fmt.Sprintf("%s-%d", slug, i), Title: fmt.Sprint(i), Price: pr})
	}
	return p
}

// TestCatalogAPI uses api.Catalog and api.Admin as other modules and the
// seed command do, through the fx graph.
func TestCatalogAPI(t *testing.T) {
	t.Parallel()
	e := startWith(t, testkit.SQLite(t), fx.Module("inventory", fx.Provide(func() invapi.Inventory { return &fakeInventory{} })),
		map[string]string{"MODSHOP_CURRENCY": "USD"})
	ctx := context.Background()
	root, err := e.adm.CreateCategory(ctx, api.NewCategory{Slug: "tools", Name: "Tools"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := e.adm.CreateCategory(ctx, api.NewCategory{Slug: "saws", Name: "Saws", ParentID: &root.ID})
	if err != nil || *leaf.ParentID != root.ID {
		t.Fatalf("child category: %+v %v", leaf, err)
	}
	if _, err := e.adm.CreateCategory(ctx, api.NewCategory{Slug: "saws", Name: "Again"}); !errors.Is(err, api.ErrSlugTaken) {
		t.Errorf("taken category slug: %v", err)
	}

	batch := []api.NewProduct{
		importable("saw-a", api.StatusPublished, &leaf.ID, 1000, 900),
		importable("saw-b", api.StatusDraft, &leaf.ID, 2000),
		importable("hammer", api.StatusPublished, nil, 500),
	}
	n, err := e.adm.ImportProducts(ctx, batch)
	if err != nil || n != 3 {
		t.Fatalf("import: %d %v", n, err)
	}
	if n, err := e.adm.ImportProducts(ctx, batch); err != nil || n != 0 {
		t.Fatalf("import again: %d %v, want 0 created and no error", n, err)
	}
	if n, err := e.adm.ImportProducts(ctx, append(batch, importable("drill", api.StatusPublished, &root.ID, 7000))); err != nil || n != 1 {
		t.Fatalf("import with one new product: %d %v", n, err)
	}
	bad := importable("bad", api.StatusPublished, nil, -1)
	_, err = e.adm.ImportProducts(ctx, []api.NewProduct{importable("ok", api.StatusDraft, nil, 1), bad})
	if fe := errs.As(err); fe == nil || len(fe.Fields) != 1 || fe.Fields[0].Field != "[1].variants[0].price" {
		t.Fatalf("invalid import: %v", err)
	}
	missing := "no-such-category"
	_, err = e.adm.ImportProducts(ctx, []api.NewProduct{importable("lost", api.StatusDraft, &missing, 1)})
	if fe := errs.As(err); fe == nil || len(fe.Fields) != 1 || fe.Fields[0].Field != "[0].category_id" {
		t.Fatalf("unknown category in an import: %v", err)
	}
	clash := importable("clash", api.StatusDraft, nil, 1)
	clash.Variants[0].SKU = "hammer-0"
	if _, err := e.adm.ImportProducts(ctx, []api.NewProduct{clash}); !errors.Is(err, api.ErrSKUTaken) {
		t.Fatalf("SKU taken by another product: %v", err)
	}
	tooMany := make([]api.NewProduct, api.MaxImportBatch+1)
	if _, err := e.adm.ImportProducts(ctx, tooMany); errs.As(err) == nil || errs.As(err).Code != "validation_failed" {
		t.Fatalf("oversized import: %v", err)
	}

	// Each imported product published its events.
	var sawA api.Product
	all, next, err := e.catalog.Products(ctx, "", 2)
	for next != "" && err == nil {
		var page []api.Product
		page, next, err = e.catalog.Products(ctx, next, 2)
		all = append(all, page...)
	}
	if err != nil || len(all) != 4 {
		t.Fatalf("Products: %d products, %v", len(all), err)
	}
	if !slices.IsSortedFunc(all, func(a, b api.Product) int { return cmpStrings(a.ID, b.ID) }) {
		t.Errorf("Products is not in id order")
	}
	for _, p := range all {
		if p.Slug == "saw-a" {
			sawA = p
		}
	}
	if sawA.Version != 1 || len(sawA.Variants) != 2 || sawA.Variants[1].Price != (api.Money{Amount: 900, Currency: "USD"}) {
		t.Fatalf("saw-a %+v", sawA)
	}
	got := e.events.wait(t, sawA.ID, 3)
	if fmt.Sprint(names(got)) != fmt.Sprint([]string{api.EventVariantCreated, api.EventVariantCreated, api.EventProductPublished}) {
		t.Errorf("imported product's events %v", names(got))
	}
	// The first import's seven events came grouped by name, so the relay
	// sends them as three messages (one per run of a name), not seven.
	e.events.mu.Lock()
	first := names(e.events.got[:7])
	e.events.mu.Unlock()
	if want := []string{api.EventVariantCreated, api.EventVariantCreated, api.EventVariantCreated, api.EventVariantCreated,
		api.EventProductPublished, api.EventProductPublished, api.EventProductUpdated}; fmt.Sprint(first) != fmt.Sprint(want) {
		t.Errorf("an import's events in the order %v, want grouped by name %v", first, want)
	}
	if _, _, err := e.catalog.Products(ctx, "not-a-cursor", 10); errs.As(err) == nil {
		t.Errorf("a bad cursor was accepted")
	}

	p, err := e.catalog.Product(ctx, sawA.ID)
	if err != nil || p.Slug != "saw-a" {
		t.Fatalf("Product: %+v %v", p, err)
	}
	if _, err := e.catalog.Product(ctx, "nope"); !errors.Is(err, api.ErrProductNotFound) {
		t.Errorf("unknown product: %v", err)
	}

	vs, err := e.catalog.VariantsBySKU(ctx, []string{"saw-a-1", "saw-b-0", "nope"})
	if err != nil || len(vs) != 2 {
		t.Fatalf("VariantsBySKU: %+v %v", vs, err)
	}
	a1 := vs["saw-a-1"]
	if a1.ProductID != sawA.ID || a1.ProductTitle != "Title saw-a" || a1.Price.Amount != 900 || a1.Price.Currency != "USD" || !a1.Sellable() || a1.VariantID != sawA.Variants[1].ID {
		t.Errorf("saw-a-1 %+v", a1)
	}
	if vs["saw-b-0"].Sellable() {
		t.Errorf("a draft's variant is sellable")
	}

	cats, err := e.catalog.Categories(ctx)
	if err != nil || len(cats) != 2 || cats[0].ID != root.ID || cats[1].ParentID == nil {
		t.Fatalf("Categories: %+v %v", cats, err)
	}

	// The HTTP API shows the configured currency too.
	var hp product
	testkit.Expect(t, e.Get("/v1/products/saw-a", ""), http.StatusOK).JSON(t, &hp)
	if hp.Variants[0].Price.Currency != "USD" {
		t.Errorf("currency %q, want USD", hp.Variants[0].Price.Currency)
	}
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestAvailabilityOneCallPerPage shows that a page costs one inventory call
// whatever its size, and that the answer lands on the right variants.
func TestAvailabilityOneCallPerPage(t *testing.T) {
	t.Parallel()
	inv := &fakeInventory{levels: map[string]int64{}}
	e := startFake(t, testkit.SQLite(t), inv)
	ctx := context.Background()
	var batch []api.NewProduct
	for i := 0; i < 60; i++ {
		batch = append(batch, importable(fmt.Sprintf("stocked-%d", i), api.StatusPublished, nil, 100, 200))
		inv.levels[fmt.Sprintf("stocked-%d-0", i)] = int64(i % 3) // 0, 1 or 2 available
	}
	if _, err := e.adm.ImportProducts(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/products?limit=50", "/v1/products?limit=50&sort=title", "/v1/admin/products?limit=50"} {
		calls, skus := inv.stats()
		var l productList
		testkit.Expect(t, e.Get(path, e.admin), http.StatusOK).JSON(t, &l)
		c2, s2 := inv.stats()
		if c2-calls != 1 || s2-skus != 100 {
			t.Fatalf("%s: %d availability calls for %d SKUs, want 1 call for 100", path, c2-calls, s2-skus)
		}
		for _, p := range l.Items {
			for _, v := range p.Variants {
				want := inv.levels[v.SKU]
				if v.Available != want || v.InStock != (want > 0) {
					t.Fatalf("%s: available %d in_stock %v, want %d", v.SKU, v.Available, v.InStock, want)
				}
			}
		}
	}
	calls, _ := inv.stats()
	testkit.Expect(t, e.Get("/v1/products/stocked-2", ""), http.StatusOK)
	if c, _ := inv.stats(); c-calls != 1 {
		t.Fatalf("one product cost %d calls", c-calls)
	}

	// Inventory down: the catalog still answers, showing no stock once
	// the cached stock has expired (httpapi.CacheConfig.StockTTL).
	inv.mu.Lock()
	inv.fail = true
	inv.mu.Unlock()
	var p product
	testkit.Eventually(t, 3*time.Second, func() bool {
		testkit.Expect(t, e.Get("/v1/products/stocked-2", ""), http.StatusOK).JSON(t, &p)
		return p.Variants[0].Available == 0 && !p.Variants[0].InStock
	}, "with inventory down, still showing stock: %+v", &p)
}

// TestStockFromInventory runs the real inventory module: it learns the SKU
// from variant_created, an admin adds stock, and the catalog shows it.
func TestStockFromInventory(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	p := e.createProduct(newProduct("stocked", "published", 1000))
	sku := p.Variants[0].SKU
	var r testkit.Response
	testkit.Eventually(t, 5*time.Second, func() bool {
		r = e.Post("/v1/admin/inventory/"+sku+"/adjustments", e.admin, map[string]any{"delta": 7, "reason": "delivery"})
		return r.Status == http.StatusCreated
	}, "inventory never learnt SKU %s: %d %s", sku, r.Status, r.Body)
	var got product
	testkit.Expect(t, e.Get("/v1/products/stocked", ""), http.StatusOK).JSON(t, &got)
	if got.Variants[0].Available != 7 || !got.Variants[0].InStock {
		t.Fatalf("variant %+v, want 7 available from inventory", got.Variants[0])
	}
}

// TestImportLargeBatch imports 1,000 products with four variants each:
// 5,000 events in one transaction, more than one INSERT may bind on SQLite.
func TestImportLargeBatch(t *testing.T) {
	t.Parallel()
	// No event probe here: relaying 5,000 events to it would only slow the
	// shop's shutdown.
	e := &env{t: t}
	inv := fx.Module("inventory", fx.Provide(func() invapi.Inventory { return &fakeInventory{} }))
	e.Shop = testkit.Start(t, []app.Module{{Name: "inventory", Local: inv}, {Name: catalog.Name, Local: catalog.Module}},
		testkit.Options{Extra: []fx.Option{fx.Populate(&e.adm)}})
	e.admin = e.AdminToken()
	batch := make([]api.NewProduct, 1000)
	for i := range batch {
		batch[i] = importable(fmt.Sprintf("bulk-%d", i), api.StatusPublished, nil, 400, 300, 200, 100)
	}
	n, err := e.adm.ImportProducts(context.Background(), batch)
	if err != nil || n != len(batch) {
		t.Fatalf("import: %d, %v", n, err)
	}
	l := e.list("/v1/products?sort=price_asc&limit=1")
	if len(l.Items) != 1 || priceFrom(l.Items[0]) != 100 {
		t.Fatalf("first product %+v", l.Items)
	}
	// The 5,000 events are in the outbox (the relay delivering them all is
	// TestEvents' business): the page below comes from the same commit.
	var all productList
	testkit.Expect(t, e.Get("/v1/admin/products?limit=100", e.admin), 200).JSON(t, &all)
	if len(all.Items) != 100 || all.NextCursor == nil {
		t.Fatalf("admin list after the import: %d items", len(all.Items))
	}
}
