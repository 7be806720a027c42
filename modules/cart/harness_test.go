package cart_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/cart"
	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/service"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/inventory"
	inventoryapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// The cart runs with the real inventory module. In place of the catalog
// stands a test module named "catalog" that answers api.Catalog from memory
// and announces its SKUs with real catalog.variant_created.v1 events (so the
// inventory creates their levels); in place of orders, a test module named
// "orders" that owns an outbox to publish orders.order_placed.v1.

type fakeCatalog struct {
	ob *events.Outbox

	mu       sync.Mutex
	variants map[string]catalog.VariantInfo
	calls    atomic.Int64 // VariantsBySKU calls
}

func (f *fakeCatalog) VariantsBySKU(_ context.Context, skus []string) (map[string]catalog.VariantInfo, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]catalog.VariantInfo{}
	for _, s := range skus {
		if v, ok := f.variants[s]; ok {
			out[s] = v
		}
	}
	return out, nil
}

func (f *fakeCatalog) Product(context.Context, string) (catalog.Product, error) {
	return catalog.Product{}, catalog.ErrProductNotFound
}

func (f *fakeCatalog) Products(context.Context, string, int) ([]catalog.Product, string, error) {
	return nil, "", nil
}

func (f *fakeCatalog) Categories(context.Context) ([]catalog.Category, error) { return nil, nil }

// set changes a variant in place (price, status), as an admin would.
func (f *fakeCatalog) set(sku string, change func(v *catalog.VariantInfo)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.variants[sku]
	change(&v)
	f.variants[sku] = v
}

func (f *fakeCatalog) remove(sku string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.variants, sku)
}

type env struct {
	shop    *testkit.Shop
	catalog *fakeCatalog
	orders  *events.Outbox
	admin   inventoryapi.Admin
	inv     inventoryapi.Inventory
	svc     *service.Service
	carts   api.Carts
	clock   *clock.Fake
}

// internalToken lets the contract suite call the cart over HTTP.
const internalToken = "cart-test-internal-token"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func start(t testing.TB, db testkit.DB, fake bool) *env {
	t.Helper()
	var clk *clock.Fake
	if fake {
		clk = clock.NewFake(t0)
	}
	return startOn(t, db, clk)
}

// startOn starts the cart on db with the fake clock clk (nil: the real
// one); processes may share a clock.
func startOn(t testing.TB, db testkit.DB, clk *clock.Fake) *env {
	t.Helper()
	e := &env{catalog: &fakeCatalog{variants: map[string]catalog.VariantInfo{}}, clock: clk}
	catalogModule := fx.Module("catalog",
		modkit.Storage("catalog"),
		fx.Invoke(func(ob *events.Outbox) { e.catalog.ob = ob }),
		fx.Provide(func() catalog.Catalog { return e.catalog }),
	)
	ordersModule := fx.Module("orders",
		modkit.Storage("orders"),
		fx.Invoke(func(ob *events.Outbox) { e.orders = ob }),
	)
	extra := []fx.Option{fx.Populate(&e.admin, &e.inv, &e.svc, &e.carts)}
	if clk != nil {
		extra = append(extra, fx.Supply(fx.Annotate(clk, fx.As(new(clock.Clock)))))
	}
	e.shop = testkit.Start(t, []app.Module{
		{Name: "catalog", Local: catalogModule},
		{Name: inventory.Name, Local: inventory.Module},
		{Name: cart.Name, Local: cart.Module},
		{Name: "orders", Local: ordersModule},
	}, testkit.Options{DB: &db, Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken}, Extra: extra})
	return e
}

// product puts a published variant in the catalog with stock on hand.
func (e *env) product(t testing.TB, sku string, price, stock int64) {
	t.Helper()
	e.products(t, price, stock, sku)
}

// products puts published variants in the catalog, each with stock on hand.
func (e *env) products(t testing.TB, price, stock int64, skus ...string) {
	t.Helper()
	e.catalog.mu.Lock()
	for _, sku := range skus {
		e.catalog.variants[sku] = catalog.VariantInfo{VariantID: "v-" + sku, SKU: sku, Title: "Blue", ProductID: "p-" + sku,
			ProductTitle: "Product " + sku, ProductStatus: catalog.StatusPublished, Price: catalog.Money{Amount: price, Currency: "EUR"}}
	}
	e.catalog.mu.Unlock()
	err := e.catalog.ob.Transact(context.Background(), func(tx *events.Tx) error {
		for _, sku := range skus {
			if err := tx.Publish(catalog.VariantCreated{VariantID: "v-" + sku, ProductID: "p-" + sku, SKU: sku}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.shop.Runtime.Bus().Drain(context.Background())
	testkit.Eventually(t, 5*time.Second, func() bool {
		lv, err := e.inv.Availability(context.Background(), skus)
		return err == nil && len(lv) == len(skus)
	}, "inventory levels for %v", skus)
	if stock == 0 {
		return
	}
	for _, sku := range skus {
		if _, _, err := e.admin.Adjust(context.Background(), sku, stock, "test stock", "test", ""); err != nil {
			t.Fatal(err)
		}
	}
}
