package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/web/internal/site"
	"github.com/modshop/modshop/platform/testkit"
)

// The shopper's pages, guest and signed in, that the policy, weight and
// markup checks below walk.
var shopperPages = []string{"/", "/categories/shoes", "/search?q=lether+boots", "/products/leather-boots",
	"/cart", "/checkout", "/signin", "/register", "/account"}

var (
	assetRef     = regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`)
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	styleAttr    = regexp.MustCompile(`\sstyle=`)
	handlerAttr  = regexp.MustCompile(`\son[a-z]+=`)
)

// Every page says the strict policy (no inline script or style, forms
// only to this shop, no framing), is never stored by a cache, and holds no
// markup that policy would block: no inline script, no style attribute, no
// event-handler attribute. A signed-in customer's pages too.
func TestEveryPageCarriesTheStrictPolicy(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	b.get("/").expect(t, 200).contains(t, "Shoes", "Knitwear")
	b.post("/products/leather-boots", "/cart/items", url.Values{"sku": {"BOOT-42"}, "quantity": {"1"}})
	check := func(who string) {
		for _, path := range shopperPages {
			p := b.get(path)
			if p.Status != http.StatusOK && p.Status != http.StatusSeeOther {
				t.Errorf("%s %s: status %d", who, path, p.Status)
			}
			if csp := p.Header.Get("Content-Security-Policy"); csp != site.PageCSP || strings.Contains(csp, "unsafe") {
				t.Errorf("%s %s: CSP %q", who, path, csp)
			}
			if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s %s: Cache-Control %q", who, path, cc)
			}
			for name, re := range map[string]*regexp.Regexp{"an inline script": inlineScript, "a style attribute": styleAttr, "an event-handler attribute": handlerAttr} {
				if m := re.FindString(p.Body); m != "" {
					t.Errorf("%s %s has %s: %q", who, path, name, m)
				}
			}
		}
	}
	check("a guest")
	b.post("/register", "/register", url.Values{"name": {"Pat Shopper"}, "email": {"pat@example.com"}, "password": {"pat-password-1"}}).expect(t, http.StatusSeeOther)
	check("a customer")
	if p := b.get("/account"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Pat Shopper") {
		t.Fatalf("the customer's account page: %d", p.Status)
	}
}

// PageBudget is the most a page may weigh before compression: its HTML
// and the stylesheet and script it loads.
const PageBudget = 100 << 10

// Each shopper page, with its CSS and JS, stays within the budget (a
// cart with lines and a long search result page included).
func TestPagesStayWithinTheirWeight(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	for _, sku := range []string{"BOOT-42", "BOOT-43", "RUN-40", "SWT-M", "SCF-1"} {
		b.post("/products/leather-boots", "/cart/items", url.Values{"sku": {sku}, "quantity": {"1"}})
	}
	assetBytes := map[string]int{}
	for _, path := range shopperPages {
		p := b.get(path)
		total := len(p.Body)
		for _, m := range assetRef.FindAllStringSubmatch(p.Body, -1) {
			if _, ok := assetBytes[m[1]]; !ok {
				a := b.get(m[1]).expect(t, http.StatusOK)
				if !strings.Contains(a.Header.Get("Cache-Control"), "immutable") {
					t.Errorf("asset %s: Cache-Control %q", m[1], a.Header.Get("Cache-Control"))
				}
				assetBytes[m[1]] = len(a.Body)
			}
			total += assetBytes[m[1]]
		}
		if len(assetBytes) == 0 {
			t.Fatalf("%s loads no stylesheet or script", path)
		}
		t.Logf("%-28s %6d bytes HTML, %6d with CSS and JS", path, len(p.Body), total)
		if total > PageBudget {
			t.Errorf("%s weighs %d bytes with its CSS and JS, more than %d", path, total, PageBudget)
		}
	}
}

// A product page's content is rendered once per change of what it shows
// and kept (fragments.go): each visitor still gets their own CSRF token in
// the kept form, and a change of stock or price shows at once.
func TestKeptProductPagesStayPersonalAndCurrent(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	ann, bob := newBrowser(t, shop), newBrowser(t, shop)
	tokens := map[string]string{}
	for name, b := range map[string]*browser{"ann": ann, "bob": bob} {
		for range 2 { // the second answer comes from the kept fragment
			tokens[name] = b.csrf("/products/leather-boots")
		}
		if p := b.post("/products/leather-boots", "/cart/items", url.Values{"csrf": {tokens[name]}, "sku": {"BOOT-42"}, "quantity": {"1"}}); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/cart" {
			t.Fatalf("%s adds to the cart from a kept page: %d %s", name, p.Status, p.Header.Get("Location"))
		}
		b.get("/cart").expect(t, 200).contains(t, "BOOT-42")
	}
	if tokens["ann"] == tokens["bob"] {
		t.Fatal("two visitors got the same CSRF token from the kept page")
	}
	if strings.Contains(ann.get("/products/leather-boots").Body, "csrf_hole") {
		t.Fatal("the token's hole shows in the page")
	}

	admin := shop.AdminToken()
	testkit.Expect(t, shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/admin/inventory/BOOT-43/adjustments", Token: admin,
		Body: map[string]any{"delta": -5, "reason": "counted"}, Header: map[string]string{"Idempotency-Key": "kept-1"}}), 201)
	testkit.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(ann.get("/products/leather-boots").Body, `id="stock-BOOT-43">Out of stock`)
	}, "the kept product page did not show the new stock")
	var p struct{ Variants []struct{ ID, SKU string } }
	testkit.Expect(t, shop.Get("/v1/products/leather-boots", ""), 200).JSON(t, &p)
	testkit.Expect(t, shop.Do(testkit.Req{Method: http.MethodPatch, Path: "/v1/admin/variants/" + p.Variants[0].ID, Token: admin,
		Body: map[string]any{"price": 13900}}), 200)
	testkit.Eventually(t, 10*time.Second, func() bool { return strings.Contains(bob.get("/products/leather-boots").Body, "€139.00") },
		"the kept product page did not show the new price")
}
