package cart_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/platform/testkit"
)

// BenchmarkAddToCart measures POST /v1/carts/{id}/items over real HTTP from
// 64 concurrent clients, each on a keep-alive connection of its own and a
// guest cart of its own (a fresh one every 50 adds, like a real cart; making
// it is not timed). It reports the p50 and p99 latency of the adds.
func BenchmarkAddToCart(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { addToCartBench(b, testkit.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { addToCartBench(b, testkit.Postgres(b)) })
}

const (
	benchClients = 64
	benchSKUs    = 200
)

func addToCartBench(b *testing.B, db testkit.DB) {
	e := start(b, db, false)
	skus := make([]string, benchSKUs)
	for i := range skus {
		skus[i] = fmt.Sprintf("SKU-%03d", i)
	}
	e.products(b, 1999, 1_000_000, skus...)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}}

	b.Run("64-clients", func(b *testing.B) {
		var next atomic.Int64
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		b.ResetTimer()
		begin := time.Now()
		for range benchClients {
			wg.Go(func() {
				mine := make([]time.Duration, 0, b.N/benchClients+1)
				var cartID string
				for n := 0; ; n++ {
					i := next.Add(1)
					if i > int64(b.N) {
						break
					}
					if n%50 == 0 {
						cartID = benchNewCart(b, client, e.shop.URL)
					}
					d, err := benchAdd(client, e.shop.URL, cartID, skus[i%benchSKUs])
					if err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, d)
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		elapsed := time.Since(begin)
		b.StopTimer()
		slices.Sort(lat)
		if len(lat) == 0 {
			return
		}
		b.ReportMetric(ms(lat[len(lat)*50/100]), "p50-ms")
		b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "adds/s")
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func benchNewCart(b *testing.B, client *http.Client, base string) string {
	resp, err := client.Post(base+"/v1/carts", "application/json", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var c api.Cart
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("create cart: %d %v", resp.StatusCode, err)
	}
	return c.ID
}

// benchAdd adds one unit of a SKU and returns how long the request took.
func benchAdd(client *http.Client, base, cartID, sku string) (time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"sku": sku, "quantity": 1})
	start := time.Now()
	resp, err := client.Post(base+"/v1/carts/"+cartID+"/items", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusCreated {
		return d, fmt.Errorf("add to cart: status %d", resp.StatusCode)
	}
	return d, nil
}
