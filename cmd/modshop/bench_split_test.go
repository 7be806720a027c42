package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/inventory"
	inventoryapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
	"github.com/modshop/modshop/platform/testkit/cputime"
)

// BenchmarkCheckoutAndOrderMonolithVsSplit measures what extraction costs a
// buyer: checkout + order (two requests, one buyer at a time, so the
// numbers are latency, not queueing) against the monolith and against the
// split (inventory and search in processes of their own, events over NATS),
// on the same kind of database. Both run side by side and the buyer takes
// turns, 50 purchases on one then 50 on the other, so that the machine's
// drift (on a shared VM, ±30 % from one minute to the next) falls on both
// alike. Every call from orders and cart to the inventory crosses HTTP in
// the split. Needs MODSHOP_TEST_NATS_URL.
//
//	MODSHOP_TEST_NATS_URL=nats://127.0.0.1:4222 go test -run '^$' \
//	  -bench 'CheckoutAndOrderMonolithVsSplit$' -benchtime 1000x ./cmd/modshop/
func BenchmarkCheckoutAndOrderMonolithVsSplit(b *testing.B) {
	natsURL := natsForTests(b)
	shops := []*lone{newLone(b, "monolith", startMonolithBench(b)), newLone(b, "split", startSplitBench(b, natsURL))}
	const block = 50
	b.ResetTimer()
	for from := 0; from < b.N; from += block {
		for _, s := range shops {
			s.buy(b, from, min(from+block, b.N))
		}
	}
	b.StopTimer()
	for _, s := range shops {
		s.report(b)
	}
	b.ReportMetric(quantileMS(shops[1].lat, 50)-quantileMS(shops[0].lat, 50), "split-adds-p50-ms")
}

// lone is one shop of BenchmarkCheckoutAndOrderMonolithVsSplit and what its
// buyer measured there.
type lone struct {
	name, sku     string
	shop          benchShop
	f             front
	carts         []string
	lat, chk, ord []time.Duration
	cpu           time.Duration
	cpuBy         map[string]time.Duration
}

// newLone stocks a SKU on the shop and fills b.N carts with it.
func newLone(b *testing.B, name string, shop benchShop) *lone {
	l := &lone{name: name, shop: shop, f: newFront(b, shop.base), cpuBy: map[string]time.Duration{}}
	l.sku = stockedSKUs(b, l.f, 1)[0]
	l.carts = make([]string, b.N)
	for i := range l.carts {
		l.carts[i] = newCart(b, l.f)
		testkit.Expect(b, l.f.do(http.MethodPost, "/v1/carts/"+l.carts[i]+"/items", "", map[string]any{"sku": l.sku, "quantity": 1}), http.StatusCreated)
	}
	return l
}

// buy makes the purchases of carts [from, to), one after another.
func (l *lone) buy(b *testing.B, from, to int) {
	cpu0, by0 := l.shop.cpu()
	for i := from; i < to; i++ {
		start := time.Now()
		var c struct {
			ID string `json:"id"`
		}
		testkit.Expect(b, l.f.do(http.MethodPost, "/v1/carts/"+l.carts[i]+"/checkout", "", map[string]any{"email": "b@example.com", "shipping_address": e2eAddress}),
			http.StatusCreated).JSON(b, &c)
		mid := time.Now()
		testkit.Expect(b, l.f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"},
			"Idempotency-Key", fmt.Sprintf("%s-%d", l.sku, i)), http.StatusCreated)
		l.lat = append(l.lat, time.Since(start))
		l.chk, l.ord = append(l.chk, mid.Sub(start)), append(l.ord, time.Since(mid))
	}
	cpu1, by1 := l.shop.cpu()
	l.cpu += cpu1 - cpu0
	for k, v := range by1 {
		l.cpuBy[k] += v - by0[k]
	}
}

// report reports the shop's p50 and p99 of checkout + order, the p50 of
// each request, and the CPU per purchase (logged by process).
func (l *lone) report(b *testing.B) {
	n := float64(len(l.lat))
	b.ReportMetric(quantileMS(l.lat, 50), l.name+"-p50-ms")
	b.ReportMetric(quantileMS(l.lat, 99), l.name+"-p99-ms")
	b.ReportMetric(quantileMS(l.chk, 50), l.name+"-checkout-p50-ms")
	b.ReportMetric(quantileMS(l.ord, 50), l.name+"-order-p50-ms")
	b.ReportMetric(float64(l.cpu.Microseconds())/1000/n, l.name+"-cpu-ms/op")
	for _, name := range slices.Sorted(maps.Keys(l.cpuBy)) {
		b.Logf("%s: CPU per purchase, %s: %.2f ms", l.name, name, float64(l.cpuBy[name].Microseconds())/1000/n)
	}
}

// BenchmarkCheckoutAndOrderMonolithVsSplitConcurrent is the same purchase
// made by 8 buyers at once, each starting its next purchase when the last
// one ended (a closed loop), over 16 SKUs: what the split costs when the
// machine is busy, where a lone buyer mostly shows idle processes waking
// up. It reports purchases/s, the p50 and p99 of checkout + order, and the
// CPU each purchase cost the shop's processes (and NATS, in the split).
//
//	MODSHOP_TEST_NATS_URL=nats://127.0.0.1:4222 go test -run '^$' \
//	  -bench CheckoutAndOrderMonolithVsSplitConcurrent -benchtime 2000x ./cmd/modshop/
func BenchmarkCheckoutAndOrderMonolithVsSplitConcurrent(b *testing.B) {
	natsURL := natsForTests(b)
	const buyers, skus = 8, 16
	b.Run("monolith", func(b *testing.B) { concurrentPurchases(b, startMonolithBench(b), buyers, skus) })
	b.Run("split", func(b *testing.B) { concurrentPurchases(b, startSplitBench(b, natsURL), buyers, skus) })
}

// BenchmarkRemoteCall is the cost of one api call across the wire: the
// inventory's Availability of one SKU, in process and through the HTTP
// client against a real server on loopback; calls that follow each other,
// and calls after 3 ms of idleness, as in a purchase, where the processes
// have gone idle between two calls (the time reported is the call's).
func BenchmarkRemoteCall(b *testing.B) {
	var inv inventoryapi.Inventory
	shop := testkit.Start(b, modules, testkit.Options{Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": splitToken}, Extra: []fx.Option{fx.Populate(&inv)}})
	client := inventory.NewClient(remote.NewClient(inventory.Name, shop.URL, splitToken))
	ctx := context.Background()
	for _, c := range []struct {
		name string
		inv  inventoryapi.Inventory
	}{{"in-process", inv}, {"http", client}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.inv.Availability(ctx, []string{"NOPE-1"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"-after-3ms-idle", func(b *testing.B) {
			var took time.Duration
			for range b.N {
				time.Sleep(3 * time.Millisecond)
				start := time.Now()
				if _, err := c.inv.Availability(ctx, []string{"NOPE-1"}); err != nil {
					b.Fatal(err)
				}
				took += time.Since(start)
			}
			b.ReportMetric(float64(took.Nanoseconds())/float64(b.N), "call-ns")
		})
	}
}

// benchShop is a shop under benchmark: the URL buyers use, and the
// processes whose CPU a purchase costs.
type benchShop struct {
	base  string
	procs map[string]*served
	nats  bool // count the NATS server's CPU too
}

// startMonolithBench runs the binary as one process, on the same kind of
// database as the split.
func startMonolithBench(b *testing.B, env ...string) benchShop {
	db, port := splitDB(b), freePort(b)
	p := serveQuiet(b, "127.0.0.1:"+port, append([]string{"MODSHOP_MODULES=all", "MODSHOP_HTTP_ADDR=127.0.0.1:" + port, "MODSHOP_DATABASE_URL=" + db.URL,
		"MODSHOP_DATA_DIR=" + b.TempDir(), "MODSHOP_JWT_SECRET=" + testkit.JWTSecret}, env...)...)
	base := "http://127.0.0.1:" + port
	waitReadyURL(b, base, 30*time.Second)
	return benchShop{base: base, procs: map[string]*served{"monolith": p}}
}

func startSplitBench(b *testing.B, natsURL string) benchShop {
	s := startSplitWith(b, natsURL, true)
	return benchShop{base: s.url("rest"), procs: s.procs, nats: true}
}

// cpu is the CPU time the shop's processes have used so far, in all and by
// process ("nats" for the NATS server).
func (s benchShop) cpu() (time.Duration, map[string]time.Duration) {
	by := map[string]time.Duration{}
	var d time.Duration
	for name, p := range s.procs {
		by[name] = cputime.Of(p.cmd.Process.Pid)
		d += by[name]
	}
	if s.nats {
		by["nats"] = cputime.Commands("nats-server")
		d += by["nats"]
	}
	return d, by
}

// reportCPU reports the CPU per purchase since (total0, by0) as
// shop-cpu-ms/op, and logs it by process.
func (s benchShop) reportCPU(b *testing.B, total0 time.Duration, by0 map[string]time.Duration) {
	total, by := s.cpu()
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(perOp(total-total0), "shop-cpu-ms/op")
	names := slices.Sorted(maps.Keys(by))
	for _, name := range names {
		b.Logf("CPU per purchase, %s: %.2f ms", name, perOp(by[name]-by0[name]))
	}
}

// stockedSKUs creates n published products of one variant each, with a
// million units of each in stock, and returns their SKUs.
func stockedSKUs(b *testing.B, f front, n int) []string {
	run := time.Now().UnixNano()
	skus := make([]string, n)
	for i := range skus {
		skus[i] = fmt.Sprintf("BENCH-%d-%d", run, i)
		testkit.Expect(b, f.do(http.MethodPost, "/v1/admin/products", f.admin, map[string]any{"slug": fmt.Sprintf("b-%d-%d", run, i),
			"title": "Bench " + skus[i], "status": "published", "variants": []map[string]any{{"sku": skus[i], "title": "One", "price": 1500}}}),
			http.StatusCreated)
	}
	for _, sku := range skus {
		testkit.Eventually(b, 15*time.Second, func() bool {
			return f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).Status == http.StatusOK
		}, "the inventory knows %s", sku)
		testkit.Expect(b, f.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", f.admin, map[string]any{"delta": 1_000_000, "reason": "bench"}),
			http.StatusCreated)
	}
	return skus
}

// concurrentPurchases runs b.N purchases from the given number of buyers,
// each on a keep-alive connection of its own, over guest carts of one line
// of one of nSKUs SKUs (filled before the timer starts).
func concurrentPurchases(b *testing.B, shop benchShop, buyers, nSKUs int) {
	f := newFront(b, shop.base)
	skus := stockedSKUs(b, f, nSKUs)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: buyers, MaxConnsPerHost: buyers}}
	// post is safe for the buyers' goroutines: it fails nothing itself.
	post := func(path string, body, out any, header ...string) error {
		in, err := json.Marshal(body)
		if err != nil {
			return err
		}
		req, err := http.NewRequest(http.MethodPost, shop.base+path, bytes.NewReader(in))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		switch {
		case err != nil:
			return err
		case resp.StatusCode != http.StatusCreated:
			return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, answer)
		case out != nil:
			return json.Unmarshal(answer, out)
		}
		return nil
	}
	// each runs fn(i) for i in [0, b.N) from the buyers; the first error
	// stops them.
	each := func(fn func(i int) error) error {
		var next atomic.Int64
		var wg sync.WaitGroup
		var once sync.Once
		var first error
		for range buyers {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
					if err := fn(i); err != nil {
						once.Do(func() { first = err })
						next.Store(int64(b.N))
					}
				}
			})
		}
		wg.Wait()
		return first
	}
	type cartID struct {
		ID string `json:"id"`
	}
	carts := make([]string, b.N)
	err := each(func(i int) error {
		var c cartID
		if err := post("/v1/carts", nil, &c); err != nil {
			return err
		}
		carts[i] = c.ID
		return post("/v1/carts/"+c.ID+"/items", map[string]any{"sku": skus[i%len(skus)], "quantity": 1}, nil)
	})
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, b.N)
	run := time.Now().UnixNano()
	b.ResetTimer()
	cpu0, by0 := shop.cpu()
	begin := time.Now()
	err = each(func(i int) error {
		start := time.Now()
		var c cartID
		if err := post("/v1/carts/"+carts[i]+"/checkout", map[string]any{"email": "b@example.com", "shipping_address": e2eAddress}, &c); err != nil {
			return err
		}
		err := post("/v1/orders", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"}, nil, "Idempotency-Key", fmt.Sprintf("%d-%d", run, i))
		if err != nil {
			return err
		}
		lat[i] = time.Since(start)
		return nil
	})
	elapsed := time.Since(begin)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "purchases/s")
	b.ReportMetric(quantileMS(lat, 50), "p50-ms")
	b.ReportMetric(quantileMS(lat, 99), "p99-ms")
	shop.reportCPU(b, cpu0, by0)
}

func quantileMS(d []time.Duration, q int) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, len(s)*q/100)].Microseconds()) / 1000
}
