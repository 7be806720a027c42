package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit"
)

// BenchmarkTracingOverhead measures what tracing costs the shop: the same
// monolith (SQLite, or PostgreSQL with MODSHOP_TEST_POSTGRES_URL) started
// three times: with tracing disabled (OTEL_SDK_DISABLED=true: no spans, no
// ids), as it runs by default (no OTEL_EXPORTER_OTLP_ENDPOINT: spans get
// ids and record nothing) and exporting every span over OTLP/HTTP to a
// receiver in the test. Each round sends both shops the same block of
// product-list pages, each with a random min_price so that no two are one
// cached answer, and of purchases (checkout + order), alternating so that
// the machine's other load falls on both alike. It reports the server's CPU
// per request and the p50 of each, off and on.
//
//	go test -run '^$' -bench TracingOverhead -benchtime 2000x ./cmd/modshop/
func BenchmarkTracingOverhead(b *testing.B) {
	col := newCollector(b)
	shops := []*traced{
		{name: "disabled", shop: startMonolithBench(b, "OTEL_SDK_DISABLED=true")},
		{name: "off", shop: startMonolithBench(b)},
		{name: "on", shop: startMonolithBench(b, "OTEL_EXPORTER_OTLP_ENDPOINT="+col.URL)},
	}
	for _, s := range shops {
		s.l = newLone(b, s.name, s.shop)
	}
	const block = 50
	b.ResetTimer()
	for from := 0; from < b.N; from += block {
		to := min(from+block, b.N)
		for _, s := range shops {
			s.list(b, to-from)
			s.l.buy(b, from, to)
		}
	}
	b.StopTimer()
	for _, s := range shops {
		n := float64(b.N)
		b.ReportMetric(quantileMS(s.listLat, 50), s.name+"-list-p50-ms")
		b.ReportMetric(float64(s.listCPU.Microseconds())/n, s.name+"-list-cpu-µs/op")
		b.ReportMetric(quantileMS(s.l.lat, 50), s.name+"-purchase-p50-ms")
		b.ReportMetric(float64(s.l.cpu.Microseconds())/n, s.name+"-purchase-cpu-µs/op")
	}
	testkit.Eventually(b, 10*time.Second, func() bool { return col.count() > 0 }, "the shop with tracing on exports its spans")
}

// traced is one shop of BenchmarkTracingOverhead.
type traced struct {
	name    string
	shop    benchShop
	l       *lone
	listLat []time.Duration
	listCPU time.Duration
}

// list fetches n product-list pages, each with its own min_price.
func (s *traced) list(b *testing.B, n int) {
	cpu0, _ := s.shop.cpu()
	for range n {
		start := time.Now()
		testkit.Expect(b, s.l.f.do(http.MethodGet, fmt.Sprintf("/v1/products?limit=20&min_price=%d", rand.IntN(1_000_000)), "", nil), http.StatusOK)
		s.listLat = append(s.listLat, time.Since(start))
	}
	cpu1, _ := s.shop.cpu()
	s.listCPU += cpu1 - cpu0
}
