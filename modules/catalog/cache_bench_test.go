package catalog_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/httpapi"
	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/platform/testkit"
)

// BenchmarkPublicReads compares, over real HTTP with the real inventory on
// SQLite (2,000 products), what a public read costs when it is a cache hit,
// when only its stock is asked again (StockTTL 0: one Availability call,
// catalog rows cached), and when everything is read again (CatalogTTL 0:
// the cost without the cache, plus encoding once into the cache); /healthz
// of the same process for scale. Client and server share the cores.
//
//	go test -run '^$' -bench PublicReads -benchtime 2000x ./modules/catalog/
func BenchmarkPublicReads(b *testing.B) {
	for _, mode := range []struct {
		name string
		cfg  func(*httpapi.CacheConfig)
	}{
		{"hit", func(*httpapi.CacheConfig) {}},
		{"stock-only", func(c *httpapi.CacheConfig) { c.StockTTL = 0 }},
		{"full-read", func(c *httpapi.CacheConfig) { c.CatalogTTL = 0 }},
	} {
		e := startWith(b, testkit.SQLite(b), inventory.Module, nil, cacheConfig(mode.cfg))
		batch := make([]api.NewProduct, 2000)
		for i := range batch {
			batch[i] = importable(fmt.Sprintf("bench-%04d", i), api.StatusPublished, nil, 1000+int64(i), 1100, 1200)
		}
		if _, err := e.adm.ImportProducts(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second) // let inventory take in the variant events
		paths := []string{"/v1/products?limit=20", "/v1/products/bench-0042"}
		if mode.name == "hit" {
			paths = append(paths, "/healthz") // for scale
		}
		for _, path := range paths {
			b.Run(mode.name+path, func(b *testing.B) {
				url := e.URL + path
				get := func() {
					r, err := http.Get(url) //nolint:gosec,noctx // the test server
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, r.Body)
					_ = r.Body.Close()
					if r.StatusCode != http.StatusOK {
						b.Fatalf("%s: %d", path, r.StatusCode)
					}
				}
				get()
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						get()
					}
				})
			})
		}
		e.Stop()
	}
}
