package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/testkit"
)

// The end-to-end suite drives the shop through its public API only, over
// real HTTP, the way a storefront and an admin would: catalog, stock,
// search, accounts, cart, checkout, orders and their life. It runs against
// every shape of the shop: the monolith on SQLite and on PostgreSQL, and
// the split (see e2e_split_test.go), and replicas behind a client that
// takes them in turn (see e2e_replicas_test.go). The suite never asks which
// shape it talks to.

// front is the shop as a client sees it: one base URL, or several that it
// takes in turn, request by request (replicas without a load balancer).
type front struct {
	t     testing.TB
	bases *rotation
	admin string
}

func newFront(t testing.TB, bases ...string) front {
	return front{t: t, bases: newRotation(bases...), admin: signToken(t, "admin-e2e", auth.RoleAdmin)}
}

// rotation hands out base URLs round robin and counts what each was given;
// bases come and go as replicas start and die.
type rotation struct {
	mu    sync.Mutex
	bases []string
	next  int
	sent  map[string]int
}

func newRotation(bases ...string) *rotation {
	return &rotation{bases: bases, sent: map[string]int{}}
}

func (r *rotation) pick() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bases[r.next%len(r.bases)]
	r.next++
	r.sent[b]++
	return b
}

func (r *rotation) add(base string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bases = append(r.bases, base)
}

func (r *rotation) remove(base string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bases = slices.DeleteFunc(r.bases, func(b string) bool { return b == base })
}

// count is how many requests went to base.
func (r *rotation) count(base string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[base]
}

// signToken is an access token signed with the key every test process
// shares (testkit.JWTSecret).
func signToken(t testing.TB, subject string, role auth.Role) string {
	tok, _, err := auth.NewKeys([]byte(testkit.JWTSecret)).Sign(auth.Principal{Subject: subject, Role: role}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var e2eClient = &http.Client{Timeout: 30 * time.Second}

func (f front) do(method, path, token string, body any, header ...string) testkit.Response {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.bases.pick()+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e2eClient.Do(req)
	if err != nil {
		return testkit.Response{Status: 0, Body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	f.checkContract(req, resp, b)
	return testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (f front) expect(r testkit.Response, status int) testkit.Response {
	f.t.Helper()
	return testkit.Expect(f.t, r, status)
}

func TestEndToEndMonolithSQLite(t *testing.T) {
	shop := testkit.Start(t, modules, testkit.Options{})
	endToEnd(t, newFront(t, shop.URL))
}

func TestEndToEndMonolithPostgres(t *testing.T) {
	db := testkit.Postgres(t)
	shop := testkit.Start(t, modules, testkit.Options{DB: &db})
	endToEnd(t, newFront(t, shop.URL))
}

func endToEnd(t *testing.T, f front) {
	run := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000_000)
	sku := "E2E-" + run
	word := "zephyrine" // a word no demo product has

	// Admin: a product with stock.
	var product struct {
		ID       string `json:"id"`
		Variants []struct {
			SKU string `json:"sku"`
		} `json:"variants"`
	}
	f.expect(f.do(http.MethodPost, "/v1/admin/products", f.admin, map[string]any{
		"slug": "e2e-" + run, "title": "Zephyrine Trail Jacket", "description": "A light jacket for " + word + " mornings.",
		"status": "published", "variants": []map[string]any{{"sku": sku, "title": "M", "price": 6000}},
	}), http.StatusCreated).JSON(t, &product)
	// The inventory learns the SKU from catalog.variant_created (an event:
	// in process or over NATS), then takes the delivery.
	testkit.Eventually(t, 10*time.Second, func() bool {
		return f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).Status == http.StatusOK
	}, "the inventory knows %s", sku)
	f.expect(f.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", f.admin, map[string]any{"delta": 5, "reason": "delivery"}), http.StatusCreated)

	// Shopper: browse, find.
	var shown struct {
		Variants []struct {
			SKU     string `json:"sku"`
			InStock bool   `json:"in_stock"`
		} `json:"variants"`
	}
	f.expect(f.do(http.MethodGet, "/v1/products/"+product.ID, "", nil), http.StatusOK).JSON(t, &shown)
	if len(shown.Variants) != 1 || !shown.Variants[0].InStock {
		t.Fatalf("product as shown: %+v", shown)
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		var res struct {
			Items []struct {
				ProductID string `json:"product_id"`
				InStock   bool   `json:"in_stock"`
			} `json:"items"`
		}
		r := f.do(http.MethodGet, "/v1/search?q="+url.QueryEscape("zephyrin jacket"), "", nil)
		if r.Status != http.StatusOK {
			return false
		}
		r.JSON(t, &res)
		return len(res.Items) > 0 && res.Items[0].ProductID == product.ID && res.Items[0].InStock
	}, "search finds the new product")

	// A customer buys 2.
	var session struct {
		AccessToken string `json:"access_token"`
		Customer    struct {
			ID string `json:"id"`
		} `json:"customer"`
	}
	f.expect(f.do(http.MethodPost, "/v1/auth/register", "", map[string]string{"email": "e2e-" + run + "@example.com", "password": "a long enough password", "name": "E2E"}),
		http.StatusCreated).JSON(t, &session)
	tok := session.AccessToken
	var cart struct {
		ID string `json:"id"`
	}
	f.expect(f.do(http.MethodGet, "/v1/me/cart", tok, nil), http.StatusOK).JSON(t, &cart)
	f.expect(f.do(http.MethodPost, "/v1/carts/"+cart.ID+"/items", tok, map[string]any{"sku": sku, "quantity": 2}), http.StatusCreated)
	addr := map[string]any{"name": "E2E", "line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}
	var checkout struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Total struct {
			Amount int64 `json:"amount"`
		} `json:"total"`
	}
	f.expect(f.do(http.MethodPost, "/v1/carts/"+cart.ID+"/checkout", tok, map[string]any{"shipping_address": addr}), http.StatusCreated).JSON(t, &checkout)
	if checkout.Email != "e2e-"+run+"@example.com" || checkout.Total.Amount != 12000 {
		t.Fatalf("checkout %+v", checkout)
	}
	body := map[string]any{"checkout_id": checkout.ID, "payment_method": "pm_card_visa"}
	var order, replay struct {
		ID      string `json:"id"`
		Number  string `json:"number"`
		Status  string `json:"status"`
		Payment struct {
			Status string `json:"status"`
		} `json:"payment"`
	}
	f.expect(f.do(http.MethodPost, "/v1/orders", tok, body, "Idempotency-Key", "e2e-"+run), http.StatusCreated).JSON(t, &order)
	f.expect(f.do(http.MethodPost, "/v1/orders", tok, body, "Idempotency-Key", "e2e-"+run), http.StatusCreated).JSON(t, &replay)
	if order.Status != "placed" || order.Payment.Status != "authorized" || replay.ID != order.ID {
		t.Fatalf("order %+v, replay %+v", order, replay)
	}
	stock := func() (onHand, reserved int64) {
		var l struct {
			OnHand   int64 `json:"on_hand"`
			Reserved int64 `json:"reserved"`
		}
		f.expect(f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil), http.StatusOK).JSON(t, &l)
		return l.OnHand, l.Reserved
	}
	if on, res := stock(); on != 3 || res != 0 {
		t.Fatalf("stock after the order: on_hand %d reserved %d, want 3 and 0", on, res)
	}
	var mine struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	f.expect(f.do(http.MethodGet, "/v1/orders", tok, nil), http.StatusOK).JSON(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != order.ID {
		t.Fatalf("my orders %+v", mine)
	}
	f.expect(f.do(http.MethodPost, "/v1/admin/orders/"+order.ID+"/ship", f.admin, map[string]any{"tracking_number": "TRK-" + run}), http.StatusOK).JSON(t, &order)
	if order.Status != "shipped" || order.Payment.Status != "captured" {
		t.Fatalf("shipped %+v", order)
	}

	// A guest is declined, then pays, then cancels: the stock comes back.
	var guest struct {
		ID string `json:"id"`
	}
	f.expect(f.do(http.MethodPost, "/v1/carts", "", nil), http.StatusCreated).JSON(t, &guest)
	f.expect(f.do(http.MethodPost, "/v1/carts/"+guest.ID+"/items", "", map[string]any{"sku": sku, "quantity": 3}), http.StatusCreated)
	r := f.do(http.MethodPost, "/v1/carts/"+guest.ID+"/items", "", map[string]any{"sku": sku, "quantity": 1})
	testkit.ExpectProblem(t, r, http.StatusConflict, "out_of_stock")
	f.expect(f.do(http.MethodPost, "/v1/carts/"+guest.ID+"/checkout", "", map[string]any{"email": "guest@example.com", "shipping_address": addr}),
		http.StatusCreated).JSON(t, &checkout)
	testkit.ExpectProblem(t, f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": checkout.ID, "payment_method": "pm_card_chargeDeclined"},
		"Idempotency-Key", "g1-"+run), http.StatusPaymentRequired, "payment_declined")
	var g struct {
		ID         string `json:"id"`
		GuestToken string `json:"guest_token"`
		Status     string `json:"status"`
	}
	f.expect(f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": checkout.ID, "payment_method": "pm_card_mastercard"},
		"Idempotency-Key", "g2-"+run), http.StatusCreated).JSON(t, &g)
	if on, res := stock(); on != 0 || res != 0 {
		t.Fatalf("stock after the guest order: on_hand %d reserved %d, want 0 and 0", on, res)
	}
	f.expect(f.do(http.MethodPost, "/v1/orders/"+g.ID+"/cancel?token="+g.GuestToken, "", nil), http.StatusOK).JSON(t, &g)
	if g.Status != "cancelled" {
		t.Fatalf("guest order after cancel: %+v", g)
	}
	if on, res := stock(); on != 3 || res != 0 {
		t.Fatalf("stock after the cancel: on_hand %d reserved %d, want 3 and 0", on, res)
	}

	// The same purchase through the client generated from the document.
	clientPurchase(t, f, word, product.ID, sku, run)
	if on, res := stock(); on != 3 || res != 0 {
		t.Fatalf("stock after the client's purchase and cancel: on_hand %d reserved %d, want 3 and 0", on, res)
	}

	// The cart closed on order_placed; another customer cannot see the order.
	testkit.Eventually(t, 10*time.Second, func() bool {
		var c struct {
			ID string `json:"id"`
		}
		f.do(http.MethodGet, "/v1/me/cart", tok, nil).JSON(t, &c)
		return c.ID != "" && c.ID != cart.ID
	}, "a fresh cart once the order was placed")
	other := signToken(t, "someone-else", auth.RoleCustomer)
	testkit.ExpectProblem(t, f.do(http.MethodGet, "/v1/orders/"+order.ID, other, nil), http.StatusNotFound, "not_found")

	// Ready, and the API document lists the routes of every module.
	f.expect(f.do(http.MethodGet, "/readyz", "", nil), http.StatusOK)
	doc := f.expect(f.do(http.MethodGet, "/openapi.json", "", nil), http.StatusOK)
	var api struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	doc.JSON(t, &api)
	for _, p := range []string{"/v1/products", "/v1/search", "/v1/admin/inventory", "/v1/orders", "/v1/carts/{id}/checkout", "/v1/admin/payments"} {
		if _, ok := api.Paths[p]; !ok {
			t.Errorf("openapi.json lacks %s (has %d paths)", p, len(api.Paths))
		}
	}
	if strings.Contains(string(doc.Body), "/internal/") {
		t.Error("openapi.json shows internal routes")
	}
}
