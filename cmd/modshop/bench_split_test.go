package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/inventory"
	inventoryapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// BenchmarkCheckoutAndOrderMonolithVsSplit measures what extraction costs a
// buyer: checkout + order (two requests, one buyer at a time, so the
// numbers are latency, not queueing) against the monolith and against the
// split (inventory and search in processes of their own, events over NATS),
// in one run, on the same kind of database. Every call from orders and cart
// to the inventory crosses HTTP in the split. Needs MODSHOP_TEST_NATS_URL.
//
//	MODSHOP_TEST_NATS_URL=nats://127.0.0.1:4222 go test -run '^$' \
//	  -bench CheckoutAndOrderMonolithVsSplit -benchtime 300x ./cmd/modshop/
func BenchmarkCheckoutAndOrderMonolithVsSplit(b *testing.B) {
	natsURL := natsForTests(b)
	b.Run("monolith", func(b *testing.B) {
		// The same binary in one process, on the same kind of database.
		db, port := splitDB(b), freePort(b)
		serveQuiet(b, "127.0.0.1:"+port, "MODSHOP_MODULES=all", "MODSHOP_HTTP_ADDR=127.0.0.1:"+port, "MODSHOP_DATABASE_URL="+db.URL,
			"MODSHOP_DATA_DIR="+b.TempDir(), "MODSHOP_JWT_SECRET="+testkit.JWTSecret)
		base := "http://127.0.0.1:" + port
		waitReadyURL(b, base, 30*time.Second)
		purchases(b, base)
	})
	b.Run("split", func(b *testing.B) {
		s := startSplitWith(b, natsURL, true)
		purchases(b, s.url("rest"))
	})
}

// BenchmarkRemoteCall is the cost of one api call across the wire: the
// inventory's Availability of one SKU, in process and through the HTTP
// client against a real server on loopback.
func BenchmarkRemoteCall(b *testing.B) {
	var inv inventoryapi.Inventory
	shop := testkit.Start(b, modules, testkit.Options{Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": splitToken}, Extra: []fx.Option{fx.Populate(&inv)}})
	client := inventory.NewClient(remote.NewClient(inventory.Name, shop.URL, splitToken))
	ctx := context.Background()
	for _, c := range []struct {
		name string
		inv  inventoryapi.Inventory
	}{{"in-process", inv}, {"http", client}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.inv.Availability(ctx, []string{"NOPE-1"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// purchases runs b.N purchases one after another against base and reports
// the p50 and p99 of checkout + order.
func purchases(b *testing.B, base string) {
	f := newFront(b, base)
	sku := fmt.Sprintf("BENCH-%d", time.Now().UnixNano())
	testkit.Expect(b, f.do(http.MethodPost, "/v1/admin/products", f.admin, map[string]any{"slug": "b-" + sku[6:], "title": "Bench " + sku,
		"status": "published", "variants": []map[string]any{{"sku": sku, "title": "One", "price": 1500}}}), http.StatusCreated)
	testkit.Eventually(b, 15*time.Second, func() bool {
		return f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).Status == http.StatusOK
	}, "the inventory knows %s", sku)
	testkit.Expect(b, f.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", f.admin, map[string]any{"delta": 1_000_000, "reason": "bench"}), http.StatusCreated)
	carts := make([]string, b.N)
	for i := range carts {
		carts[i] = newCart(b, f)
		testkit.Expect(b, f.do(http.MethodPost, "/v1/carts/"+carts[i]+"/items", "", map[string]any{"sku": sku, "quantity": 1}), http.StatusCreated)
	}
	lat := make([]time.Duration, 0, b.N)
	var checkouts, orders []time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		var c struct {
			ID string `json:"id"`
		}
		testkit.Expect(b, f.do(http.MethodPost, "/v1/carts/"+carts[i]+"/checkout", "", map[string]any{"email": "b@example.com", "shipping_address": e2eAddress}),
			http.StatusCreated).JSON(b, &c)
		mid := time.Now()
		testkit.Expect(b, f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"},
			"Idempotency-Key", fmt.Sprintf("%s-%d", sku, i)), http.StatusCreated)
		lat = append(lat, time.Since(start))
		checkouts, orders = append(checkouts, mid.Sub(start)), append(orders, time.Since(mid))
	}
	b.StopTimer()
	b.ReportMetric(quantileMS(lat, 50), "p50-ms")
	b.ReportMetric(quantileMS(lat, 99), "p99-ms")
	b.ReportMetric(quantileMS(checkouts, 50), "checkout-p50-ms")
	b.ReportMetric(quantileMS(orders, 50), "order-p50-ms")
}

func quantileMS(d []time.Duration, q int) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, len(s)*q/100)].Microseconds()) / 1000
}
