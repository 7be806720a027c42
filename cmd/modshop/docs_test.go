package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/modshop/modshop/platform/testkit"
	"github.com/modshop/modshop/platform/testkit/browser"
)

// TestAPIReferenceRendersInChromium loads GET /docs in headless Chromium:
// Redoc, served from the binary under the page's strict CSP, renders the
// document, and every tag (one per module) shows on the page.
func TestAPIReferenceRendersInChromium(t *testing.T) {
	chromium := browser.Start(t) // skips without chromium, except with CI=true
	shop := testkit.Start(t, modules, testkit.Options{})
	page := testkit.Expect(t, shop.Get("/docs", ""), 200)
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-eval") {
		t.Fatalf("/docs CSP: %q", csp)
	}
	var doc struct {
		Tags []struct{ Name string } `json:"tags"`
	}
	testkit.Expect(t, shop.Get("/openapi.json", ""), 200).JSON(t, &doc)
	if len(doc.Tags) < 8 {
		t.Fatalf("the document declares %d tags, want one per module", len(doc.Tags))
	}

	ctx := chromium.NewPage(t, browser.Timeout(90*time.Second)).Context()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(shop.URL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`.api-content`)), // Redoc's rendered reference
	); err != nil {
		t.Fatalf("render /docs: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
	if err != nil {
		t.Fatal(err)
	}
	tags, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-item-id^="tag/"]')).map(e => e.getAttribute('data-item-id'))`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range doc.Tags {
		found := false
		for _, id := range tags {
			if id == "tag/"+tag.Name {
				found = true
			}
		}
		if !found || !strings.Contains(text, tag.Name) {
			b, _ := json.Marshal(tags)
			t.Errorf("the rendered reference lacks tag %s (tag sections: %s)", tag.Name, b)
		}
	}
	if !strings.Contains(text, "Place an order from a checkout") {
		t.Error("the rendered reference lacks an operation's summary")
	}
}
