package catalog_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

func names(es []events.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.EventName()
	}
	return out
}

// snapshotOf is the snapshot of a product event, or fails.
func snapshotOf(t *testing.T, e events.Event) api.ProductSnapshot {
	t.Helper()
	switch x := e.(type) {
	case api.ProductPublished:
		return x.ProductSnapshot
	case api.ProductUpdated:
		return x.ProductSnapshot
	case api.ProductArchived:
		return x.ProductSnapshot
	}
	t.Fatalf("%s is not a product event", e.EventName())
	return api.ProductSnapshot{}
}

// TestEvents follows a product through its life and checks each event a
// consumer in another module receives, payload included.
func TestEvents(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	root := e.createCategory("garden", nil)
	leaf := e.createCategory("hoses", &root)

	body := newProduct("hose", "draft", 2500, 1900)
	body["category_id"] = leaf.ID
	p := e.createProduct(body)

	got := e.events.wait(t, p.ID, 3)
	if fmt.Sprint(names(got)) != fmt.Sprint([]string{api.EventVariantCreated, api.EventVariantCreated, api.EventProductUpdated}) {
		t.Fatalf("create a draft: events %v", names(got))
	}
	vc := got[0].(api.VariantCreated)
	if vc.ProductID != p.ID || vc.SKU != "hose-0" || vc.VariantID != p.Variants[0].ID || vc.Price != (api.Money{Amount: 2500, Currency: "EUR"}) || vc.Title != "V0" {
		t.Errorf("variant_created %+v", vc)
	}
	s := snapshotOf(t, got[2])
	if s.Version != 1 || s.Status != api.StatusDraft || s.Slug != "hose" || s.Title != p.Title || s.Description != p.Description ||
		len(s.Variants) != 2 || s.Variants[1].Price.Amount != 1900 || s.Variants[1].SKU != "hose-1" ||
		fmt.Sprint(s.CategoryPath) != fmt.Sprint([]string{root.ID, leaf.ID}) || *s.CategoryID != leaf.ID ||
		!s.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("draft snapshot %+v", s)
	}

	testkit.Expect(t, e.patch("/v1/admin/products/"+p.ID, map[string]any{"status": "published"}), http.StatusOK)
	got = e.events.wait(t, p.ID, 4)
	pub, ok := got[3].(api.ProductPublished)
	if !ok || pub.Version != 2 || pub.Status != api.StatusPublished {
		t.Fatalf("publish: %s %+v", got[3].EventName(), got[3])
	}

	testkit.Expect(t, e.patch("/v1/admin/products/"+p.ID, map[string]any{"title": "Garden Hose"}), http.StatusOK)
	got = e.events.wait(t, p.ID, 5)
	if up, ok := got[4].(api.ProductUpdated); !ok || up.Version != 3 || up.Title != "Garden Hose" || up.Status != api.StatusPublished {
		t.Fatalf("title change: %s %+v", got[4].EventName(), got[4])
	}

	// A PATCH that changes nothing publishes nothing and keeps the version.
	testkit.Expect(t, e.patch("/v1/admin/products/"+p.ID, map[string]any{"title": "Garden Hose"}), http.StatusOK)

	testkit.Expect(t, e.patch("/v1/admin/variants/"+p.Variants[1].ID, map[string]any{"price": 1500}), http.StatusOK)
	got = e.events.wait(t, p.ID, 7)
	pc, ok := got[5].(api.VariantPriceChanged)
	if !ok || pc.SKU != "hose-1" || pc.VariantID != p.Variants[1].ID || pc.OldPrice.Amount != 1900 || pc.NewPrice.Amount != 1500 || pc.NewPrice.Currency != "EUR" {
		t.Fatalf("price change: %s %+v", got[5].EventName(), got[5])
	}
	if s := snapshotOf(t, got[6]); got[6].EventName() != api.EventProductUpdated || s.Version != 4 || s.Variants[1].Price.Amount != 1500 {
		t.Fatalf("after the price change: %s %+v", got[6].EventName(), s)
	}

	testkit.Expect(t, e.patch("/v1/admin/variants/"+p.Variants[1].ID, map[string]any{"title": "Long"}), http.StatusOK)
	got = e.events.wait(t, p.ID, 8)
	if got[7].EventName() != api.EventProductUpdated || snapshotOf(t, got[7]).Variants[1].Title != "Long" {
		t.Fatalf("variant title: %v", names(got[7:]))
	}

	testkit.Expect(t, e.Post("/v1/admin/products/"+p.ID+"/variants", e.admin, map[string]any{"sku": "hose-2", "title": "XL", "price": 3000}), http.StatusCreated)
	got = e.events.wait(t, p.ID, 10)
	if got[8].EventName() != api.EventVariantCreated || got[8].(api.VariantCreated).SKU != "hose-2" ||
		got[9].EventName() != api.EventProductUpdated || len(snapshotOf(t, got[9]).Variants) != 3 {
		t.Fatalf("add variant: %v", names(got[8:]))
	}

	testkit.Expect(t, e.patch("/v1/admin/products/"+p.ID, map[string]any{"status": "draft"}), http.StatusOK)
	got = e.events.wait(t, p.ID, 11)
	if s := snapshotOf(t, got[10]); got[10].EventName() != api.EventProductUpdated || s.Status != api.StatusDraft {
		t.Fatalf("published -> draft is an update: %s %+v", got[10].EventName(), s)
	}

	testkit.Expect(t, e.Do(testkit.Req{Method: http.MethodDelete, Path: "/v1/admin/products/" + p.ID, Token: e.admin}), http.StatusNoContent)
	testkit.Expect(t, e.Do(testkit.Req{Method: http.MethodDelete, Path: "/v1/admin/products/" + p.ID, Token: e.admin}), http.StatusNoContent)
	got = e.events.wait(t, p.ID, 12)
	arch, ok := got[11].(api.ProductArchived)
	if !ok || arch.Status != api.StatusArchived {
		t.Fatalf("archive: %v", names(got[11:]))
	}
	if len(got) != 12 {
		t.Errorf("events %v: archiving twice or a no-op PATCH published something", names(got))
	}
	for i := 1; i < len(got); i++ {
		a, b := versionOf(got[i-1]), versionOf(got[i])
		if b != 0 && a != 0 && b <= a {
			t.Errorf("versions do not grow: %d then %d", a, b)
		}
	}
	if arch.Version != 8 {
		t.Errorf("archived at version %d, want 8 (one per change)", arch.Version)
	}

	// A product created published says so at once.
	q := e.createProduct(newProduct("published-at-once", "published", 10))
	got = e.events.wait(t, q.ID, 2)
	if fmt.Sprint(names(got)) != fmt.Sprint([]string{api.EventVariantCreated, api.EventProductPublished}) || snapshotOf(t, got[1]).CategoryPath == nil {
		t.Fatalf("created published: %v (category_path must be [] not null)", names(got))
	}
}

func versionOf(e events.Event) int64 {
	switch x := e.(type) {
	case api.ProductPublished:
		return x.Version
	case api.ProductUpdated:
		return x.Version
	case api.ProductArchived:
		return x.Version
	}
	return 0
}
