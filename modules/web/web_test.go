package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/modshop/modshop/modules/web/internal/site"
	"github.com/modshop/modshop/platform/testkit"
)

func TestEveryPageCarriesTheStrictPolicy(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	p := b.get("/").expect(t, 200).contains(t, "Shoes", "Knitwear")
	if csp := p.Header.Get("Content-Security-Policy"); csp != site.PageCSP || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP %q", csp)
	}
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	_ = url.Values{}
}
