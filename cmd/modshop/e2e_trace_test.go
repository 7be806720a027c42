package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/modshop/modshop/platform/testkit"
)

// collector is an OTLP/HTTP trace receiver in the test: the processes of a
// fleet export their spans to it as they would to a real collector.
type collector struct {
	*httptest.Server
	mu    sync.Mutex
	spans []span
}

// span is what the test reads of one exported span.
type span struct {
	Service, Name, TraceID string
	Kind                   tracepb.Span_SpanKind
}

func newCollector(t testing.TB) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if r.URL.Path != "/v1/traces" || err != nil {
			http.Error(w, fmt.Sprintf("%s: %v", r.URL.Path, err), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, rs := range req.GetResourceSpans() {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					c.spans = append(c.spans, span{Service: service, Name: s.GetName(), TraceID: fmt.Sprintf("%x", s.GetTraceId()), Kind: s.GetKind()})
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(nil)
	}))
	t.Cleanup(c.Close)
	return c
}

// trace is every span collected so far of one trace.
func (c *collector) trace(id string) []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []span
	for _, s := range c.spans {
		if s.TraceID == id {
			out = append(out, s)
		}
	}
	return out
}

// One guest purchase (checkout, then order) in a shop split into three
// processes — inventory, payments, and the rest — yields one trace: the
// requests, orders' in-process call to the cart, the orders → inventory and
// orders → payments calls with the callee's side in its own process, the
// transactions, and the consumers that the placed order set off, over NATS
// JetStream.
func TestOneTraceFollowsAPurchaseAcrossProcesses(t *testing.T) {
	nats := natsForTests(t)
	col := newCollector(t)
	f := newFleet(t, nats, true)
	otel := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + col.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"}
	db := func() string { return splitDB(t).URL }
	f.serve("inventory", append(otel, "MODSHOP_MODULES=inventory", "MODSHOP_DATABASE_URL="+db(), "MODSHOP_REMOTE_CATALOG="+f.url("rest"))...)
	f.serve("payments", append(otel, "MODSHOP_MODULES=payments", "MODSHOP_DATABASE_URL="+db())...)
	f.serve("rest", append(otel, "MODSHOP_MODULES=catalog,cart,customers,orders,search", "MODSHOP_DATABASE_URL="+db(),
		"MODSHOP_REMOTE_INVENTORY="+f.url("inventory"), "MODSHOP_REMOTE_PAYMENTS="+f.url("payments"))...)
	for _, name := range []string{"inventory", "payments", "rest"} {
		f.waitReady(name, 30*time.Second)
	}
	front := newFront(t, f.url("rest"))
	sku := prepareStock(t, front, 5)

	cartID := newCart(t, front)
	front.expect(front.do(http.MethodPost, "/v1/carts/"+cartID+"/items", "", map[string]any{"sku": sku, "quantity": 1}), http.StatusCreated)
	var c struct {
		ID string `json:"id"`
	}
	// The client makes the purchase one trace: the checkout, then the order.
	traceID := fmt.Sprintf("%032x", time.Now().UnixNano())
	front.expect(front.do(http.MethodPost, "/v1/carts/"+cartID+"/checkout", "", map[string]any{"email": "t@example.com", "shipping_address": e2eAddress},
		"Traceparent", "00-"+traceID+"-00f067aa0ba902b6-01"), http.StatusCreated).JSON(t, &c)
	front.expect(front.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"},
		"Idempotency-Key", "trace-"+traceID[16:], "Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01"), http.StatusCreated)

	// What the trace must hold, as "service: span name prefix" (kinds below).
	want := map[string]func(s span) bool{
		"the request, in the process that got it": func(s span) bool {
			return s.Service == "modshop-catalog-cart-customers-orders-search" && s.Kind == tracepb.Span_SPAN_KIND_SERVER && s.Name == "POST /v1/orders"
		},
		"orders' call to the cart, in process": func(s span) bool {
			return s.Service == "modshop-catalog-cart-customers-orders-search" && s.Kind == tracepb.Span_SPAN_KIND_INTERNAL && s.Name == "cart.cart_for"
		},
		"orders' call to the inventory": func(s span) bool {
			return s.Kind == tracepb.Span_SPAN_KIND_CLIENT && strings.HasPrefix(s.Name, "inventory.")
		},
		"the inventory's side of it, in its process": func(s span) bool {
			return s.Service == "modshop-inventory" && s.Kind == tracepb.Span_SPAN_KIND_SERVER
		},
		"orders' call to payments": func(s span) bool {
			return s.Kind == tracepb.Span_SPAN_KIND_CLIENT && strings.HasPrefix(s.Name, "payments.")
		},
		"payments' side of it, in its process": func(s span) bool {
			return s.Service == "modshop-payments" && s.Kind == tracepb.Span_SPAN_KIND_SERVER
		},
		"a transaction of the orders' database":     func(s span) bool { return s.Name == "transaction orders" },
		"a transaction of the inventory's database": func(s span) bool { return s.Name == "transaction inventory" },
		"a consumer of the placed order": func(s span) bool {
			return s.Kind == tracepb.Span_SPAN_KIND_CONSUMER && strings.HasPrefix(s.Name, "consume orders.")
		},
	}
	var missing []string
	testkit.Eventually(t, 20*time.Second, func() bool {
		got := col.trace(traceID)
		missing = missing[:0]
		for what, match := range want {
			if !slices.ContainsFunc(got, match) {
				missing = append(missing, what)
			}
		}
		return len(missing) == 0
	}, "one trace holds the whole purchase; missing: %v; collected: %v", &missing, col)
	for _, s := range col.trace(traceID) {
		t.Logf("%-45s %-14s %s", s.Service, strings.TrimPrefix(s.Kind.String(), "SPAN_KIND_"), s.Name)
	}
}

func (c *collector) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := map[string]int{}
	for _, s := range c.spans {
		n[s.Service+" "+s.TraceID]++
	}
	return fmt.Sprint(n)
}

// count is how many spans were collected.
func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.spans)
}
