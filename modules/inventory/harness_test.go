package inventory_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/service"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// The inventory module runs alone here. In place of the catalog stands a test
// module named "catalog" that owns a real outbox, publishes real
// catalog.variant_created.v1 events through the real bus, and listens to the
// inventory's events so the tests can check them.

type upstream struct {
	ob *events.Outbox

	mu      sync.Mutex
	changes []api.StockChanged
	expired []api.ReservationExpired
}

func (u *upstream) stockChanges(sku string) []api.StockChanged {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []api.StockChanged
	for _, c := range u.changes {
		if c.SKU == sku {
			out = append(out, c)
		}
	}
	return out
}

// latest is the stock_changed event of the SKU with the highest version.
func (u *upstream) latest(sku string) api.StockChanged {
	var last api.StockChanged
	for _, c := range u.stockChanges(sku) {
		if c.Version > last.Version {
			last = c
		}
	}
	return last
}

// checkEvents asserts that the newest stock_changed event of a SKU tells its
// level as it is (once the relay delivered it).
func (e *env) checkEvents(t testing.TB, sku string) {
	t.Helper()
	l := e.level(t, sku)
	want := api.StockChanged{SKU: sku, OnHand: l.OnHand, Reserved: l.Reserved, Available: l.Available}
	testkit.Eventually(t, 5*time.Second, func() bool {
		got := e.up.latest(sku)
		got.Version = 0
		return got == want
	}, "the newest stock_changed of %s tells %+v (got %+v)", sku, want, e.up.latest(sku))
}

func (u *upstream) expiredIDs() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for _, e := range u.expired {
		out = append(out, e.ReservationID)
	}
	return out
}

func (u *upstream) consumer() events.Consumer {
	return u.ob.Consumer("probe",
		events.On(func(_ context.Context, _ *events.Tx, e api.StockChanged) error {
			u.mu.Lock()
			defer u.mu.Unlock()
			u.changes = append(u.changes, e)
			return nil
		}),
		events.On(func(_ context.Context, _ *events.Tx, e api.ReservationExpired) error {
			u.mu.Lock()
			defer u.mu.Unlock()
			u.expired = append(u.expired, e)
			return nil
		}),
	)
}

// env is a running inventory with handles the tests use.
type env struct {
	shop  *testkit.Shop
	up    *upstream
	inv   api.Inventory
	admin api.Admin
	svc   *service.Service
	clock *clock.Fake
}

// internalToken lets the contract suite call the inventory over HTTP.
const internalToken = "inventory-test-internal-token"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// start runs the inventory on a fake clock, with a probe that records its
// events.
func start(t testing.TB, db testkit.DB) *env {
	t.Helper()
	e := &env{up: &upstream{}, clock: clock.NewFake(t0)}
	return e.run(t, db, fx.Supply(fx.Annotate(e.clock, fx.As(new(clock.Clock)))),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer { return e.up.consumer() }))
}

// startBare runs the inventory on the real clock and without the probe, so
// benchmarks measure the inventory alone.
func startBare(t testing.TB, db testkit.DB) *env {
	t.Helper()
	return (&env{up: &upstream{}}).run(t, db, fx.Options(), fx.Options())
}

func (e *env) run(t testing.TB, db testkit.DB, clockOpt, probe fx.Option) *env {
	catalogModule := fx.Module("catalog",
		modkit.Storage("catalog"),
		fx.Invoke(func(ob *events.Outbox) { e.up.ob = ob }),
		probe,
	)
	e.shop = testkit.Start(t, []app.Module{{Name: "catalog", Local: catalogModule}, {Name: inventory.Name, Local: inventory.Module}},
		testkit.Options{DB: &db, Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken},
			Extra: []fx.Option{clockOpt, fx.Populate(&e.inv, &e.admin, &e.svc)}})
	return e
}

// announce publishes catalog.variant_created.v1 for each SKU and waits until
// the inventory handled them.
func (e *env) announce(t testing.TB, skus ...string) {
	t.Helper()
	ctx := context.Background()
	err := e.up.ob.Transact(ctx, func(tx *events.Tx) error {
		for _, sku := range skus {
			if err := tx.Publish(catalog.VariantCreated{VariantID: "v-" + sku, ProductID: "p-" + sku, SKU: sku, Title: sku,
				Price: catalog.Money{Amount: 1000, Currency: "EUR"}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	// Drain returns early when the relay is already sending these rows, so
	// wait for their effect.
	e.drain(t)
	testkit.Eventually(t, 5*time.Second, func() bool {
		lv, err := e.inv.Availability(context.Background(), skus)
		return err == nil && len(lv) == len(skus)
	}, "levels of %v created", skus)
}

// drain delivers the pending events that no relay is sending already.
func (e *env) drain(t testing.TB) {
	t.Helper()
	if err := e.shop.Runtime.Bus().Drain(context.Background()); err != nil {
		t.Fatalf("drain: %v", err)
	}
}

// stock announces a SKU and puts n on hand.
func (e *env) stock(t testing.TB, sku string, n int64) {
	t.Helper()
	e.announce(t, sku)
	if _, _, err := e.admin.Adjust(context.Background(), sku, n, "initial stock", "test", ""); err != nil {
		t.Fatalf("adjust %s: %v", sku, err)
	}
}

func (e *env) level(t testing.TB, sku string) api.Level {
	t.Helper()
	lv, err := e.inv.Availability(context.Background(), []string{sku})
	if err != nil {
		t.Fatalf("availability: %v", err)
	}
	l, ok := lv[sku]
	if !ok {
		t.Fatalf("no level for %s", sku)
	}
	return l
}

// ledger is a SKU's whole ledger, newest first.
func (e *env) ledger(t testing.TB, sku string) []api.Adjustment {
	t.Helper()
	l, err := e.svc.Ledger(context.Background(), sku, 0, 1_000_000)
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}
	return l
}

// checkLedger asserts that the ledger sums to the level: every change went
// through it.
func (e *env) checkLedger(t testing.TB, sku string) {
	t.Helper()
	var onHand, reserved int64
	for _, a := range e.ledger(t, sku) {
		onHand += a.Delta
		reserved += a.ReservedDelta
	}
	l := e.level(t, sku)
	if onHand != l.OnHand || reserved != l.Reserved || l.Available != l.OnHand-l.Reserved {
		t.Fatalf("ledger sums to on_hand %d reserved %d; level is %+v", onHand, reserved, l)
	}
}
