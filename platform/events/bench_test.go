package events_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// Tick is the benchmark's event: it carries the moment its transaction was
// about to commit, so the consumer can measure commit→handled.
type Tick struct {
	N        int   `json:"n"`
	Key      int   `json:"key"`
	SentNano int64 `json:"sent"`
}

func (Tick) EventName() string  { return "bench.tick.v1" }
func (e Tick) EventKey() string { return fmt.Sprint(e.Key) }

// benchBus is one process's bus: module "bench" publishes, module "sink"
// consumes with one consumer that writes a row per event (plus the inbox
// row the platform writes), as a real read model would.
type benchBus struct {
	bus     *events.Bus
	out     *events.Outbox
	handled atomic.Int64
	mu      sync.Mutex
	lat     []time.Duration
	done    chan struct{}
	want    atomic.Int64
}

func newBenchBus(b *testing.B, url string) *benchBus { return newBenchBusStarted(b, url, true) }

func newBenchBusStarted(b *testing.B, url string, start bool) *benchBus {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := database.NewRegistry(func(string) string { return url }, log, nil)
	b.Cleanup(func() { reg.Close() })
	ctx := context.Background()
	pub, _ := reg.For("bench")
	sink, _ := reg.For("sink")
	for _, set := range []database.MigrationSet{events.Migrations("bench"), events.Migrations("sink"),
		{Module: "sink", Component: "module", Migrations: []database.Migration{{Version: 1, Name: "seen",
			SQL: "CREATE TABLE sink_seen (n BIGINT PRIMARY KEY, sent BIGINT NOT NULL);"}}}} {
		h, _ := reg.For(set.Module)
		if _, err := database.Migrate(ctx, h, set); err != nil {
			b.Fatal(err)
		}
	}
	bb := &benchBus{bus: events.NewBus(events.NewGoChannel(log), nil, log)}
	bb.out = bb.bus.Outbox(pub)
	sinkOut := bb.bus.Outbox(sink)
	bb.bus.Subscribe(sinkOut.Consumer("seen", events.On(func(_ context.Context, tx *events.Tx, e Tick) error {
		if err := tx.Exec("INSERT INTO sink_seen (n, sent) VALUES (?, ?)", e.N, e.SentNano).Error; err != nil {
			return err
		}
		lat := time.Since(time.Unix(0, e.SentNano))
		bb.mu.Lock()
		bb.lat = append(bb.lat, lat)
		bb.mu.Unlock()
		if bb.handled.Add(1) == bb.want.Load() {
			close(bb.done)
		}
		return nil
	})))
	if !start {
		return bb
	}
	if err := bb.bus.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bb.bus.Stop(context.Background()) })
	return bb
}

// expect resets the counters for n more events.
func (bb *benchBus) expect(n int) {
	bb.mu.Lock()
	bb.lat = bb.lat[:0]
	bb.mu.Unlock()
	bb.done = make(chan struct{})
	bb.handled.Store(0)
	bb.want.Store(int64(n))
}

func (bb *benchBus) publish(ctx context.Context, first, n, keys int) error {
	return bb.out.Transact(ctx, func(tx *events.Tx) error {
		now := time.Now().UnixNano()
		for i := range n {
			if err := tx.Publish(Tick{N: first + i, Key: (first + i) % keys, SentNano: now}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (bb *benchBus) report(b *testing.B, n int, elapsed time.Duration) {
	bb.mu.Lock()
	lat := slices.Clone(bb.lat)
	bb.mu.Unlock()
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

func (bb *benchBus) wait(b *testing.B) {
	select {
	case <-bb.done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("only %d of %d events handled", bb.handled.Load(), bb.want.Load())
	}
}

// BenchmarkEventBus measures one process's in-process bus: producers commit
// events through the outbox, the relay publishes them over GoChannel, and a
// consumer handles each in its own transaction with its inbox row.
//
//   - throughput/tx=1: 4 producers, one event per transaction, flat out;
//   - throughput/tx=100: 4 producers, 100 events per transaction;
//   - commit-only/tx=1: the producers of tx=1 with the bus stopped, the
//     ceiling that the database's commit rate sets;
//   - latency: one event per transaction, paced at 500 events/s, so that
//     commit→handled is measured without a queue in front of it.
//
// Run: go test -run '^$' -bench EventBus -benchtime 5000x ./platform/events/
// (set MODSHOP_TEST_POSTGRES_URL for the postgres variant).
func BenchmarkEventBus(b *testing.B) {
	dbs := map[string]func(testing.TB) testkit.DB{"sqlite": testkit.SQLite, "postgres": testkit.Postgres}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			for _, perTx := range []int{1, 100} {
				b.Run(fmt.Sprintf("throughput/tx=%d", perTx), func(b *testing.B) {
					bb := newBenchBus(b, dbs[name](b).URL)
					ctx := context.Background()
					n := max(b.N/perTx, 1) * perTx
					bb.expect(n)
					const producers = 4
					b.ResetTimer()
					start := time.Now()
					var wg sync.WaitGroup
					for p := range producers {
						wg.Go(func() {
							for i := p * perTx; i < n; i += producers * perTx {
								if err := bb.publish(ctx, i, min(perTx, n-i), 64); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					bb.wait(b)
					elapsed := time.Since(start)
					b.StopTimer()
					bb.report(b, n, elapsed)
				})
			}
			// The ceiling: the same producers' commits with the bus not
			// started (no relay, no consumer).
			b.Run("commit-only/tx=1", func(b *testing.B) {
				bb := newBenchBusStarted(b, dbs[name](b).URL, false)
				ctx := context.Background()
				const producers = 4
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for p := range producers {
					wg.Go(func() {
						for i := p; i < b.N; i += producers {
							if err := bb.publish(ctx, i, 1, 64); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			})
			b.Run("latency", func(b *testing.B) {
				bb := newBenchBus(b, dbs[name](b).URL)
				ctx := context.Background()
				bb.expect(b.N)
				tick := time.NewTicker(2 * time.Millisecond)
				defer tick.Stop()
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					<-tick.C
					if err := bb.publish(ctx, i, 1, 64); err != nil {
						b.Fatal(err)
					}
				}
				bb.wait(b)
				elapsed := time.Since(start)
				b.StopTimer()
				bb.report(b, b.N, elapsed)
			})
		})
	}
}
