package search_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/search/internal/httpapi"
	"github.com/modshop/modshop/platform/testkit"
)

func cacheConfig(change func(*httpapi.CacheConfig)) fx.Option {
	return fx.Decorate(func(c httpapi.CacheConfig) httpapi.CacheConfig { change(&c); return c })
}

// metric reads one series of /metrics (0 when absent).
func metric(t testing.TB, s *testkit.Shop, series string) float64 {
	t.Helper()
	r := testkit.Expect(t, s.Get("/metrics", ""), http.StatusOK)
	for line := range strings.SplitSeq(string(r.Body), "\n") {
		if name, v, ok := strings.Cut(line, " "); ok && name == series {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

const (
	searchHits   = `modshop_search_cache_requests_total{result="hit"}`
	searchMisses = `modshop_search_cache_requests_total{result="miss"}`
)

// TestSearchCacheFollowsTheIndex: with a TTL of an hour, a repeated search
// is a cache hit, and every change the indexer applies (a new title, stock,
// an archived product) still shows at once: the index generation, not the
// TTL, makes cached answers stale.
func TestSearchCacheFollowsTheIndex(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop, u, _ := startSearch(t, db, "", cacheConfig(func(c *httpapi.CacheConfig) { c.TTL = time.Hour }))
		u.publish(t,
			catalog.ProductPublished{ProductSnapshot: snapshot("p1", "Running Shoes", "Light shoes for long runs.", "c-shoes", 8999, 1, catalog.StatusPublished)},
			catalog.ProductPublished{ProductSnapshot: snapshot("p2", "Coffee Mug", "Stoneware.", "c-home", 1299, 1, catalog.StatusPublished)},
		)
		within(t, shop, "", func(r result) bool { return r.Total == 2 }, "both indexed")
		// The indexer bumps the generation just after its write is visible:
		// a search in between is cached at the old one and misses once
		// more (stale-safe, but it would count below).
		time.Sleep(100 * time.Millisecond)

		// Repeats, also spelled differently, are hits with the same bytes.
		first := testkit.Expect(t, shop.Get("/v1/search?q=shoes", ""), http.StatusOK)
		hits, misses := metric(t, shop, searchHits), metric(t, shop, searchMisses)
		for _, q := range []string{"q=shoes", "q=+shoes+", "q=shoes&sort=relevance&limit=20", "limit=20&q=shoes&utm=1"} {
			r := testkit.Expect(t, shop.Get("/v1/search?"+q, ""), http.StatusOK)
			if !bytes.Equal(r.Body, first.Body) || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: %s %s, want the first answer", q, r.Header.Get("Content-Type"), r.Body)
			}
		}
		if h, m := metric(t, shop, searchHits), metric(t, shop, searchMisses); h != hits+4 || m != misses {
			t.Errorf("hits %v→%v, misses %v→%v; want 4 more hits, no miss", hits, h, misses, m)
		}
		etag := first.Header.Get("ETag")
		if r := shop.Do(testkit.Req{Method: http.MethodGet, Path: "/v1/search?q=shoes", Header: map[string]string{"If-None-Match": etag}}); r.Status != http.StatusNotModified || etag == "" {
			t.Errorf("If-None-Match %q: %d", etag, r.Status)
		}

		// A change: the cached answer goes at once.
		u.publish(t, catalog.ProductUpdated{ProductSnapshot: snapshot("p1", "Trail Shoes", "Grippy shoes.", "c-shoes", 8999, 2, catalog.StatusPublished)})
		within(t, shop, "q=shoes", func(r result) bool { return r.Total == 1 && r.Items[0].Title == "Trail Shoes" }, "the new title")

		// Stock, through the facets of a cached empty query.
		find(t, shop, "")
		if r := find(t, shop, ""); len(r.Facets.InStock) != 1 || r.Facets.InStock[0].Value {
			t.Fatalf("in_stock facet before any stock: %+v", r.Facets.InStock)
		}
		u.publish(t, inventory.StockChanged{SKU: "SKU-p2", OnHand: 3, Available: 3, Version: 1})
		within(t, shop, "", func(r result) bool { return len(r.Facets.InStock) == 2 && r.Facets.InStock[0].Count == 1 }, "stock in the facets")

		// Archived: gone.
		find(t, shop, "q=shoes")
		u.publish(t, catalog.ProductArchived{ProductSnapshot: snapshot("p1", "Trail Shoes", "x", "c-shoes", 8999, 3, catalog.StatusArchived)})
		within(t, shop, "q=shoes", func(r result) bool { return r.Total == 0 }, "the archived product gone")
	})
}

// TestSearchCacheBounded: many distinct and hostile queries leave the
// cache within its caps.
func TestSearchCacheBounded(t *testing.T) {
	t.Parallel()
	const maxEntries, maxBytes = 25, 32 << 10
	shop, u, _ := startSearch(t, testkit.SQLite(t), "", cacheConfig(func(c *httpapi.CacheConfig) { c.MaxEntries, c.MaxBytes = maxEntries, maxBytes }))
	for i := range 30 {
		u.publish(t, catalog.ProductPublished{ProductSnapshot: snapshot(fmt.Sprintf("p%02d", i), fmt.Sprintf("Walking Boot %d", i), "Sturdy boot.", "c-shoes", int64(1000+i), int64(i+1), catalog.StatusPublished)})
	}
	within(t, shop, "q=boot", func(r result) bool { return r.Total == 30 }, "indexed")
	for i := range 200 {
		var q string
		switch i % 4 {
		case 0:
			q = fmt.Sprintf("q=boot&limit=100&min_price=%d", 1000+i%30)
		case 1:
			q = "q=" + url.QueryEscape(fmt.Sprintf("%d %s", i, strings.Repeat("zz", 900)))
		case 2:
			q = "q=" + url.QueryEscape(fmt.Sprintf(`"boot %d" AND NOT (*)`, i))
		default:
			q = fmt.Sprintf("q=walk&sort=price_asc&limit=%d", 1+i%100)
		}
		testkit.Expect(t, shop.Get("/v1/search?"+q, ""), http.StatusOK)
	}
	entries, size := metric(t, shop, "modshop_search_cache_entries"), metric(t, shop, "modshop_search_cache_bytes")
	if entries < 1 || entries > maxEntries || size > maxBytes {
		t.Errorf("%v entries, %v bytes; caps %d, %d", entries, size, maxEntries, maxBytes)
	}
	if metric(t, shop, "modshop_search_cache_evictions_total") < 100 {
		t.Error("few evictions after 200 distinct searches")
	}
}
