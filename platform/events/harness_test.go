package events_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
	var d *Demo
	s := testkit.Start(t, mods(h), testkit.Options{DB: &db, Extra: []fx.Option{fx.Populate(&d)}})
	return s, d
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

// unstarted is a process that wires the modules but never starts: it can
// migrate and write, and its relay never runs, like a process killed
// between commit and publish.
func unstarted(t *testing.T, db testkit.DB, h *Hooks) (*app.Migrator, *Demo, *database.Registry) {
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
	a := app.New(cfg, mods(h), io.Discard, fx.Populate(&m, &d, &r))
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
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
