package web_test

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/cart"
	"github.com/modshop/modshop/modules/catalog"
	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/payments"
	"github.com/modshop/modshop/modules/search"
	"github.com/modshop/modshop/modules/web"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/testkit"
)

// The pages are tested against the whole shop: every module, real SQLite,
// a real HTTP server. What a test sees is what a shopper's browser gets.

// shopModules is every module, as cmd/modshop lists them.
var shopModules = []app.Module{
	{Name: inventory.Name, Local: inventory.Module, Remote: inventory.Remote},
	{Name: catalog.Name, Local: catalog.Module, Remote: catalog.Remote, Needs: []string{inventory.Name}},
	{Name: search.Name, Local: search.Module, Remote: search.Remote, Needs: []string{catalog.Name, inventory.Name}},
	{Name: cart.Name, Local: cart.Module, Remote: cart.Remote, Needs: []string{catalog.Name, inventory.Name}},
	{Name: customers.Name, Local: customers.Module, Remote: customers.Remote},
	{Name: payments.Name, Local: payments.Module, Remote: payments.Remote},
	{Name: orders.Name, Local: orders.Module, Remote: orders.Remote, Needs: []string{cart.Name, inventory.Name, payments.Name}},
	{Name: web.Name, Local: web.Module, Needs: web.Needs},
}

// The admin account every test shop starts with.
const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin-password-1"
)

// startShop runs the whole shop with an admin account and the demo
// catalog of seedCatalog.
func startShop(t testing.TB, o testkit.Options) *testkit.Shop {
	t.Helper()
	env := map[string]string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": adminEmail, "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": adminPassword}
	for k, v := range o.Env {
		env[k] = v
	}
	o.Env = env
	shop := testkit.Start(t, shopModules, o)
	seedCatalog(t, shop)
	return shop
}

// The demo catalog: two categories, products with variants and stock.
// Search finds them once its index caught up (seedCatalog waits for it).
type demoProduct struct {
	Slug, Title, Category string
	Variants              []demoVariant
}

type demoVariant struct {
	SKU, Title string
	Price      int64
	Stock      int64
}

var demoCatalog = []demoProduct{
	{Slug: "leather-boots", Title: "Leather Boots", Category: "shoes", Variants: []demoVariant{
		{SKU: "BOOT-42", Title: "Brown, EU 42", Price: 12900, Stock: 10},
		{SKU: "BOOT-43", Title: "Brown, EU 43", Price: 12900, Stock: 5}}},
	{Slug: "running-shoes", Title: "Running Shoes", Category: "shoes", Variants: []demoVariant{
		{SKU: "RUN-40", Title: "Blue, EU 40", Price: 8900, Stock: 7}}},
	{Slug: "wool-sweater", Title: "Wool Sweater", Category: "knitwear", Variants: []demoVariant{
		{SKU: "SWT-M", Title: "Grey, M", Price: 6900, Stock: 3},
		{SKU: "SWT-L", Title: "Grey, L", Price: 6900, Stock: 0}}},
	{Slug: "cotton-scarf", Title: "Cotton Scarf", Category: "knitwear", Variants: []demoVariant{
		{SKU: "SCF-1", Title: "Red", Price: 1900, Stock: 20}}},
}

func seedCatalog(t testing.TB, shop *testkit.Shop) {
	t.Helper()
	admin := shop.AdminToken()
	cats := map[string]string{}
	for _, c := range []struct{ slug, name string }{{"shoes", "Shoes"}, {"knitwear", "Knitwear"}} {
		var cat struct{ ID string }
		testkit.Expect(t, shop.Post("/v1/admin/categories", admin, map[string]any{"slug": c.slug, "name": c.name}), 201).JSON(t, &cat)
		cats[c.slug] = cat.ID
	}
	for _, p := range demoCatalog {
		var vs []map[string]any
		for _, v := range p.Variants {
			vs = append(vs, map[string]any{"sku": v.SKU, "title": v.Title, "price": v.Price})
		}
		testkit.Expect(t, shop.Post("/v1/admin/products", admin, map[string]any{"slug": p.Slug, "title": p.Title,
			"description": "The " + strings.ToLower(p.Title) + " of the demo shop.", "category_id": cats[p.Category],
			"status": "published", "variants": vs}), 201)
	}
	// A new SKU's stock level is made by the inventory when it hears of the
	// product (an event), so the first adjustment may find none yet.
	for _, p := range demoCatalog {
		for _, v := range p.Variants {
			if v.Stock == 0 {
				continue
			}
			testkit.Eventually(t, 10*time.Second, func() bool {
				r := shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/admin/inventory/" + v.SKU + "/adjustments",
					Token: admin, Body: map[string]any{"delta": v.Stock, "reason": "demo stock"},
					Header: map[string]string{"Idempotency-Key": "seed-" + v.SKU}})
				return r.Status == 201 || r.Status == 200
			}, "stock of %s could not be booked", v.SKU)
		}
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		r := shop.Get("/v1/search?q=scarf", "")
		return r.Status == 200 && strings.Contains(string(r.Body), "cotton-scarf")
	}, "search did not index the demo catalog")
}

// browser is a plain HTTP client with cookies that does not follow
// redirects: a test sees each 303 and where it points.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newBrowser(t testing.TB, shop *testkit.Shop) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: shop.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer: status, headers and body.
type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	return readPage(b.t, resp)
}

// post submits a form with this browser's CSRF token (read from the last
// page that had one, or from GET of from).
func (b *browser) post(from, path string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf(from))
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	return readPage(b.t, resp)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the forms of the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		b.t.Fatalf("GET %s has no form with a csrf token (status %d)", path, p.Status)
	}
	return m[1]
}

func readPage(t testing.TB, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return page{Status: resp.StatusCode, Header: resp.Header, Body: sb.String()}
}

// expect fails unless the page has the status.
func (p page) expect(t testing.TB, status int) page {
	t.Helper()
	if p.Status != status {
		body := p.Body
		if len(body) > 2000 {
			body = body[:2000]
		}
		t.Fatalf("status %d, want %d; body:\n%s", p.Status, status, body)
	}
	return p
}

// contains fails unless the page's body holds every s.
func (p page) contains(t testing.TB, ss ...string) page {
	t.Helper()
	for _, s := range ss {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("the page lacks %q", s)
		}
	}
	return p
}

var _ = fmt.Sprintf
