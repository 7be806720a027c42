package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/cart"
	"github.com/modshop/modshop/modules/catalog"
	catalogapi "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/inventory"
	inventoryapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/payments"
	paymentsapi "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// The orders module runs with the real catalog, inventory, cart, customers
// and payments modules on a real database: what a test checks is what a
// shopper would see. A probe module records the orders and payments events.

var ctx = context.Background()

// shopModules is the shop without search (orders does not need it).
var shopModules = []app.Module{
	{Name: inventory.Name, Local: inventory.Module},
	{Name: catalog.Name, Local: catalog.Module},
	{Name: cart.Name, Local: cart.Module},
	{Name: customers.Name, Local: customers.Module},
	{Name: payments.Name, Local: payments.Module},
	{Name: orders.Name, Local: orders.Module},
}

type probe struct {
	mu       sync.Mutex
	events   []string // names, in order of arrival
	placed   []api.OrderPlaced
	payments map[string][]paymentsapi.Status // payment id → statuses announced
}

func (p *probe) record(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, name)
}

func (p *probe) count(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.events {
		if e == name {
			n++
		}
	}
	return n
}

func (p *probe) paymentStatuses(id string) []paymentsapi.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]paymentsapi.Status(nil), p.payments[id]...)
}

func (p *probe) consumer(ob *events.Outbox) events.Consumer {
	pay := func(name string, e paymentsapi.PaymentEvent) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.events = append(p.events, name)
		p.payments[e.PaymentID] = append(p.payments[e.PaymentID], e.Status)
	}
	return ob.Consumer("probe",
		events.On(func(_ context.Context, _ *events.Tx, e api.OrderPlaced) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.events = append(p.events, e.EventName())
			p.placed = append(p.placed, e)
			return nil
		}),
		events.On(func(_ context.Context, _ *events.Tx, e api.OrderCancelled) error { p.record(e.EventName()); return nil }),
		events.On(func(_ context.Context, _ *events.Tx, e api.OrderShipped) error { p.record(e.EventName()); return nil }),
		events.On(func(_ context.Context, _ *events.Tx, e api.OrderDelivered) error { p.record(e.EventName()); return nil }),
		events.On(func(_ context.Context, _ *events.Tx, e api.OrderRefunded) error { p.record(e.EventName()); return nil }),
		events.On(func(_ context.Context, _ *events.Tx, e paymentsapi.PaymentAuthorized) error {
			pay(e.EventName(), e.PaymentEvent)
			return nil
		}),
		events.On(func(_ context.Context, _ *events.Tx, e paymentsapi.PaymentCaptured) error {
			pay(e.EventName(), e.PaymentEvent)
			return nil
		}),
		events.On(func(_ context.Context, _ *events.Tx, e paymentsapi.PaymentVoided) error {
			pay(e.EventName(), e.PaymentEvent)
			return nil
		}),
		events.On(func(_ context.Context, _ *events.Tx, e paymentsapi.PaymentRefunded) error {
			pay(e.EventName(), e.PaymentEvent)
			return nil
		}),
		events.On(func(_ context.Context, _ *events.Tx, e paymentsapi.PaymentFailed) error {
			pay(e.EventName(), e.PaymentEvent)
			return nil
		}),
	)
}

// env is a running shop and handles the tests use.
type env struct {
	shop     *testkit.Shop
	probe    *probe
	catalog  catalogapi.Admin
	stock    inventoryapi.Admin
	inv      inventoryapi.Inventory
	payments paymentsapi.Payments
	orders   api.Orders
}

// internalToken lets the contract suite call orders over HTTP.
const internalToken = "orders-test-internal-token"

type options struct {
	env     map[string]string
	tuning  *orders.Tuning
	noProbe bool        // benchmarks measure the shop alone
	extra   []fx.Option // e.g. a fake clock, fx.Populate
}

func start(t testing.TB, db testkit.DB) *env { return startWith(t, db, options{}) }

func startWith(t testing.TB, db testkit.DB, o options) *env {
	t.Helper()
	e := &env{probe: &probe{payments: map[string][]paymentsapi.Status{}}}
	probeModule := fx.Module("probe",
		modkit.Storage("probe"),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer { return e.probe.consumer(ob) }),
	)
	mods := append([]app.Module(nil), shopModules...)
	if !o.noProbe {
		mods = append(mods, app.Module{Name: "probe", Local: probeModule})
	}
	extra := []fx.Option{fx.Populate(&e.catalog, &e.stock, &e.inv, &e.payments, &e.orders)}
	if o.tuning != nil {
		extra = append(extra, fx.Supply(o.tuning))
	}
	extra = append(extra, o.extra...)
	vars := map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken}
	for k, v := range o.env {
		vars[k] = v
	}
	e.shop = testkit.Start(t, mods, testkit.Options{DB: &db, Env: vars, Extra: extra})
	return e
}

// product creates a published product with one variant per SKU, each with
// stock on hand.
func (e *env) product(t testing.TB, price, stock int64, skus ...string) {
	t.Helper()
	var vs []catalogapi.NewVariant
	for _, s := range skus {
		vs = append(vs, catalogapi.NewVariant{SKU: s, Title: "Variant " + s, Price: price})
	}
	slug := fmt.Sprintf("p-%s-%d", lower(skus[0]), time.Now().UnixNano())
	if _, err := e.catalog.CreateProduct(ctx, catalogapi.NewProduct{Slug: slug, Title: "Product " + skus[0],
		Status: catalogapi.StatusPublished, Variants: vs}); err != nil {
		t.Fatalf("create product: %v", err)
	}
	if stock > 0 {
		var rs []inventoryapi.Receipt
		for _, s := range skus {
			rs = append(rs, inventoryapi.Receipt{SKU: s, Quantity: stock})
		}
		if _, err := e.stock.Receive(ctx, rs, "test stock", "test"); err != nil {
			t.Fatalf("receive: %v", err)
		}
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// level is a SKU's stock level.
func (e *env) level(t testing.TB, sku string) inventoryapi.Level {
	t.Helper()
	lv, err := e.inv.Availability(ctx, []string{sku})
	if err != nil {
		t.Fatalf("availability: %v", err)
	}
	return lv[sku]
}

type item struct {
	sku string
	qty int64
}

// cart makes a cart (a guest's, or the token's customer's) holding items.
func (e *env) cart(t testing.TB, token string, items ...item) string {
	t.Helper()
	var c struct {
		ID string `json:"id"`
	}
	testkit.Expect(t, e.shop.Post("/v1/carts", token, nil), http.StatusCreated).JSON(t, &c)
	for _, it := range items {
		testkit.Expect(t, e.shop.Post("/v1/carts/"+c.ID+"/items", token, map[string]any{"sku": it.sku, "quantity": it.qty}), http.StatusCreated)
	}
	return c.ID
}

var address = map[string]any{"name": "Ann Lee", "line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "de"}

func checkoutBody(email string) map[string]any {
	b := map[string]any{"shipping_address": address}
	if email != "" {
		b["email"] = email
	}
	return b
}

// checkout checks a cart out and expects 201.
func (e *env) checkout(t testing.TB, cartID, token string) api.Checkout {
	t.Helper()
	var c api.Checkout
	testkit.Expect(t, e.shop.Post("/v1/carts/"+cartID+"/checkout", token, checkoutBody("ann@example.com")), http.StatusCreated).JSON(t, &c)
	return c
}

// order sends an order request.
func (e *env) order(checkoutID, method, key, token string) testkit.Response {
	h := map[string]string{}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return e.shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/orders", Token: token, Header: h,
		Body: map[string]any{"checkout_id": checkoutID, "payment_method": method}})
}

// place checks out a guest cart of items and places the order with a visa.
func (e *env) place(t testing.TB, items ...item) api.Order {
	t.Helper()
	c := e.checkout(t, e.cart(t, "", items...), "")
	var o api.Order
	testkit.Expect(t, e.order(c.ID, "pm_card_visa", "k-"+c.ID, ""), http.StatusCreated).JSON(t, &o)
	return o
}

// drain delivers pending events.
func (e *env) drain(t testing.TB) {
	t.Helper()
	if err := e.shop.Runtime.Bus().Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
