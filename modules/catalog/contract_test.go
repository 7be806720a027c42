package catalog_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/catalog"
	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Admin and api.Catalog, run twice: against the module
// itself, and through its HTTP client (remote.go) against a real server,
// each on a database of its own. Both runs assert the same outcomes, so any
// difference between the two implementations fails one of them. Every
// answer is also compared with what the module itself reads back, so
// nothing is lost on the wire.
func TestContract(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db)
			contract(t, e, e.catalog, e.adm, e.store)
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			c := catalog.NewClient(remote.NewClient(catalog.Name, e.URL, internalToken))
			contract(t, e, c, c, c)
		})
	})
}

func contract(t *testing.T, e *env, cat api.Catalog, adm api.Admin, sf api.Storefront) {
	var f fixture
	if !t.Run("Admin", func(t *testing.T) { f = adminContract(t, e, adm) }) {
		return
	}
	t.Run("Catalog", func(t *testing.T) { catalogContract(t, e, cat, f) })
	t.Run("Storefront", func(t *testing.T) { storefrontContract(t, e, sf, f) })
}

// fixture is what the admin contract created, for the catalog contract to
// read.
type fixture struct {
	root, leaf  api.Category
	saw, hammer api.Product // created one at a time
	imported    []string    // slugs of the imported products
}

func adminContract(t *testing.T, e *env, adm api.Admin) fixture {
	ctx := context.Background()
	cur := e.Config.Currency
	var f fixture
	var err error

	// Categories.
	f.root, err = adm.CreateCategory(ctx, api.NewCategory{Slug: "tools", Name: "Tools"})
	if err != nil || f.root.ID == "" || f.root != (api.Category{ID: f.root.ID, Slug: "tools", Name: "Tools"}) {
		t.Fatalf("create root category: %+v %v", f.root, err)
	}
	f.leaf, err = adm.CreateCategory(ctx, api.NewCategory{Slug: "saws", Name: "Saws", ParentID: &f.root.ID})
	if err != nil || f.leaf.Slug != "saws" || f.leaf.ParentID == nil || *f.leaf.ParentID != f.root.ID {
		t.Fatalf("create child category: %+v %v", f.leaf, err)
	}
	err = second(adm.CreateCategory(ctx, api.NewCategory{Slug: "saws", Name: "Again"}))
	wantErr(t, "category slug taken", err, api.ErrSlugTaken, http.StatusConflict)
	wantMessage(t, "category slug taken", err, `the slug "saws" is already taken`)
	wantFields(t, "invalid category", second(adm.CreateCategory(ctx, api.NewCategory{Slug: "Not A Slug", Name: " "})), "slug", "name")
	missing := "no-such-category"
	wantFields(t, "category under an unknown parent",
		second(adm.CreateCategory(ctx, api.NewCategory{Slug: "orphans", Name: "Orphans", ParentID: &missing})), "parent_id")

	// Products one at a time.
	f.saw, err = adm.CreateProduct(ctx, api.NewProduct{Slug: "panel-saw", Title: "Panel Saw", Description: "Cuts panels.",
		CategoryID: &f.leaf.ID, Status: api.StatusPublished, Variants: []api.NewVariant{
			{SKU: "SAW-S", Title: "Small", Price: 1999, Attributes: map[string]string{"length": "40cm"}},
			{SKU: "SAW-L", Title: "Large", Price: 2999},
		}})
	if err != nil {
		t.Fatalf("create product: %v", err)
	}
	want := api.Product{ID: f.saw.ID, Slug: "panel-saw", Title: "Panel Saw", Description: "Cuts panels.", CategoryID: &f.leaf.ID,
		Status: api.StatusPublished, CreatedAt: f.saw.CreatedAt, UpdatedAt: f.saw.CreatedAt, Version: 1, Variants: []api.Variant{
			{ID: variantID(f.saw, 0), SKU: "SAW-S", Title: "Small", Price: api.Money{Amount: 1999, Currency: cur}, Attributes: map[string]string{"length": "40cm"}},
			{ID: variantID(f.saw, 1), SKU: "SAW-L", Title: "Large", Price: api.Money{Amount: 2999, Currency: cur}, Attributes: map[string]string{}},
		}}
	if f.saw.ID == "" || variantID(f.saw, 0) == "" || f.saw.CreatedAt.IsZero() || !sameProduct(f.saw, want) {
		t.Fatalf("created product:\n got %+v\nwant %+v", f.saw, want)
	}
	// What the caller got is what the catalog stored.
	sameAsStored(t, e, f.saw)
	f.hammer, err = adm.CreateProduct(ctx, api.NewProduct{Slug: "claw-hammer", Title: "Claw Hammer",
		Variants: []api.NewVariant{{SKU: "HAMMER", Title: "Steel", Price: 1250}}})
	if err != nil || f.hammer.Status != api.StatusDraft || f.hammer.CategoryID != nil || f.hammer.Description != "" {
		t.Fatalf("create a draft without a category: %+v %v", f.hammer, err)
	}
	sameAsStored(t, e, f.hammer)

	err = second(adm.CreateProduct(ctx, api.NewProduct{Slug: "panel-saw", Title: "Other", Variants: []api.NewVariant{{SKU: "OTHER", Title: "x", Price: 1}}}))
	wantErr(t, "product slug taken", err, api.ErrSlugTaken, http.StatusConflict)
	wantMessage(t, "product slug taken", err, `the slug "panel-saw" is already taken`)
	err = second(adm.CreateProduct(ctx, api.NewProduct{Slug: "other-saw", Title: "Other", Variants: []api.NewVariant{{SKU: "SAW-S", Title: "x", Price: 1}}}))
	wantErr(t, "SKU taken by another product", err, api.ErrSKUTaken, http.StatusConflict)
	err = second(adm.CreateProduct(ctx, api.NewProduct{Slug: "twin", Title: "Twin", Variants: []api.NewVariant{
		{SKU: "TWIN", Title: "a", Price: 1}, {SKU: "TWIN", Title: "b", Price: 2}}}))
	wantErr(t, "SKU repeated in the request", err, api.ErrSKUTaken, http.StatusConflict)
	wantMessage(t, "SKU repeated in the request", err, `the SKU "TWIN" is already taken`)
	wantFields(t, "invalid product", second(adm.CreateProduct(ctx, api.NewProduct{Slug: "ok", Title: "", Status: api.StatusArchived,
		Variants: []api.NewVariant{{SKU: "OK-1", Title: "x", Price: -1}}})), "title", "status", "variants[0].price")
	wantFields(t, "product without variants", second(adm.CreateProduct(ctx, api.NewProduct{Slug: "empty", Title: "Empty"})), "variants")
	wantFields(t, "product in an unknown category", second(adm.CreateProduct(ctx, api.NewProduct{Slug: "lost", Title: "Lost", CategoryID: &missing,
		Variants: []api.NewVariant{{SKU: "LOST", Title: "x", Price: 1}}})), "category_id")
	empty := ""
	wantFields(t, "product with an empty category id", second(adm.CreateProduct(ctx, api.NewProduct{Slug: "lost", Title: "Lost", CategoryID: &empty,
		Variants: []api.NewVariant{{SKU: "LOST", Title: "x", Price: 1}}})), "category_id")

	// Imports.
	batch := []api.NewProduct{
		importable("rip-saw", api.StatusPublished, &f.leaf.ID, 3000, 2800),
		importable("hack-saw", api.StatusDraft, &f.leaf.ID, 900),
		importable("mallet", api.StatusPublished, nil, 700),
	}
	if n, err := adm.ImportProducts(ctx, batch); err != nil || n != 3 {
		t.Fatalf("import: %d %v", n, err)
	}
	if n, err := adm.ImportProducts(ctx, batch); err != nil || n != 0 {
		t.Fatalf("import again: %d %v, want 0 created and no error", n, err)
	}
	if n, err := adm.ImportProducts(ctx, append(batch, importable("jigsaw", api.StatusPublished, &f.root.ID, 5000))); err != nil || n != 1 {
		t.Fatalf("import with one new product: %d %v", n, err)
	}
	f.imported = []string{"rip-saw", "hack-saw", "mallet", "jigsaw"}
	if n, err := adm.ImportProducts(ctx, nil); err != nil || n != 0 {
		t.Fatalf("import of nothing: %d %v", n, err)
	}
	wantFields(t, "invalid import", second(adm.ImportProducts(ctx, []api.NewProduct{
		importable("fine", api.StatusDraft, nil, 1), importable("bad", api.StatusPublished, nil, -1)})), "[1].variants[0].price")
	wantFields(t, "import into an unknown category", second(adm.ImportProducts(ctx, []api.NewProduct{
		importable("fine", api.StatusDraft, nil, 1), importable("lost", api.StatusDraft, &missing, 1)})), "[1].category_id")
	clash := importable("clash", api.StatusDraft, nil, 1)
	clash.Variants[0].SKU = "HAMMER"
	wantErr(t, "import of a taken SKU", second(adm.ImportProducts(ctx, []api.NewProduct{clash})), api.ErrSKUTaken, http.StatusConflict)
	err = second(adm.ImportProducts(ctx, []api.NewProduct{importable("twice", api.StatusDraft, nil, 1), importable("twice", api.StatusDraft, nil, 2)}))
	wantErr(t, "slug repeated in an import", err, api.ErrSlugTaken, http.StatusConflict)
	wantMessage(t, "slug repeated in an import", err, `the slug "twice" is already taken`)
	wantFields(t, "import over the batch limit", second(adm.ImportProducts(ctx, make([]api.NewProduct, api.MaxImportBatch+1))), "products")
	return f
}

func catalogContract(t *testing.T, e *env, cat api.Catalog, f fixture) {
	ctx := context.Background()
	cur := e.Config.Currency

	cats, err := cat.Categories(ctx)
	if err != nil || !reflect.DeepEqual(cats, []api.Category{f.root, f.leaf}) {
		t.Fatalf("categories: %+v %v, want %+v", cats, err, []api.Category{f.root, f.leaf})
	}

	for _, want := range []api.Product{f.saw, f.hammer} {
		got, err := cat.Product(ctx, want.ID)
		if err != nil || !sameProduct(got, want) {
			t.Fatalf("product %s:\n got %+v %v\nwant %+v", want.Slug, got, err, want)
		}
	}
	err = second(cat.Product(ctx, "no-such-product"))
	wantErr(t, "unknown product", err, api.ErrProductNotFound, http.StatusNotFound)
	wantMessage(t, "unknown product", err, api.ErrProductNotFound.Message)
	wantErr(t, "product by slug", second(cat.Product(ctx, "panel-saw")), api.ErrProductNotFound, http.StatusNotFound)

	vs, err := cat.VariantsBySKU(ctx, []string{"SAW-L", "HAMMER", "NOPE"})
	wantVariants := map[string]api.VariantInfo{
		"SAW-L": {VariantID: variantID(f.saw, 1), SKU: "SAW-L", Title: "Large", ProductID: f.saw.ID, ProductTitle: "Panel Saw",
			ProductStatus: api.StatusPublished, Price: api.Money{Amount: 2999, Currency: cur}},
		"HAMMER": {VariantID: variantID(f.hammer, 0), SKU: "HAMMER", Title: "Steel", ProductID: f.hammer.ID, ProductTitle: "Claw Hammer",
			ProductStatus: api.StatusDraft, Price: api.Money{Amount: 1250, Currency: cur}},
	}
	if err != nil || !reflect.DeepEqual(vs, wantVariants) || !vs["SAW-L"].Sellable() || vs["HAMMER"].Sellable() {
		t.Fatalf("variants by SKU:\n got %+v %v\nwant %+v", vs, err, wantVariants)
	}
	for _, skus := range [][]string{nil, {}, {"NOPE"}} {
		if vs, err := cat.VariantsBySKU(ctx, skus); err != nil || vs == nil || len(vs) != 0 {
			t.Fatalf("variants by SKU %q: %+v %v, want an empty map", skus, vs, err)
		}
	}

	// Every product, a page at a time, in id order, as the catalog itself
	// reads each one.
	var all []api.Product
	cursor := ""
	for page := 0; ; page++ {
		ps, next, err := cat.Products(ctx, cursor, 2)
		if err != nil || len(ps) == 0 || len(ps) > 2 {
			t.Fatalf("products page %d: %d products, %v", page, len(ps), err)
		}
		local, localNext, err := e.catalog.Products(ctx, cursor, 2)
		if err != nil || !sameProducts(ps, local) || next != localNext {
			t.Fatalf("products page %d differs from the catalog's own:\n got %+v next %q\nwant %+v next %q (%v)", page, ps, next, local, localNext, err)
		}
		all = append(all, ps...)
		if next == "" {
			break
		}
		if page > 10 {
			t.Fatal("the pages do not end")
		}
		cursor = next
	}
	slugs := make([]string, len(all))
	for i, p := range all {
		slugs[i] = p.Slug
		if i > 0 && all[i-1].ID >= p.ID {
			t.Fatalf("products out of id order: %s then %s", all[i-1].ID, p.ID)
		}
		got, err := cat.Product(ctx, p.ID)
		if err != nil || !sameProduct(got, p) {
			t.Fatalf("product %s from a page differs from the product read alone:\n page %+v\n read %+v %v", p.Slug, p, got, err)
		}
	}
	slices.Sort(slugs)
	wantSlugs := append([]string{f.saw.Slug, f.hammer.Slug}, f.imported...)
	slices.Sort(wantSlugs)
	if !slices.Equal(slugs, wantSlugs) {
		t.Fatalf("products: %v, want %v", slugs, wantSlugs)
	}
	// A limit out of range is taken as 100: one page holds them all.
	if ps, next, err := cat.Products(ctx, "", 0); err != nil || next != "" || !sameProducts(ps, all) {
		t.Fatalf("products with limit 0: %d products, next %q, %v", len(ps), next, err)
	}
	wantFields(t, "products after a bad cursor", second3(cat.Products(ctx, "not-a-cursor", 2)), "cursor")
}

func storefrontContract(t *testing.T, e *env, sf api.Storefront, f fixture) {
	ctx := context.Background()
	cur := e.Config.Currency
	// Stock of one variant (its level is made when inventory hears of the
	// SKU, so the first adjustment may find none yet).
	testkit.Eventually(t, 10*time.Second, func() bool {
		r := e.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/admin/inventory/SAW-S/adjustments", Token: e.admin,
			Body: map[string]any{"delta": 4, "reason": "contract"}, Header: map[string]string{"Idempotency-Key": "contract-saw-s"}})
		return r.Status == 201 || r.Status == 200
	}, "stock of SAW-S could not be booked")

	if cats, err := sf.ShopCategories(ctx); err != nil || !reflect.DeepEqual(cats, []api.Category{f.root, f.leaf}) {
		t.Fatalf("shop categories: %+v %v", cats, err)
	}

	// A product by slug and by id: the product as stored, its category, the
	// stock of each variant (the stock may be cached for a second).
	for _, ref := range []string{"panel-saw", f.saw.ID} {
		var v api.ProductView
		var err error
		testkit.Eventually(t, 5*time.Second, func() bool {
			v, err = sf.PublishedProduct(ctx, ref)
			return err == nil && v.Available(0) == 4
		}, "published product %s: %+v %v, want 4 of SAW-S available", ref, v, err)
		if !sameProduct(v.Product, f.saw) || !reflect.DeepEqual(v.Category, &f.leaf) ||
			!slices.Equal(v.Availability, []int64{4, 0}) || v.Available(2) != 0 {
			t.Fatalf("published product %s: %+v", ref, v)
		}
	}
	wantErr(t, "a draft product", second(sf.PublishedProduct(ctx, "claw-hammer")), api.ErrProductNotFound, http.StatusNotFound)
	wantErr(t, "an unknown product", second(sf.PublishedProduct(ctx, "no-such-product")), api.ErrProductNotFound, http.StatusNotFound)

	slugs := func(p api.ProductPage) []string {
		var out []string
		for _, it := range p.Items {
			out = append(out, it.Slug)
		}
		return out
	}
	// A category includes its subcategories; drafts are left out.
	p, err := sf.Browse(ctx, api.BrowseQuery{Category: "tools", Sort: api.SortPriceAsc})
	if err != nil || !slices.Equal(slugs(p), []string{"panel-saw", "rip-saw", "jigsaw"}) || p.Next != "" ||
		!reflect.DeepEqual(p.Category, &f.root) {
		t.Fatalf("browse tools by price: %v %+v %v", slugs(p), p.Category, err)
	}
	saw := p.Items[0]
	if saw.ID != f.saw.ID || saw.Title != "Panel Saw" || saw.CategoryID == nil || *saw.CategoryID != f.leaf.ID ||
		saw.PriceFrom != (api.Money{Amount: 1999, Currency: cur}) || saw.PriceTo != (api.Money{Amount: 2999, Currency: cur}) ||
		saw.Available != 4 || !saw.InStock() || p.Items[1].InStock() {
		t.Fatalf("browse: panel saw %+v, rip saw %+v", saw, p.Items[1])
	}
	// Pages by cursor, the other way round.
	p, err = sf.Browse(ctx, api.BrowseQuery{Category: f.root.ID, Sort: api.SortPriceDesc, Limit: 2})
	if err != nil || !slices.Equal(slugs(p), []string{"jigsaw", "rip-saw"}) || p.Next == "" {
		t.Fatalf("browse page 1: %v next %q %v", slugs(p), p.Next, err)
	}
	p, err = sf.Browse(ctx, api.BrowseQuery{Category: f.root.ID, Sort: api.SortPriceDesc, Limit: 2, Cursor: p.Next})
	if err != nil || !slices.Equal(slugs(p), []string{"panel-saw"}) || p.Next != "" {
		t.Fatalf("browse page 2: %v next %q %v", slugs(p), p.Next, err)
	}
	// Prices bound the lowest variant price, both inclusive.
	lo, hi := int64(2800), int64(4000)
	if p, err = sf.Browse(ctx, api.BrowseQuery{MinPrice: &lo, MaxPrice: &hi}); err != nil || !slices.Equal(slugs(p), []string{"rip-saw"}) || p.Category != nil {
		t.Fatalf("browse by price: %v %v", slugs(p), err)
	}
	p, err = sf.Browse(ctx, api.BrowseQuery{Sort: api.SortTitle})
	byTitle := func(a, b api.ProductSummary) int {
		return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
	}
	if got := slugs(p); err != nil || len(got) != 4 || !slices.Contains(got, "mallet") || !slices.IsSortedFunc(p.Items, byTitle) {
		t.Fatalf("browse everything by title: %v %v", got, err)
	}
	wantErr(t, "browse an unknown category", second(sf.Browse(ctx, api.BrowseQuery{Category: "no-such-category"})),
		api.ErrCategoryNotFound, http.StatusNotFound)
	neg := int64(-1)
	wantFields(t, "browse below zero", second(sf.Browse(ctx, api.BrowseQuery{MinPrice: &neg})), "min_price")
	wantFields(t, "browse with min above max", second(sf.Browse(ctx, api.BrowseQuery{MinPrice: &hi, MaxPrice: &lo})), "min_price")
	wantFields(t, "browse by an unknown sort", second(sf.Browse(ctx, api.BrowseQuery{Sort: "cheapest"})), "sort")
	wantFields(t, "browse with a bad cursor", second(sf.Browse(ctx, api.BrowseQuery{Cursor: "not-a-cursor"})), "cursor")
	wantFields(t, "browse too many", second(sf.Browse(ctx, api.BrowseQuery{Limit: 101})), "limit")
}

// variantID is the id of a product's i-th variant, or "" when it has none.
func variantID(p api.Product, i int) string {
	if i >= len(p.Variants) {
		return ""
	}
	return p.Variants[i].ID
}

// sameAsStored checks that a product a caller was given is the one the
// catalog itself reads back.
func sameAsStored(t *testing.T, e *env, p api.Product) {
	t.Helper()
	stored, err := e.catalog.Product(context.Background(), p.ID)
	if err != nil || !sameProduct(p, stored) {
		t.Fatalf("product %s:\n  given %+v\n stored %+v %v", p.Slug, p, stored, err)
	}
}

// sameProduct compares products field by field, times with Equal.
func sameProduct(a, b api.Product) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) {
		return false
	}
	a.CreatedAt, a.UpdatedAt, b.CreatedAt, b.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func sameProducts(a, b []api.Product) bool {
	return (a == nil) == (b == nil) && slices.EqualFunc(a, b, sameProduct)
}

func second[T any](_ T, err error) error { return err }

func second3[A, B any](_ A, _ B, err error) error { return err }

// wantErr checks an error's code and HTTP status: what survives the wire.
func wantErr(t *testing.T, what string, err error, want *errs.Error, status int) {
	t.Helper()
	e := errs.As(err)
	if e == nil || !errors.Is(err, want) || e.Kind.Status() != status {
		t.Fatalf("%s: got %v, want %s (%d)", what, err, want.Code, status)
	}
	if status == http.StatusUnprocessableEntity && len(e.Fields) == 0 {
		t.Fatalf("%s: a validation error names its fields", what)
	}
}

// wantFields checks a 422 naming exactly these fields, in this order.
func wantFields(t *testing.T, what string, err error, fields ...string) {
	t.Helper()
	wantErr(t, what, err, errs.Invalid(), http.StatusUnprocessableEntity)
	var got []string
	for _, f := range errs.As(err).Fields {
		if f.Message == "" {
			t.Fatalf("%s: field %s without a message", what, f.Field)
		}
		got = append(got, f.Field)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("%s: fields %v, want %v", what, got, fields)
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
