package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/catalog"
	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/inventory"
	invapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// env is a running shop with the catalog, an inventory (the real module or
// a fake that counts calls), and a probe that records the catalog's events
// as another module would receive them.
type env struct {
	*testkit.Shop
	t       testing.TB
	admin   string
	catalog api.Catalog
	adm     api.Admin
	store   api.Storefront
	events  *recorder
}

// start runs the catalog with the real inventory module.
func start(t testing.TB, db testkit.DB) *env {
	return startWith(t, db, inventory.Module, nil)
}

// startFake runs the catalog with a fake inventory.
func startFake(t testing.TB, db testkit.DB, inv *fakeInventory) *env {
	return startWith(t, db, fx.Module("inventory", fx.Provide(func() invapi.Inventory { return inv })), nil)
}

// internalToken lets the contract suite call the catalog over HTTP.
const internalToken = "catalog-test-internal-token"

// startWith runs the catalog with the given inventory, MODSHOP_* variables
// and extra fx options (e.g. fx.Decorate of httpapi.CacheConfig).
func startWith(t testing.TB, db testkit.DB, inventoryModule fx.Option, vars map[string]string, extra ...fx.Option) *env {
	t.Helper()
	e := &env{t: t, events: &recorder{}}
	settings := map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken}
	maps.Copy(settings, vars)
	probe := fx.Module("probe",
		modkit.Storage("probe"),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer { return e.events.consumer(ob) }),
	)
	e.Shop = testkit.Start(t, []app.Module{{Name: "inventory", Local: inventoryModule}, {Name: catalog.Name, Local: catalog.Module}},
		testkit.Options{DB: &db, Env: settings, Extra: append([]fx.Option{probe, fx.Populate(&e.catalog, &e.adm, &e.store)}, extra...)})
	e.admin = e.AdminToken()
	return e
}

// fakeInventory answers Availability from a fixed table and counts calls;
// the embedded interface is nil because the catalog calls nothing else.
type fakeInventory struct {
	invapi.Inventory
	mu     sync.Mutex
	calls  int
	skus   int
	levels map[string]int64
	fail   bool
}

func (f *fakeInventory) Availability(_ context.Context, skus []string) (map[string]invapi.Level, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.skus += len(skus)
	if f.fail {
		return nil, fmt.Errorf("inventory is down")
	}
	out := map[string]invapi.Level{}
	for _, s := range skus {
		if n, ok := f.levels[s]; ok {
			out[s] = invapi.Level{SKU: s, OnHand: n, Available: n}
		}
	}
	return out, nil
}

func (f *fakeInventory) stats() (calls, skus int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.skus
}

// recorder keeps every catalog event the probe's consumer handled.
type recorder struct {
	mu  sync.Mutex
	got []events.Event
}

func record[E events.Event](r *recorder) events.Route {
	return events.On(func(_ context.Context, _ *events.Tx, e E) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, e)
		return nil
	})
}

func (r *recorder) consumer(ob *events.Outbox) events.Consumer {
	return ob.Consumer("catalog_recorder",
		record[api.ProductPublished](r), record[api.ProductUpdated](r), record[api.ProductArchived](r),
		record[api.VariantCreated](r), record[api.VariantPriceChanged](r))
}

// of returns the events of a product, in the order they were handled.
func (r *recorder) of(productID string) []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.Event
	for _, e := range r.got {
		if e.EventKey() == productID {
			out = append(out, e)
		}
	}
	return out
}

// wait waits until the product has n events and returns them.
func (r *recorder) wait(t testing.TB, productID string, n int) []events.Event {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, func() bool { return len(r.of(productID)) >= n },
		"%d events of product %s", n, productID)
	time.Sleep(50 * time.Millisecond) // let any unexpected extra event arrive
	return r.of(productID)
}

// The JSON shapes of the contract, decoded independently of the handlers'
// own types.
type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type variant struct {
	ID         string            `json:"id"`
	SKU        string            `json:"sku"`
	Title      string            `json:"title"`
	Price      money             `json:"price"`
	Attributes map[string]string `json:"attributes"`
	Available  int64             `json:"available"`
	InStock    bool              `json:"in_stock"`
}

type product struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	CategoryID  *string   `json:"category_id"`
	Status      string    `json:"status"`
	Variants    []variant `json:"variants"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type productList struct {
	Items      []product `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

type category struct {
	ID       string  `json:"id"`
	Slug     string  `json:"slug"`
	Name     string  `json:"name"`
	ParentID *string `json:"parent_id"`
}

func (e *env) createCategory(slug string, parent *category) category {
	e.t.Helper()
	body := map[string]any{"slug": slug, "name": slug}
	if parent != nil {
		body["parent_id"] = parent.ID
	}
	var c category
	testkit.Expect(e.t, e.Post("/v1/admin/categories", e.admin, body), http.StatusCreated).JSON(e.t, &c)
	return c
}

// newProduct is a valid product body with one variant per price.
func newProduct(slug string, status string, prices ...int64) map[string]any {
	var vs []map[string]any
	for i, p := range prices {
		vs = append(vs, map[string]any{"sku": fmt.Sprintf("%s-%d", slug, i), "title": fmt.Sprintf("V%d", i), "price": p,
			"attributes": map[string]string{"size": fmt.Sprint(40 + i)}})
	}
	return map[string]any{"slug": slug, "title": "Title of " + slug, "description": "About " + slug, "status": status, "variants": vs}
}

func (e *env) createProduct(body map[string]any) product {
	e.t.Helper()
	var p product
	testkit.Expect(e.t, e.Post("/v1/admin/products", e.admin, body), http.StatusCreated).JSON(e.t, &p)
	return p
}

func (e *env) patch(path string, body any) testkit.Response {
	e.t.Helper()
	return e.Do(testkit.Req{Method: http.MethodPatch, Path: path, Token: e.admin, Body: body})
}

func (e *env) list(path string) productList {
	e.t.Helper()
	var l productList
	testkit.Expect(e.t, e.Get(path, ""), http.StatusOK).JSON(e.t, &l)
	return l
}

func (e *env) customerToken() string { return e.Token("customer-1", auth.RoleCustomer) }

// keys lists the members of a JSON object.
func keys(t testing.TB, raw []byte) map[string]bool {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
