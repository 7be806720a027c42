package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

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
