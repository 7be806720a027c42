package inventory_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/testkit"
)

// BenchmarkReserve measures reservations per second of one unit each from 64
// concurrent callers, on one hot SKU and spread over 1,000 SKUs, on SQLite
// and (with MODSHOP_TEST_POSTGRES_URL) PostgreSQL.
func BenchmarkReserve(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { reserveBenches(b, testkit.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { reserveBenches(b, testkit.Postgres(b)) })
}

func reserveBenches(b *testing.B, db testkit.DB) {
	e := startBare(b, db)
	stockMany(b, e, "HOT", 1)
	stockMany(b, e, "S", 1000)
	b.Run("hot", func(b *testing.B) { reserveBench(b, e, func() string { return "HOT-0000" }) })
	b.Run("spread-1000", func(b *testing.B) {
		reserveBench(b, e, func() string { return fmt.Sprintf("S-%04d", rand.IntN(1000)) })
	})
}

// stockMany creates n SKUs prefix-0000.. with plenty of stock.
func stockMany(b *testing.B, e *env, prefix string, n int) {
	skus := make([]string, n)
	for i := range skus {
		skus[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	e.announce(b, skus...)
	for _, sku := range skus {
		for range 5 {
			if _, _, err := e.admin.Adjust(ctx, sku, api.MaxAdjustment, "bench stock", "bench", ""); err != nil {
				b.Fatal(err)
			}
		}
	}
}

var benchSeq atomic.Int64

func reserveBench(b *testing.B, e *env, sku func() string) {
	b.SetParallelism(64 / max(1, testingProcs()))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("b%d", benchSeq.Add(1))
			if _, err := e.inv.Reserve(ctx, id, []api.Line{{SKU: sku(), Quantity: 1}}, time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reservations/s")
}

// testingProcs is GOMAXPROCS, which RunParallel multiplies by the parallelism.
func testingProcs() int { return runtime.GOMAXPROCS(0) }
