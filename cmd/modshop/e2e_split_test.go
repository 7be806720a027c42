package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// The split: the real binary in three processes — inventory, search, and
// the rest — each with a database of its own, calls over HTTP with the
// internal token, events over NATS JetStream (MODSHOP_TEST_NATS_URL). The
// same end-to-end suite as the monolith runs against the third process's
// URL, which forwards the public routes of the other two.

// split is a running split shop.
type split struct {
	*fleet
	dbs map[string]testkit.DB
}

var splitShapes = map[string]string{
	"inventory": "inventory",
	"search":    "search",
	"rest":      "catalog,cart,customers,payments,orders",
}

func startSplit(t testing.TB, natsURL string) *split { return startSplitWith(t, natsURL, false) }

func startSplitWith(t testing.TB, natsURL string, quiet bool) *split {
	t.Helper()
	s := &split{fleet: newFleet(t, natsURL, quiet), dbs: map[string]testkit.DB{}}
	for name := range splitShapes {
		s.dbs[name] = splitDB(t)
	}
	for _, name := range []string{"inventory", "search", "rest"} {
		s.start(name)
	}
	for name := range splitShapes {
		s.waitReady(name, 30*time.Second)
	}
	return s
}

// start runs one process of the split (again, after a stop: same port,
// same database).
func (s *split) start(name string) {
	s.t.Helper()
	env := []string{"MODSHOP_MODULES=" + splitShapes[name], "MODSHOP_DATABASE_URL=" + s.dbs[name].URL}
	switch name {
	case "inventory":
		env = append(env, "MODSHOP_REMOTE_CATALOG="+s.url("rest"))
	case "search":
		env = append(env, "MODSHOP_REMOTE_CATALOG="+s.url("rest"), "MODSHOP_REMOTE_INVENTORY="+s.url("inventory"))
	case "rest":
		env = append(env, "MODSHOP_REMOTE_INVENTORY="+s.url("inventory"), "MODSHOP_REMOTE_SEARCH="+s.url("search"))
	}
	s.serve(name, env...)
}

// splitDB is a database of its own for one process: PostgreSQL when the
// suite has it, SQLite otherwise.
func splitDB(t testing.TB) testkit.DB {
	if os.Getenv("MODSHOP_TEST_POSTGRES_URL") != "" {
		return testkit.Postgres(t)
	}
	return testkit.SQLite(t)
}

func TestEndToEndSplit(t *testing.T) {
	s := startSplit(t, natsForTests(t))
	endToEnd(t, newFront(t, s.url("rest")))
	// Any process answers the whole API: the inventory's forwards the
	// catalog's routes to "rest".
	testkit.Expect(t, newFront(t, s.url("inventory")).do(http.MethodGet, "/v1/products", "", nil), http.StatusOK)
	// Each process migrated only the tables of the modules it runs.
	for name, mods := range splitShapes {
		db, err := database.Open(s.dbs[name].URL)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := db.Gorm.Migrator().GetTables()
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range tables {
			mod, _, _ := strings.Cut(tbl, "_")
			if !slices.Contains(strings.Split(mods, ","), mod) {
				t.Errorf("the %s process's database has table %s", name, tbl)
			}
		}
		if len(tables) == 0 {
			t.Errorf("the %s process's database has no tables", name)
		}
	}
}

// The inventory process dies in the middle of a run of purchases and comes
// back: requests that need it answer 503 quickly, others keep working,
// /readyz names it, and once it is back every order that was answered 201
// holds its stock, no unit is sold twice and nothing is lost.
func TestSplitSurvivesTheInventoryGoingDown(t *testing.T) {
	s := startSplit(t, natsForTests(t))
	f := newFront(t, s.url("rest"))
	sku := prepareStock(t, f, 40)
	var placed atomic.Int64
	// A storefront retries what answered 503, with the same Idempotency-Key.
	retry := func(send func() testkit.Response) testkit.Response {
		deadline := time.Now().Add(45 * time.Second)
		for {
			r := send()
			if (r.Status != http.StatusServiceUnavailable && r.Code() != "request_in_progress") || time.Now().After(deadline) {
				return r
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	checkout := func() string {
		cartID := newCart(t, f)
		retry(func() testkit.Response {
			return f.do(http.MethodPost, "/v1/carts/"+cartID+"/items", "", map[string]any{"sku": sku, "quantity": 1})
		})
		var c struct {
			ID string `json:"id"`
		}
		retry(func() testkit.Response {
			return f.do(http.MethodPost, "/v1/carts/"+cartID+"/checkout", "", map[string]any{"email": "f@example.com", "shipping_address": e2eAddress})
		}).JSON(t, &c)
		return c.ID
	}
	order := func(checkoutID, key string) int {
		r := retry(func() testkit.Response {
			return f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": checkoutID, "payment_method": "pm_card_visa"}, "Idempotency-Key", key)
		})
		if r.Status == http.StatusCreated {
			placed.Add(1)
		}
		return r.Status
	}
	for i := range 5 {
		if st := order(checkout(), fmt.Sprintf("before-%d", i)); st != http.StatusCreated {
			t.Fatalf("purchase before the fault: %d", st)
		}
	}
	var open []string // checked out before the fault, ordered during it
	for range 3 {
		open = append(open, checkout())
	}

	s.kill("inventory")
	// Needs the inventory: 503, quickly.
	begin := time.Now()
	r := f.do(http.MethodPost, "/v1/carts/"+newCart(t, f)+"/items", "", map[string]any{"sku": sku, "quantity": 1})
	testkit.ExpectProblem(t, r, http.StatusServiceUnavailable, "unavailable")
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("a request that needs the inventory took %s while it was down", d)
	}
	// A route of the inventory itself, forwarded by "rest": 503 too.
	testkit.ExpectProblem(t, f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil), http.StatusServiceUnavailable, "unavailable")
	// The saga's stock step fails: 503, the placement waits, nothing is lost.
	r = f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": open[0], "payment_method": "pm_card_visa"}, "Idempotency-Key", "during-0")
	testkit.ExpectProblem(t, r, http.StatusServiceUnavailable, "unavailable")
	// Does not need it: still works (the catalog shows no stock meanwhile).
	testkit.Expect(t, f.do(http.MethodGet, "/v1/products?limit=5", "", nil), http.StatusOK)
	testkit.Expect(t, f.do(http.MethodPost, "/v1/auth/register", "", map[string]string{"email": "during@example.com", "password": "a long enough password", "name": "D"}), http.StatusCreated)
	ready := f.do(http.MethodGet, "/readyz", "", nil)
	if ready.Status != http.StatusServiceUnavailable || !strings.Contains(string(ready.Body), "remote:inventory") {
		t.Fatalf("/readyz while the inventory is down: %d %s", ready.Status, ready.Body)
	}
	// Shoppers keep retrying; the inventory comes back.
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i, id := range open {
		wg.Go(func() {
			if st := order(id, fmt.Sprintf("during-%d", i)); st != http.StatusCreated {
				failed.Add(1)
			}
		})
	}
	for i := range 3 {
		wg.Go(func() {
			if st := order(checkout(), fmt.Sprintf("new-%d", i)); st != http.StatusCreated {
				failed.Add(1)
			}
		})
	}
	time.Sleep(time.Second)
	s.start("inventory")
	s.waitReady("inventory", 30*time.Second)
	wg.Wait()
	s.waitReady("rest", 10*time.Second)
	if failed.Load() != 0 || placed.Load() != 11 {
		t.Fatalf("%d purchases failed across the outage, %d placed; want 0 and 11", failed.Load(), placed.Load())
	}
	checkSold(t, f, sku, 40, placed.Load())
}

// NATS goes away (a private server, stopped and started again): events wait
// in the outboxes and flow when it is back; none is lost.
func TestSplitSurvivesNATSGoingDown(t *testing.T) {
	natsForTests(t)
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server binary in PATH for a private NATS")
	}
	port, dir := freePort(t), t.TempDir()
	startNATS := func() *exec.Cmd {
		cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", port, "-js", "-sd", dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		deadline := time.Now().Add(10 * time.Second)
		for {
			if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
				c.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatal("private nats-server did not listen")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	nats := startNATS()
	s := startSplit(t, "nats://127.0.0.1:"+port)
	f := newFront(t, s.url("rest"))
	sku := prepareStock(t, f, 20)

	_ = nats.Process.Kill()
	_ = nats.Wait()
	// With NATS down, orders still go through (calls are HTTP), and their
	// events (stock changes for search, order_placed for the cart) wait.
	var orders []string
	for i := range 3 {
		orders = append(orders, buyOne(t, f, sku, fmt.Sprintf("nats-down-%d", i)))
	}
	word := fmt.Sprintf("natsoutage%d", time.Now().UnixNano()%1_000_000)
	var p struct {
		ID string `json:"id"`
	}
	testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/products", f.admin, map[string]any{"slug": word, "title": "Outage " + word,
		"status": "published", "variants": []map[string]any{{"sku": strings.ToUpper(word), "title": "One", "price": 100}}}), http.StatusCreated).JSON(t, &p)
	ready := f.do(http.MethodGet, "/readyz", "", nil)
	if ready.Status != http.StatusServiceUnavailable || !strings.Contains(string(ready.Body), "event_bus") {
		t.Fatalf("/readyz while NATS is down: %d %s", ready.Status, ready.Body)
	}

	startNATS()
	// The product published during the outage reaches search; the stock
	// sold reaches search's read model too.
	testkit.Eventually(t, 30*time.Second, func() bool {
		r := f.do(http.MethodGet, "/v1/search?q="+word, "", nil)
		return r.Status == http.StatusOK && strings.Contains(string(r.Body), p.ID)
	}, "the product published while NATS was down is found once it is back")
	checkSold(t, f, sku, 20, int64(len(orders)))
	for _, name := range []string{"inventory", "search", "rest"} {
		s.waitReady(name, 30*time.Second)
	}
}

var e2eAddress = map[string]any{"name": "E2E", "line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}

// prepareStock creates a product with n units and waits until the
// inventory holds them.
func prepareStock(t testing.TB, f front, n int) string {
	t.Helper()
	sku := fmt.Sprintf("FAULT-%d", time.Now().UnixNano())
	testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/products", f.admin, map[string]any{"slug": strings.ToLower(sku), "title": "Fault " + sku,
		"status": "published", "variants": []map[string]any{{"sku": sku, "title": "One", "price": 1500}}}), http.StatusCreated)
	testkit.Eventually(t, 15*time.Second, func() bool {
		return f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).Status == http.StatusOK
	}, "the inventory knows %s", sku)
	testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", f.admin, map[string]any{"delta": n, "reason": "delivery"}), http.StatusCreated)
	return sku
}

func newCart(t testing.TB, f front) string {
	t.Helper()
	var c struct {
		ID string `json:"id"`
	}
	testkit.Expect(t, f.do(http.MethodPost, "/v1/carts", "", nil), http.StatusCreated).JSON(t, &c)
	return c.ID
}

func buyOne(t *testing.T, f front, sku, key string) string {
	t.Helper()
	cartID := newCart(t, f)
	testkit.Expect(t, f.do(http.MethodPost, "/v1/carts/"+cartID+"/items", "", map[string]any{"sku": sku, "quantity": 1}), http.StatusCreated)
	var c, o struct {
		ID string `json:"id"`
	}
	testkit.Expect(t, f.do(http.MethodPost, "/v1/carts/"+cartID+"/checkout", "", map[string]any{"email": "b@example.com", "shipping_address": e2eAddress}), http.StatusCreated).JSON(t, &c)
	testkit.Expect(t, f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"}, "Idempotency-Key", key), http.StatusCreated).JSON(t, &o)
	return o.ID
}

// checkSold: the admin sees as many placed orders of the SKU as shoppers
// were answered 201, and the inventory sold exactly that many units, with
// nothing left reserved.
func checkSold(t *testing.T, f front, sku string, stocked int, placed int64) {
	t.Helper()
	var level struct {
		OnHand   int64 `json:"on_hand"`
		Reserved int64 `json:"reserved"`
	}
	testkit.Eventually(t, 30*time.Second, func() bool {
		f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).JSON(t, &level)
		return level.Reserved == 0
	}, "no stock left reserved")
	var list struct {
		Items []struct {
			Lines []struct {
				SKU      string `json:"sku"`
				Quantity int64  `json:"quantity"`
			} `json:"lines"`
		} `json:"items"`
	}
	testkit.Expect(t, f.do(http.MethodGet, "/v1/admin/orders?status=placed&limit=100", f.admin, nil), http.StatusOK).JSON(t, &list)
	var sold int64
	for _, o := range list.Items {
		for _, l := range o.Lines {
			if l.SKU == sku {
				sold += l.Quantity
			}
		}
	}
	if sold != placed || int64(stocked)-level.OnHand != placed {
		t.Fatalf("%d orders answered 201, %d units in placed orders, %d units gone from on_hand (%d of %d left)",
			placed, sold, int64(stocked)-level.OnHand, level.OnHand, stocked)
	}
}
