package service

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/testkit/cputime"
)

// loose keeps the failure limits out of the way of benchmarks.
var loose = Limits{PerAccountAddress: store.Delay{Free: 1 << 30, Base: time.Second, Max: time.Second, Memory: time.Minute}, PerAddress: Limit{Max: 1 << 30, Window: time.Minute}}

// measure runs op in parallel b.N times and reports, besides ns/op (wall
// time, which rises when other processes share the cores), operations per
// second and CPU milliseconds per operation (which does not).
func measure(b *testing.B, op func() error) {
	b.Helper()
	b.ReportAllocs()
	cpu0 := cputime.Process()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkHash is one new argon2id hash at the production cost (what a
// registration pays), through the hasher and its semaphore.
func BenchmarkHash(b *testing.B) {
	h, err := domain.NewHasher(domain.DefaultParams, domain.DefaultConcurrency(domain.DefaultParams))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	measure(b, func() error { _, err := h.Hash(ctx, "correct horse battery staple"); return err })
}

// BenchmarkVerify is one verification at the production cost (what every
// sign-in pays, whether the e-mail exists or not).
func BenchmarkVerify(b *testing.B) {
	h, err := domain.NewHasher(domain.DefaultParams, domain.DefaultConcurrency(domain.DefaultParams))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	measure(b, func() error {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
			return fmt.Errorf("verify: ok=%v err=%w", ok, err)
		}
		return nil
	})
}

// BenchmarkLogin is a successful sign-in through the use case at the
// production cost: failure counters, argon2id verification, a new session
// (family and refresh token) and a signed access token, on SQLite.
func BenchmarkLogin(b *testing.B) {
	s := newService(b, Config{Hashing: domain.DefaultParams, Limits: loose})
	ctx := context.Background()
	if _, _, err := s.Register(ctx, Registration{Email: "bench@example.com", Password: "password1", Name: "B"}); err != nil {
		b.Fatal(err)
	}
	measure(b, func() error {
		_, err := s.Login(ctx, Credentials{Email: "bench@example.com", Password: "password1", ClientAddr: "192.0.2.1"})
		return err
	})
}

// BenchmarkLoginUnknownEmail is the failure an enumerating client sees:
// it must cost what a wrong password costs.
func BenchmarkLoginUnknownEmail(b *testing.B) {
	s := newService(b, Config{Hashing: domain.DefaultParams, Limits: loose})
	ctx := context.Background()
	measure(b, func() error {
		_, err := s.Login(ctx, Credentials{Email: "nobody@example.com", Password: "password1", ClientAddr: "192.0.2.1"})
		if !errors.Is(err, api.ErrInvalidCredentials) {
			return fmt.Errorf("unknown e-mail: %w", err)
		}
		return nil
	})
}

// BenchmarkSixteenConcurrentLogins measures a burst of 16 sign-ins at
// once, with the default semaphore and, for comparison, a semaphore twice
// as wide and one slot per sign-in (unbounded): wall time per burst, peak
// heap and peak RSS.
func BenchmarkSixteenConcurrentLogins(b *testing.B) {
	for _, c := range []struct {
		name  string
		slots func() int // evaluated inside the run, under -cpu's GOMAXPROCS
	}{
		{"semaphore=GOMAXPROCS", func() int { return 0 }}, // the default
		{"semaphore=2xGOMAXPROCS", func() int { return 2 * runtime.GOMAXPROCS(0) }},
		{"unbounded", func() int { return 16 }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := newService(b, Config{Hashing: domain.DefaultParams, HashConcurrency: c.slots(), Limits: loose})
			var maxHeap, maxRSS atomic.Uint64
			b.ResetTimer()
			for range b.N {
				heap, rss := peakMemory(func() { signInBurstN(b, s, 16) })
				maxHeap.Store(max(maxHeap.Load(), heap))
				maxRSS.Store(max(maxRSS.Load(), rss))
			}
			b.ReportMetric(float64(maxHeap.Load())/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(maxRSS.Load())/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(s.Hasher().Concurrency()), "slots")
		})
	}
}

var burstSeq atomic.Int64

// signInBurstN is signInBurst with a fresh account per burst.
func signInBurstN(tb testing.TB, s *Service, n int) {
	ctx := context.Background()
	email := fmt.Sprintf("burst%d@example.com", burstSeq.Add(1))
	if _, _, err := s.Register(ctx, Registration{Email: email, Password: "password1", Name: "B"}); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{}, n)
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			if _, err := s.Login(ctx, Credentials{Email: email, Password: "password1"}); err != nil {
				tb.Error(err)
			}
		}()
	}
	for range n {
		<-done
	}
}
