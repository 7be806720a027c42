package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/modshop/modshop/platform/testkit"
)

// TestAPIReferenceRendersInChromium loads GET /docs in headless Chromium:
// Redoc, served from the binary under the page's strict CSP, renders the
// document, and every tag (one per module) shows on the page.
func TestAPIReferenceRendersInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("API reference test skipped: no chromium in PATH (apt-get install chromium; .ci/run installs it)")
	}
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

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

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
