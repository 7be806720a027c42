package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/httpapi"
	invapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/testkit"
)

// The public reads are cached (httpapi.CacheConfig). These tests watch the
// cache through its metrics and the fake inventory's call count.

func cacheConfig(change func(*httpapi.CacheConfig)) fx.Option {
	return fx.Decorate(func(c httpapi.CacheConfig) httpapi.CacheConfig { change(&c); return c })
}

// forever: only this process's writes can make an answer stale.
var forever = cacheConfig(func(c *httpapi.CacheConfig) { c.StockTTL, c.CatalogTTL = time.Hour, time.Hour })

func fakeModule(inv *fakeInventory) fx.Option {
	return fx.Module("inventory", fx.Provide(func() invapi.Inventory { return inv }))
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

func lookups(answer, result string) string {
	return fmt.Sprintf(`modshop_catalog_cache_requests_total{answer=%q,result=%q}`, answer, result)
}

// answerOf is the cache's name of the answer a path gets.
func answerOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/categories"):
		return "categories"
	case strings.HasPrefix(path, "/v1/products?"), path == "/v1/products":
		return "products"
	default:
		return "product"
	}
}

// cached GETs path twice and checks that the second answer came from the
// cache: the same bytes, one more hit, no inventory call, no miss.
func (e *env) cached(inv *fakeInventory, path string) testkit.Response {
	e.t.Helper()
	first := e.Get(path, "")
	hits, misses := metric(e.t, e.Shop, lookups(answerOf(path), "hit")), metric(e.t, e.Shop, lookups(answerOf(path), "miss"))
	calls, _ := inv.stats()
	second := e.Get(path, "")
	if second.Status != first.Status || !bytes.Equal(first.Body, second.Body) {
		e.t.Fatalf("%s: %d %s, then %d %s", path, first.Status, first.Body, second.Status, second.Body)
	}
	if h := metric(e.t, e.Shop, lookups(answerOf(path), "hit")); h != hits+1 {
		e.t.Fatalf("%s: hits went from %v to %v, want one more", path, hits, h)
	}
	if m := metric(e.t, e.Shop, lookups(answerOf(path), "miss")); m != misses {
		e.t.Fatalf("%s: misses went from %v to %v on a repeated request", path, misses, m)
	}
	if c, _ := inv.stats(); c != calls {
		e.t.Fatalf("%s: a cached answer asked inventory", path)
	}
	return second
}

// TestReadCacheServesRepeats: a repeated public read is answered from the
// cache, byte for byte, as JSON, with an ETag that If-None-Match turns into
// a 304; requests that mean the same page share an answer.
func TestReadCacheServesRepeats(t *testing.T) {
	t.Parallel()
	inv := &fakeInventory{levels: map[string]int64{"boot-0": 3}}
	e := startWith(t, testkit.SQLite(t), fakeModule(inv), nil, forever)
	shoes := e.createCategory("shoes", nil)
	body := newProduct("boot", "published", 1000)
	body["category_id"] = shoes.ID
	p := e.createProduct(body)

	for _, path := range []string{"/v1/products?category=shoes&limit=20", "/v1/products/boot", "/v1/products/" + p.ID, "/v1/categories", "/v1/products/no-such-product"} {
		r := e.cached(inv, path)
		if path == "/v1/products/no-such-product" {
			testkit.ExpectProblem(t, r, http.StatusNotFound, "not_found")
			continue
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if !bytes.HasSuffix(r.Body, []byte("}\n")) {
			t.Errorf("%s: body does not end as echo's JSON does: %q", path, r.Body)
		}
		etag := r.Header.Get("ETag")
		if len(etag) < 10 || etag[0] != '"' {
			t.Fatalf("%s: ETag %q", path, etag)
		}
		nm := e.Do(testkit.Req{Method: http.MethodGet, Path: path, Header: map[string]string{"If-None-Match": `"other", ` + etag}})
		if nm.Status != http.StatusNotModified || len(nm.Body) != 0 || nm.Header.Get("ETag") != etag {
			t.Errorf("%s with If-None-Match: %d %q etag %q", path, nm.Status, nm.Body, nm.Header.Get("ETag"))
		}
		if r := e.Do(testkit.Req{Method: http.MethodGet, Path: path, Header: map[string]string{"If-None-Match": `"other"`}}); r.Status != http.StatusOK {
			t.Errorf("%s with another ETag: %d", path, r.Status)
		}
	}
	var got product
	testkit.Expect(t, e.Get("/v1/products/boot", ""), http.StatusOK).JSON(t, &got)
	if got.Variants[0].Available != 3 || !got.Variants[0].InStock {
		t.Errorf("cached variant %+v, want 3 available", got.Variants[0])
	}

	// The same page asked differently: default limit, unknown parameters.
	hits := metric(t, e.Shop, lookups("products", "hit"))
	testkit.Expect(t, e.Get("/v1/products?category=shoes&utm_source=x", ""), http.StatusOK)
	testkit.Expect(t, e.Get("/v1/products?sort=newest&category=shoes", ""), http.StatusOK)
	if h := metric(t, e.Shop, lookups("products", "hit")); h != hits+2 {
		t.Errorf("equivalent list requests: %v hits, want %v", h, hits+2)
	}
	// ?pretty is another answer, indented.
	pretty := testkit.Expect(t, e.Get("/v1/products/boot?pretty", ""), http.StatusOK)
	if !bytes.HasPrefix(pretty.Body, []byte("{\n  \"id\"")) {
		t.Errorf("pretty body %.40q", pretty.Body)
	}
	// A refused request is not cached: it stays refused.
	for range 2 {
		testkit.ExpectProblem(t, e.Get("/v1/products?sort=cheapest", ""), http.StatusUnprocessableEntity, "validation_failed")
	}
}

// TestReadCacheWritesInvalidate: with TTLs of an hour, every catalog write
// of this process still shows in the next read: product update, price
// change, new variant, new product, import, publish, archive, new category.
func TestReadCacheWritesInvalidate(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		inv := &fakeInventory{levels: map[string]int64{}}
		e := startWith(t, db, fakeModule(inv), nil, forever)
		ctx := context.Background()
		a := e.createProduct(newProduct("alpha", "published", 1000))
		const list, detail, cats = "/v1/products?sort=title", "/v1/products/alpha", "/v1/categories"
		warm := func(paths ...string) {
			t.Helper()
			for _, p := range paths {
				e.cached(inv, p)
			}
		}
		slugs := func() []string {
			var out []string
			for _, p := range e.list(list).Items {
				out = append(out, p.Slug)
			}
			slices.Sort(out)
			return out
		}
		show := func() product {
			var p product
			testkit.Expect(t, e.Get(detail, ""), http.StatusOK).JSON(t, &p)
			return p
		}

		warm(list, detail)
		testkit.Expect(t, e.patch("/v1/admin/products/"+a.ID, map[string]any{"title": "Alpha Renamed"}), http.StatusOK)
		if got := show(); got.Title != "Alpha Renamed" {
			t.Errorf("detail after update: %q", got.Title)
		}
		if got := e.list(list).Items; len(got) != 1 || got[0].Title != "Alpha Renamed" {
			t.Errorf("list after update: %+v", got)
		}

		warm(list, detail)
		testkit.Expect(t, e.patch("/v1/admin/variants/"+a.Variants[0].ID, map[string]any{"price": 1234}), http.StatusOK)
		if got := show(); got.Variants[0].Price.Amount != 1234 {
			t.Errorf("detail after price change: %+v", got.Variants[0].Price)
		}
		if got := e.list(list).Items[0].Variants[0].Price.Amount; got != 1234 {
			t.Errorf("list after price change: %d", got)
		}

		warm(detail)
		testkit.Expect(t, e.Post("/v1/admin/products/"+a.ID+"/variants", e.admin,
			map[string]any{"sku": "alpha-xl", "title": "XL", "price": 1500}), http.StatusCreated)
		if got := show(); len(got.Variants) != 2 {
			t.Errorf("detail after a new variant: %d variants", len(got.Variants))
		}

		warm(list)
		e.createProduct(newProduct("beta", "published", 500))
		if got := slugs(); strings.Join(got, ",") != "alpha,beta" {
			t.Errorf("list after a new product: %v", got)
		}

		warm(list)
		if n, err := e.adm.ImportProducts(ctx, []api.NewProduct{importable("gamma", api.StatusPublished, nil, 700)}); err != nil || n != 1 {
			t.Fatalf("import: %d %v", n, err)
		}
		if got := slugs(); strings.Join(got, ",") != "alpha,beta,gamma" {
			t.Errorf("list after an import: %v", got)
		}

		d := e.createProduct(newProduct("delta", "draft", 900))
		warm("/v1/products/delta") // a cached 404
		testkit.Expect(t, e.patch("/v1/admin/products/"+d.ID, map[string]any{"status": "published"}), http.StatusOK)
		testkit.Expect(t, e.Get("/v1/products/delta", ""), http.StatusOK)

		warm(list, detail, "/v1/products/"+a.ID)
		testkit.Expect(t, e.Do(testkit.Req{Method: http.MethodDelete, Path: "/v1/admin/products/" + a.ID, Token: e.admin}), http.StatusNoContent)
		testkit.ExpectProblem(t, e.Get(detail, ""), http.StatusNotFound, "not_found")
		testkit.ExpectProblem(t, e.Get("/v1/products/"+a.ID, ""), http.StatusNotFound, "not_found")
		if got := slugs(); strings.Join(got, ",") != "beta,delta,gamma" {
			t.Errorf("list after archiving alpha: %v", got)
		}

		warm(cats)
		e.createCategory("sandals", nil)
		var cl struct{ Items []category }
		testkit.Expect(t, e.Get(cats, ""), http.StatusOK).JSON(t, &cl)
		if len(cl.Items) != 1 || cl.Items[0].Slug != "sandals" {
			t.Errorf("categories after a new one: %+v", cl.Items)
		}
	})
}

// TestReadCacheStockWithinTTL: inventory changes stock behind the
// catalog's back; with the default configuration the page shows it within
// StockTTL, by asking inventory again while keeping the catalog rows.
func TestReadCacheStockWithinTTL(t *testing.T) {
	t.Parallel()
	inv := &fakeInventory{levels: map[string]int64{"sock-0": 1, "scarf-0": 2}}
	e := startWith(t, testkit.SQLite(t), fakeModule(inv), nil)
	e.createProduct(newProduct("sock", "published", 300))
	e.createProduct(newProduct("scarf", "published", 900))
	available := func(path, sku string) int64 {
		var ps []product
		if path == "/v1/products" {
			ps = e.list(path).Items
		} else {
			var p product
			testkit.Expect(t, e.Get(path, ""), http.StatusOK).JSON(t, &p)
			ps = []product{p}
		}
		for _, p := range ps {
			for _, v := range p.Variants {
				if v.SKU == sku {
					return v.Available
				}
			}
		}
		t.Fatalf("%s: no %s", path, sku)
		return 0
	}
	if available("/v1/products/sock", "sock-0") != 1 || available("/v1/products", "scarf-0") != 2 {
		t.Fatal("initial stock wrong")
	}
	misses := metric(t, e.Shop, lookups("product", "miss")) + metric(t, e.Shop, lookups("products", "miss"))

	inv.mu.Lock()
	inv.levels["sock-0"], inv.levels["scarf-0"] = 0, 9
	inv.mu.Unlock()
	changed := time.Now()
	testkit.Eventually(t, 3*time.Second, func() bool {
		return available("/v1/products/sock", "sock-0") == 0 && available("/v1/products", "scarf-0") == 9
	}, "new stock shown")
	if d := time.Since(changed); d > httpapi.DefaultCacheConfig.StockTTL+time.Second {
		t.Errorf("stock showed after %s; StockTTL is %s", d, httpapi.DefaultCacheConfig.StockTTL)
	}
	// Only the stock was read again; the rows came from the cache.
	if m := metric(t, e.Shop, lookups("product", "miss")) + metric(t, e.Shop, lookups("products", "miss")); m != misses {
		t.Errorf("misses went from %v to %v: catalog rows were read again for a stock change", misses, m)
	}
	if r := metric(t, e.Shop, lookups("product", "stock")) + metric(t, e.Shop, lookups("product", "ahead")); r < 1 {
		t.Errorf("no stock refresh counted")
	}
}

// TestReadCacheStockOnlyRefresh: with StockTTL 0 every request asks
// inventory (one call), while the catalog rows stay cached.
func TestReadCacheStockOnlyRefresh(t *testing.T) {
	t.Parallel()
	inv := &fakeInventory{levels: map[string]int64{"mug-0": 4}}
	e := startWith(t, testkit.SQLite(t), fakeModule(inv), nil,
		cacheConfig(func(c *httpapi.CacheConfig) { c.StockTTL, c.CatalogTTL = 0, time.Hour }))
	e.createProduct(newProduct("mug", "published", 300))
	testkit.Expect(t, e.Get("/v1/products/mug", ""), http.StatusOK)
	calls, _ := inv.stats()
	for i := range 3 {
		inv.mu.Lock()
		inv.levels["mug-0"] = int64(10 + i)
		inv.mu.Unlock()
		var p product
		testkit.Expect(t, e.Get("/v1/products/mug", ""), http.StatusOK).JSON(t, &p)
		if p.Variants[0].Available != int64(10+i) {
			t.Fatalf("available %d, want %d", p.Variants[0].Available, 10+i)
		}
	}
	if c, _ := inv.stats(); c-calls != 3 {
		t.Errorf("%d inventory calls for 3 requests", c-calls)
	}
	if m, s := metric(t, e.Shop, lookups("product", "miss")), metric(t, e.Shop, lookups("product", "stock")); m != 1 || s != 3 {
		t.Errorf("%v misses and %v stock refreshes, want 1 and 3", m, s)
	}
}

// TestReadCacheBounded: varied and hostile requests (every price filter,
// made-up slugs and categories) leave the cache within its caps.
func TestReadCacheBounded(t *testing.T) {
	t.Parallel()
	const maxEntries, maxBytes = 40, 64 << 10
	inv := &fakeInventory{levels: map[string]int64{}}
	e := startWith(t, testkit.SQLite(t), fakeModule(inv), nil,
		cacheConfig(func(c *httpapi.CacheConfig) { c.MaxEntries, c.MaxBytes = maxEntries, maxBytes }))
	var batch []api.NewProduct
	for i := range 30 {
		batch = append(batch, importable(fmt.Sprintf("item-%02d", i), api.StatusPublished, nil, int64(100+i), int64(200+i)))
	}
	if _, err := e.adm.ImportProducts(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		var path string
		switch i % 3 {
		case 0:
			path = fmt.Sprintf("/v1/products?limit=100&min_price=%d", i)
		case 1:
			path = fmt.Sprintf("/v1/products/made-up-%d-%s", i, strings.Repeat("x", 200))
		default:
			path = fmt.Sprintf("/v1/products?category=nope-%d", i)
		}
		testkit.Expect(t, e.Get(path, ""), map[bool]int{true: 404, false: 200}[i%3 == 1])
	}
	entries, size := metric(t, e.Shop, "modshop_catalog_cache_entries"), metric(t, e.Shop, "modshop_catalog_cache_bytes")
	if entries < 1 || entries > maxEntries || size > maxBytes {
		t.Errorf("%v entries, %v bytes; caps %d, %d", entries, size, maxEntries, maxBytes)
	}
	if metric(t, e.Shop, "modshop_catalog_cache_evictions_total") < 100 {
		t.Errorf("few evictions after 300 distinct requests")
	}
}
