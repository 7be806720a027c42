package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/testkit"
)

// The back office of products and stock, driven through its forms as a
// browser would, checked against what the JSON API and the modules answer.

// signIn signs the browser in through the site's sign-in form (POST
// /signin: email, password, next, csrf), which answers 303 and sets the
// session cookie.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	p := b.post("/signin", "/signin", url.Values{"email": {email}, "password": {password}, "next": {"/"}})
	if p.Status != 303 {
		b.t.Fatalf("sign-in of %s: status %d, want 303", email, p.Status)
	}
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "modshop_session" && c.Value != "" {
			return
		}
	}
	b.t.Fatalf("sign-in of %s set no modshop_session cookie", email)
}

// adminBrowser is a browser signed in as the shop's admin.
func adminBrowser(t *testing.T, shop *testkit.Shop) *browser {
	b := newBrowser(t, shop)
	b.signIn(adminEmail, adminPassword)
	return b
}

func TestAdminCatalogIsForAdminsOnly(t *testing.T) {
	shop := startShop(t, testkit.Options{})

	guest := newBrowser(t, shop)
	p := guest.get("/admin/products?status=draft").expect(t, 303)
	if loc := p.Header.Get("Location"); loc != "/signin?next="+url.QueryEscape("/admin/products?status=draft") {
		t.Fatalf("guest sent to %q", loc)
	}
	guest.get("/admin/inventory/BOOT-42").expect(t, 303)

	testkit.Expect(t, shop.Post("/v1/auth/register", "", map[string]any{
		"email": "shopper@example.com", "password": "shopper-password-1", "name": "Shopper"}), 201)
	customer := newBrowser(t, shop)
	customer.signIn("shopper@example.com", "shopper-password-1")
	for _, path := range []string{"/admin/products", "/admin/products/new", "/admin/inventory", "/admin/inventory/BOOT-42"} {
		customer.get(path).expect(t, 403)
	}
	// A customer's form post changes nothing either.
	customer.post("/", "/admin/inventory/BOOT-42", url.Values{"delta": {"-10"}, "reason": {"theft"}, "key": {"k1"}}).expect(t, 403)
	if lvl := levelOf(t, shop, "BOOT-42"); lvl.OnHand != 10 {
		t.Fatalf("BOOT-42 after a customer's adjustment: %+v", lvl)
	}
}

func TestAdminCreatesEditsPublishesAndArchivesAProduct(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := adminBrowser(t, shop)

	list := b.get("/admin/products").expect(t, 200).contains(t, "Leather Boots", "cotton-scarf", `href="/admin/products/new"`)
	_ = list
	form := b.get("/admin/products/new").expect(t, 200).contains(t, `id="new-product-form"`, "Knitwear", `name="price"`)
	knitwear := regexp.MustCompile(`<option value="([^"]+)">Knitwear</option>`).FindStringSubmatch(form.Body)
	if knitwear == nil {
		t.Fatal("the category select lacks Knitwear")
	}

	// Invalid input: 422, each error by its field, the input kept.
	bad := url.Values{"slug": {"Bad Slug"}, "title": {"Alpaca Gloves"}, "description": {"Warm."}, "category": {knitwear[1]},
		"status": {"draft"}, "sku": {"GLV-1"}, "variant_title": {"Grey"}, "price": {"12.345"}}
	p := b.post("/admin/products/new", "/admin/products", bad).expect(t, 422)
	p.contains(t, `id="price-error"`, "must be an amount", `value="Alpaca Gloves"`, `value="12.345"`)
	bad.Set("price", "24.50")
	b.post("/admin/products/new", "/admin/products", bad).expect(t, 422).contains(t, `id="slug-error"`, `value="Bad Slug"`)
	// Taken slug and SKU are field errors too.
	taken := cloneValues(bad)
	taken.Set("slug", "leather-boots")
	b.post("/admin/products/new", "/admin/products", taken).expect(t, 422).contains(t, `id="slug-error">is already taken`)
	taken.Set("slug", "alpaca-gloves")
	taken.Set("sku", "BOOT-42")
	b.post("/admin/products/new", "/admin/products", taken).expect(t, 422).contains(t, `id="sku-error">is already taken`)
	if r := shop.Get("/v1/admin/products?status=draft", shop.AdminToken()); strings.Contains(string(r.Body), "alpaca-gloves") {
		t.Fatal("a refused form created the product")
	}

	good := cloneValues(bad)
	good.Set("slug", "alpaca-gloves")
	p = b.post("/admin/products/new", "/admin/products", good).expect(t, 303)
	edit := p.Header.Get("Location")
	if !strings.HasPrefix(edit, "/admin/products/") {
		t.Fatalf("created product answered with Location %q", edit)
	}
	page := b.get(edit).expect(t, 200).contains(t, "Product Alpaca Gloves created.", "Alpaca Gloves", `id="product-status">draft`, "GLV-1", `value="24.50"`)
	// A draft is not in the shop.
	testkit.Expect(t, shop.Get("/v1/products/alpaca-gloves", ""), 404)

	// Change the price of the variant, then publish.
	vform := regexp.MustCompile(`<form id="variant-([^"]+)" method="post" action="([^"]+)"`).FindStringSubmatch(page.Body)
	if vform == nil {
		t.Fatal("no variant form on the edit page")
	}
	b.post(edit, vform[2], url.Values{"title": {"Grey"}, "price": {"abc"}}).expect(t, 422).contains(t, "must be an amount", `value="abc"`)
	p = b.post(edit, vform[2], url.Values{"title": {"Charcoal"}, "price": {"19.9"}}).expect(t, 303)
	if p.Header.Get("Location") != edit {
		t.Fatalf("variant change answered with Location %q, want %q", p.Header.Get("Location"), edit)
	}
	b.get(edit).expect(t, 200).contains(t, "Variant GLV-1 saved", `value="19.90"`, `value="Charcoal"`)
	b.post(edit, edit+"/status", url.Values{"status": {"published"}}).expect(t, 303)
	b.get(edit).expect(t, 200).contains(t, "Product published", `id="product-status">published`)

	var pub struct {
		Title    string
		Status   string
		Variants []struct {
			SKU   string
			Title string
			Price struct{ Amount int64 }
		}
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		r := shop.Get("/v1/products/alpaca-gloves", "")
		if r.Status != 200 {
			return false
		}
		_ = json.Unmarshal(r.Body, &pub)
		return len(pub.Variants) == 1 && pub.Variants[0].Price.Amount == 1990
	}, "the published product is not in the storefront API with its new price")
	if pub.Variants[0].Title != "Charcoal" || pub.Title != "Alpaca Gloves" {
		t.Fatalf("storefront product: %+v", pub)
	}

	// Details and a second variant.
	b.post(edit, edit, url.Values{"title": {""}, "description": {"x"}, "category": {knitwear[1]}}).expect(t, 422).
		contains(t, `id="title-error"`)
	b.post(edit, edit, url.Values{"title": {"Alpaca Gloves, lined"}, "description": {"Warmer."}, "category": {knitwear[1]}}).expect(t, 303)
	b.post(edit, edit+"/variants", url.Values{"sku": {"BOOT-43"}, "title": {"x"}, "price": {"1"}}).expect(t, 422).
		contains(t, `id="new-variant-sku-error">is already taken`)
	b.post(edit, edit+"/variants", url.Values{"sku": {"GLV-2"}, "title": {"Cream"}, "price": {"21"}}).expect(t, 303)
	b.get(edit).expect(t, 200).contains(t, "Variant GLV-2 added.", "GLV-2", `value="21.00"`, "Alpaca Gloves, lined")
	testkit.Eventually(t, 10*time.Second, func() bool {
		r := shop.Get("/v1/products/alpaca-gloves", "")
		_ = json.Unmarshal(r.Body, &pub)
		return r.Status == 200 && pub.Title == "Alpaca Gloves, lined" && len(pub.Variants) == 2
	}, "the storefront API does not show the new title and variant")

	// Unpublish: back to draft and out of the shop; publish again.
	b.post(edit, edit+"/status", url.Values{"status": {"draft"}}).expect(t, 303)
	b.get(edit).expect(t, 200).contains(t, "Product is a draft", `id="product-status">draft`, `id="publish-form"`)
	testkit.Eventually(t, 10*time.Second, func() bool { return shop.Get("/v1/products/alpaca-gloves", "").Status == 404 },
		"the unpublished product is still in the storefront API")
	b.post(edit, edit+"/status", url.Values{"status": {"published"}}).expect(t, 303)
	testkit.Eventually(t, 10*time.Second, func() bool { return shop.Get("/v1/products/alpaca-gloves", "").Status == 200 },
		"the product published again is not in the storefront API")
	b.post(edit, edit+"/status", url.Values{"status": {"sold"}}).expect(t, 422)

	// Archive: gone from the shop, listed under archived.
	b.get(edit).contains(t, `id="archive-form"`, `data-confirm="Archive`)
	b.post(edit, edit+"/status", url.Values{"status": {"archived"}}).expect(t, 303)
	b.get(edit).expect(t, 200).contains(t, "Product archived", `id="product-status">archived`)
	testkit.Eventually(t, 10*time.Second, func() bool { return shop.Get("/v1/products/alpaca-gloves", "").Status == 404 },
		"the archived product is still in the storefront API")
	b.get("/admin/products?status=archived").expect(t, 200).contains(t, "Alpaca Gloves, lined")
	if strings.Contains(b.get("/admin/products?status=published").Body, "Alpaca Gloves") {
		t.Fatal("the archived product is listed as published")
	}
	// Publishing an archived product is refused with a message (it returns
	// to draft first).
	b.post(edit, edit+"/status", url.Values{"status": {"published"}}).expect(t, 409).contains(t, `role="alert"`)
}

func TestAdminAdjustsStock(t *testing.T) {
	var inv inventory.Inventory
	shop := startShop(t, testkit.Options{Extra: []fx.Option{fx.Populate(&inv)}})
	b := adminBrowser(t, shop)

	b.get("/admin/inventory").expect(t, 200).contains(t, "BOOT-42", `href="/admin/inventory/SWT-L"`, "0 (out of stock)", "3 (low)")
	stock := "/admin/inventory/BOOT-42"
	page := b.get(stock).expect(t, 200).contains(t, `id="on-hand">10<`, "demo stock")
	key := formKey(t, page)

	// Missing reason, or no number: refused, nothing changed.
	b.post(stock, stock, url.Values{"delta": {"-10"}, "reason": {" "}, "key": {key}}).expect(t, 422).
		contains(t, `id="reason-error"`, `value="-10"`, "Nothing was changed")
	b.post(stock, stock, url.Values{"delta": {"ten"}, "reason": {"recount"}, "key": {key}}).expect(t, 422).contains(t, `id="delta-error"`)
	b.post(stock, stock, url.Values{"delta": {"2000000"}, "reason": {"recount"}, "key": {key}}).expect(t, 422).
		contains(t, `id="delta-error">must be a non-zero whole number from -1000000 to 1000000<`, "Nothing was changed")
	if lvl := levelOf(t, shop, "BOOT-42"); lvl.OnHand != 10 {
		t.Fatalf("refused adjustments changed the level: %+v", lvl)
	}

	// To zero, sent twice with the same form: booked once.
	form := url.Values{"delta": {"-10"}, "reason": {"recount after flood"}, "key": {key}}
	b.post(stock, stock, form).expect(t, 303)
	b.post(stock, stock, form).expect(t, 303)
	if lvl := levelOf(t, shop, "BOOT-42"); lvl.OnHand != 0 || lvl.Available != 0 {
		t.Fatalf("after the adjustment to 0: %+v", lvl)
	}
	page = b.get(stock).expect(t, 200).contains(t, `id="on-hand">0<`, `class="stock-out">0 (out of stock)<`, "recount after flood", adminEmail, "-10")
	if n := strings.Count(page.Body, "recount after flood"); n != 1 {
		t.Fatalf("the ledger shows the double submit %d times", n)
	}
	if formKey(t, page) == key {
		t.Fatal("a new form reuses the last form's idempotency key")
	}

	// Below what is reserved: refused with a message, nothing changed.
	if _, err := inv.Reserve(context.Background(), "admin-test-res", []inventory.Line{{SKU: "SWT-M", Quantity: 2}}, time.Minute); err != nil {
		t.Fatalf("reserve: %v", err)
	}
	sweater := "/admin/inventory/SWT-M"
	page = b.get(sweater).expect(t, 200).contains(t, `id="reserved">2<`, `id="available" class="stock-low">1 (low)<`)
	p := b.post(sweater, sweater, url.Values{"delta": {"-2"}, "reason": {"damaged"}, "key": {formKey(t, page)}}).expect(t, 409)
	p.contains(t, `id="adjust-error"`, "below what is reserved", "Nothing was changed", `value="damaged"`)
	if lvl := levelOf(t, shop, "SWT-M"); lvl.OnHand != 3 || lvl.Reserved != 2 {
		t.Fatalf("a refused adjustment changed SWT-M: %+v", lvl)
	}
	if strings.Contains(b.get(sweater).Body, "damaged") {
		t.Fatal("the refused adjustment is in the ledger")
	}
	// Removing what is not reserved is fine.
	b.post(sweater, sweater, url.Values{"delta": {"-1"}, "reason": {"damaged"}, "key": {formKey(t, b.get(sweater))}}).expect(t, 303)
	if lvl := levelOf(t, shop, "SWT-M"); lvl.OnHand != 2 || lvl.Available != 0 {
		t.Fatalf("SWT-M after removing one: %+v", lvl)
	}

	// The product's edit page shows each variant's stock and links to it.
	list := b.get("/admin/products").Body
	m := regexp.MustCompile(`href="(/admin/products/[^"]+)">Leather Boots<`).FindStringSubmatch(list)
	if m == nil {
		t.Fatal("Leather Boots is not linked from the product list")
	}
	b.get(m[1]).expect(t, 200).contains(t, `href="/admin/inventory/BOOT-42"`, `href="/admin/inventory/BOOT-43"`)
}

var keyField = regexp.MustCompile(`name="key" value="([^"]+)"`)

// formKey is the idempotency key of the adjustment form on the page.
func formKey(t *testing.T, p page) string {
	t.Helper()
	m := keyField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("the page has no adjustment form with a key")
	}
	return m[1]
}

// levelOf reads a SKU's level through the JSON API.
func levelOf(t *testing.T, shop *testkit.Shop, sku string) inventory.Level {
	t.Helper()
	var lvl inventory.Level
	testkit.Expect(t, shop.Get("/v1/admin/inventory/"+sku, shop.AdminToken()), 200).JSON(t, &lvl)
	return lvl
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestAdminListsPageThrough(t *testing.T) {
	var cat catalog.Admin
	var stock inventory.Admin
	shop := startShop(t, testkit.Options{Extra: []fx.Option{fx.Populate(&cat, &stock)}})
	ctx := context.Background()
	var batch []catalog.NewProduct
	for i := range 55 {
		batch = append(batch, catalog.NewProduct{Slug: fmt.Sprintf("bulk-%02d", i), Title: fmt.Sprintf("Bulk %02d", i),
			Variants: []catalog.NewVariant{{SKU: fmt.Sprintf("BULK-%02d", i), Title: "One", Price: 100}}})
	}
	if n, err := cat.ImportProducts(ctx, batch); err != nil || n != 55 {
		t.Fatalf("import: %d %v", n, err)
	}
	b := adminBrowser(t, shop)

	// Products: newest first, 30 a page, then the rest.
	first := b.get("/admin/products?status=draft").expect(t, 200)
	next := regexp.MustCompile(`id="next-page" rel="next" href="([^"]+)"`).FindStringSubmatch(first.Body)
	if next == nil || strings.Count(first.Body, `<a href="/admin/products/`) != 30 {
		t.Fatalf("first page: %d products, next %v", strings.Count(first.Body, `<a href="/admin/products/`), next)
	}
	second := b.get(html.UnescapeString(next[1])).expect(t, 200)
	if n := strings.Count(second.Body, `<a href="/admin/products/`); n != 25 || strings.Contains(second.Body, `id="next-page"`) {
		t.Fatalf("second page: %d products", n)
	}
	for i := range 55 {
		title := fmt.Sprintf(">Bulk %02d<", i)
		if strings.Contains(first.Body, title) == strings.Contains(second.Body, title) {
			t.Fatalf("Bulk %02d is on both pages or on neither", i)
		}
	}
	if strings.Contains(second.Body, "Leather Boots") {
		t.Fatal("the draft filter lists a published product")
	}
	b.get("/admin/products?cursor=nonsense").expect(t, 422)

	// Stock levels: 50 a page in SKU order (BOOT-42, BOOT-43, BULK-00...),
	// the next after the last SKU of the page.
	testkit.Eventually(t, 10*time.Second, func() bool { return shop.Get("/v1/admin/inventory/BULK-54", shop.AdminToken()).Status == 200 },
		"the imported SKUs have no stock levels")
	levels := b.get("/admin/inventory").expect(t, 200)
	if !strings.Contains(levels.Body, `href="/admin/inventory?after=BULK-47"`) || !strings.Contains(levels.Body, ">BULK-47<") ||
		strings.Contains(levels.Body, ">BULK-48<") {
		t.Fatal("the first page of levels does not end at BULK-47")
	}
	more := b.get("/admin/inventory?after=BULK-47").expect(t, 200).contains(t, ">BULK-48<", ">BULK-54<", ">SWT-L<", ">RUN-40<")
	if strings.Contains(more.Body, ">BULK-47<") || strings.Contains(more.Body, `id="next-page"`) {
		t.Fatal("the second page of levels repeats BULK-47 or has a next page")
	}

	// Ledger: 30 a page, newest first.
	for i := 1; i <= 32; i++ {
		if _, _, err := stock.Adjust(ctx, "BULK-00", 1, fmt.Sprintf("count %d.", i), "test", ""); err != nil {
			t.Fatalf("adjust: %v", err)
		}
	}
	ledger := b.get("/admin/inventory/BULK-00").expect(t, 200).contains(t, "count 32.", "count 3.")
	if strings.Contains(ledger.Body, "count 2.") {
		t.Fatal("the first ledger page holds more than 30 entries")
	}
	older := regexp.MustCompile(`id="older" rel="next" href="([^"]+)"`).FindStringSubmatch(ledger.Body)
	if older == nil {
		t.Fatal("no link to older ledger entries")
	}
	rest := b.get(html.UnescapeString(older[1])).expect(t, 200).contains(t, "count 2.", "count 1.")
	if strings.Contains(rest.Body, "count 3.") {
		t.Fatal("the older page repeats an entry")
	}
}
