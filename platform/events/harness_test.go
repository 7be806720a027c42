package events_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/fx"
	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// ItemCreated is the demo module's integration event.
type ItemCreated struct {
	ID        string `json:"id"`
	Aggregate string `json:"aggregate"`
	Seq       int    `json:"seq"`
	Behaviour string `json:"behaviour,omitempty"` // "", "flaky", "poison", "panic"
}

func (ItemCreated) EventName() string  { return "demo.item_created.v1" }
func (e ItemCreated) EventKey() string { return e.Aggregate }

// Demo is the demo module's service: it writes an item and its event in one
// transaction.
type Demo struct{ ob *events.Outbox }

func (d *Demo) Create(ctx context.Context, e ItemCreated) error {
	return d.ob.Transact(ctx, func(tx *events.Tx) error {
		if err := tx.Exec("INSERT INTO demo_items (id, aggregate, seq) VALUES (?, ?, ?)", e.ID, e.Aggregate, e.Seq).Error; err != nil {
			return err
		}
		return tx.Publish(e)
	})
}

// CreateMany writes n events in one transaction.
func (d *Demo) CreateMany(ctx context.Context, es []ItemCreated) error {
	return d.ob.Transact(ctx, func(tx *events.Tx) error {
		for _, e := range es {
			if err := tx.Publish(e); err != nil {
				return err
			}
		}
		return nil
	})
}

func demoModule() app.Module {
	return app.Module{Name: "demo", Local: fx.Module("demo",
		modkit.Describe(modkit.Descriptor{Name: "demo", Publishes: []string{ItemCreated{}.EventName()}}),
		modkit.Storage("demo"),
		modkit.Migrations(database.MigrationSet{Module: "demo", Component: "module", Migrations: []database.Migration{{
			Version: 1, Name: "items",
			SQL: "CREATE TABLE demo_items (id TEXT PRIMARY KEY, aggregate TEXT NOT NULL, seq INTEGER NOT NULL);",
		}}}),
		fx.Provide(func(ob *events.Outbox) *Demo { return &Demo{ob: ob} }),
	)}
}

// Hooks steer the audit module's consumers from a test.
type Hooks struct {
	mu       sync.Mutex
	attempts map[string]int // per event id, for audit.record
	fixed    bool           // the poison handler works again
	slow     time.Duration  // each audit.record handling takes this long
}

func (h *Hooks) attempt(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.attempts == nil {
		h.attempts = map[string]int{}
	}
	h.attempts[id]++
	return h.attempts[id]
}

func (h *Hooks) Fix() {
	h.mu.Lock()
	h.fixed = true
	h.mu.Unlock()
}

func (h *Hooks) isFixed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fixed
}

// auditModule consumes demo's events with three consumers:
//   - audit.record writes every event to audit_log (flaky events fail twice
//     after writing, to prove the failed attempts are rolled back);
//   - audit.poison fails ("poison") or panics ("panic") until Hooks.Fix;
//   - audit.count counts events in audit_counts, and never fails.
func auditModule(h *Hooks) app.Module {
	return app.Module{Name: "audit", Local: fx.Module("audit",
		modkit.Describe(modkit.Descriptor{Name: "audit", Consumes: []string{ItemCreated{}.EventName()}}),
		modkit.Storage("audit"),
		modkit.Migrations(database.MigrationSet{Module: "audit", Component: "module", Migrations: []database.Migration{{
			Version: 1, Name: "log",
			SQL: `
CREATE TABLE audit_log (
	n BIGSERIAL PRIMARY KEY,
	consumer TEXT NOT NULL,
	event_id TEXT NOT NULL,
	aggregate TEXT NOT NULL,
	seq INTEGER NOT NULL
);
CREATE TABLE audit_counts (consumer TEXT PRIMARY KEY, n INTEGER NOT NULL);
`,
		}}}),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer {
			return ob.Consumer("record", events.On(func(ctx context.Context, tx *events.Tx, e ItemCreated) error {
				if h.slow > 0 {
					time.Sleep(h.slow)
				}
				if err := logEvent(tx, "audit.record", e); err != nil {
					return err
				}
				if e.Behaviour == "flaky" && h.attempt(e.ID) <= 2 {
					return errors.New("flaky: try again")
				}
				return nil
			}))
		}),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer {
			return ob.Consumer("poison", events.On(func(ctx context.Context, tx *events.Tx, e ItemCreated) error {
				if !h.isFixed() {
					switch e.Behaviour {
					case "poison":
						return errors.New("poison: cannot handle " + e.ID)
					case "panic":
						panic("handler exploded on " + e.ID)
					}
				}
				return logEvent(tx, "audit.poison", e)
			}))
		}),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer {
			return ob.Consumer("count", events.On(func(ctx context.Context, tx *events.Tx, e ItemCreated) error {
				return tx.Exec("INSERT INTO audit_counts (consumer, n) VALUES ('audit.count', 1) ON CONFLICT (consumer) DO UPDATE SET n = audit_counts.n + 1").Error
			}))
		}),
	)}
}

func logEvent(tx *events.Tx, consumer string, e ItemCreated) error {
	return tx.Exec("INSERT INTO audit_log (consumer, event_id, aggregate, seq) VALUES (?, ?, ?, ?)", consumer, e.ID, e.Aggregate, e.Seq).Error
}

func mods(h *Hooks) []app.Module { return []app.Module{demoModule(), auditModule(h)} }

// shop starts demo and audit in a process of their own on db.
func shop(t *testing.T, db testkit.DB, h *Hooks) (*testkit.Shop, *Demo) {
	t.Helper()
	return shopOn(t, transport{name: "gochannel"}, db, h)
}

// shopOn is shop on the transport tr.
func shopOn(t *testing.T, tr transport, db testkit.DB, h *Hooks) (*testkit.Shop, *Demo) {
	t.Helper()
	var d *Demo
	s := testkit.Start(t, mods(h), testkit.Options{DB: &db, Extra: append(tr.options(), fx.Populate(&d))})
	if got := s.Runtime.Bus().Transport().Name(); got != tr.name {
		t.Fatalf("the process runs on %s, want %s", got, tr.name)
	}
	return s, d
}

// transport is the event transport of a test's processes.
type transport struct {
	name string
	nats *events.NATSConfig // nil: GoChannel
}

// forEachTransport runs fn on GoChannel and, when MODSHOP_TEST_NATS_URL is
// set, on NATS JetStream with a stream of the test's own.
func forEachTransport(t *testing.T, fn func(t *testing.T, tr transport)) {
	t.Run("gochannel", func(t *testing.T) { fn(t, transport{name: "gochannel"}) })
	t.Run("nats", func(t *testing.T) {
		cfg := natsConfig(t)
		fn(t, transport{name: "nats", nats: &cfg})
	})
}

// forEachDBAndTransport runs fn on each transport and, for each, on a fresh
// database of each kind (testkit.ForEachDB).
func forEachDBAndTransport(t *testing.T, fn func(t *testing.T, db testkit.DB, tr transport)) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) { fn(t, db, tr) })
	})
}

// options make a process use the transport (the default is GoChannel).
func (tr transport) options() []fx.Option {
	if tr.nats == nil {
		return nil
	}
	cfg := *tr.nats
	return []fx.Option{fx.Decorate(func(log *slog.Logger) (events.Transport, error) { return events.NewNATS(cfg, log) })}
}

// natsConfig is a NATS transport on MODSHOP_TEST_NATS_URL with a stream and
// subjects of the test's own; the stream is deleted when the test ends.
// Without MODSHOP_TEST_NATS_URL the test is skipped, saying so.
func natsConfig(t testing.TB) events.NATSConfig {
	t.Helper()
	url := os.Getenv("MODSHOP_TEST_NATS_URL")
	if url == "" {
		t.Skip("NATS suite skipped: set MODSHOP_TEST_NATS_URL=nats://127.0.0.1:4222 (a NATS server with JetStream) to run it")
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect to MODSHOP_TEST_NATS_URL: %v", err)
	}
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	cfg := events.NATSConfig{URL: url, Stream: "MODSHOP_T_" + strings.ToUpper(id), SubjectPrefix: "modshop_t_" + id + ".events",
		NakDelay: 50 * time.Millisecond,
		// A message on its way to a consumer when it stops may wait for
		// AckWait (the server counts it delivered): keep that short here.
		AckWait: 5 * time.Second}
	t.Cleanup(func() {
		if t.Failed() {
			for ci := range js.ConsumersInfo(cfg.Stream) {
				t.Logf("consumer %s: delivered %d, ack floor %d, ack pending %d, redelivered %d, pending %d, waiting %d, push bound %v",
					ci.Name, ci.Delivered.Stream, ci.AckFloor.Stream, ci.NumAckPending, ci.NumRedelivered, ci.NumPending, ci.NumWaiting, ci.PushBound)
			}
		}
		if err := js.DeleteStream(cfg.Stream); err != nil && !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("delete stream %s: %v", cfg.Stream, err)
		}
		nc.Close()
	})
	return cfg
}

// waitCount waits until query counts want rows.
func waitCount(t *testing.T, g *gorm.DB, timeout time.Duration, want int64, query string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := count(t, g, query, args...)
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s is %d, want %d", timeout, query, n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitMetric waits until a sample of /metrics has the value want.
func waitMetric(t *testing.T, s *testkit.Shop, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := metric(t, s, series)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s = %v, want %v", series, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// peek opens the database on its own, as an operator would, to count rows.
func peek(t *testing.T, db testkit.DB) *gorm.DB {
	t.Helper()
	d, err := database.Open(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d.Gorm
}

func count(t *testing.T, g *gorm.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := g.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// metric reads one sample of /metrics, 0 when absent.
func metric(t *testing.T, s *testkit.Shop, series string) float64 {
	t.Helper()
	r := s.Get("/metrics", "")
	sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return f
		}
	}
	return 0
}

// unstarted is a process (on tr) that wires the modules but never starts: it can
// migrate and write, and its relay never runs, like a process killed
// between commit and publish.
func unstarted(t *testing.T, tr transport, db testkit.DB, h *Hooks) (*app.Migrator, *Demo, *database.Registry) {
	t.Helper()
	env := map[string]string{"MODSHOP_DATABASE_URL": db.URL, "MODSHOP_DATA_DIR": t.TempDir(), "MODSHOP_JWT_SECRET": testkit.JWTSecret}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, environ, app.Names(mods(h)))
	if err != nil {
		t.Fatal(err)
	}
	var m *app.Migrator
	var d *Demo
	var r *database.Registry
	var tp events.Transport
	a := app.New(cfg, mods(h), io.Discard, append(tr.options(), fx.Populate(&m, &d, &r, &tp))...)
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	return m, d, r
}

func ids(prefix string, n int) []ItemCreated {
	out := make([]ItemCreated, n)
	for i := range out {
		out[i] = ItemCreated{ID: fmt.Sprintf("%s-%04d", prefix, i), Aggregate: prefix, Seq: i + 1}
	}
	return out
}

var _ = http.MethodGet
var _ = slog.LevelInfo
