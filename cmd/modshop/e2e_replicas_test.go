package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/testkit"
)

// Replicas: a module in several processes on one PostgreSQL database and
// one NATS JetStream stream, the way a deployment scales out. They share
// the database rows, the stream and the durables (replicas of a consumer
// share its messages); each has its own search index and read caches. A
// client takes the processes in turn, request by request, so every step
// of a scenario may land on another replica than the one before.
//
//   - TestReplicasOfTheMonolith: two replicas of the whole monolith.
//   - TestReplicasOfSearch: search extracted into two replicas, the other
//     modules in one process that reaches search through a round-robin
//     load balancer; the client takes both search replicas (which forward
//     the other modules' routes) and that process in turn.
//
// Both run the end-to-end suite through the turning client, then check
// what replicas must keep true: writes show in search and on product pages
// of every replica within the contract's 2 s; stock agrees everywhere; a
// race for the last units sells each once; a replica started later with an
// empty data folder catches up before it says it is ready; and a replica
// killed mid-run loses nothing.

// freshness is how soon the contract says a change shows everywhere.
const freshness = 2 * time.Second

// afterCrash bounds how long the processes left may take to deliver what a
// killed replica held. Outbox rows its relay had claimed stay leased for 15
// seconds (the relay's lease), and the rows behind them wait with them; a
// NATS message it had not acked comes back after AckWait (30 s), and the
// durable it belongs to (one message in flight at a time) waits as long.
const afterCrash = 90 * time.Second

// replicaServices skips the test without PostgreSQL and NATS. The two
// shapes do not run side by side: each process keeps up to 32 PostgreSQL
// connections, and after the race for the last units the two shapes
// together held more than the server's 100.
func replicaServices(t *testing.T) string {
	if os.Getenv("MODSHOP_TEST_POSTGRES_URL") == "" || os.Getenv("MODSHOP_TEST_NATS_URL") == "" {
		t.Skip("replica suite skipped: set MODSHOP_TEST_POSTGRES_URL and MODSHOP_TEST_NATS_URL (PostgreSQL and NATS JetStream) to run it")
	}
	return os.Getenv("MODSHOP_TEST_NATS_URL")
}

func TestReplicasOfTheMonolith(t *testing.T) {
	natsURL := replicaServices(t)
	db := testkit.Postgres(t)
	s := &replicaShop{fleet: newFleet(t, natsURL, false), shopDB: db}
	s.startReplica = func(name string) *served {
		return s.serve(name, "MODSHOP_MODULES="+strings.Join(app.Names(modules), ","), "MODSHOP_DATABASE_URL="+db.URL)
	}
	for _, name := range []string{"replica-1", "replica-2"} {
		s.startReplica(name)
		s.replicas = append(s.replicas, name)
	}
	for _, name := range s.replicas {
		s.waitReady(name, 60*time.Second)
	}
	s.front = newFront(t, s.url("replica-1"), s.url("replica-2"))
	s.check(t, "replica-3")
}

func TestReplicasOfSearch(t *testing.T) {
	natsURL := replicaServices(t)
	shopDB, searchDB := testkit.Postgres(t), testkit.Postgres(t)
	s := &replicaShop{fleet: newFleet(t, natsURL, false), shopDB: shopDB, balancer: newBalancer(t)}
	s.startReplica = func(name string) *served {
		env := []string{"MODSHOP_MODULES=search", "MODSHOP_DATABASE_URL=" + searchDB.URL}
		for _, m := range modules {
			if m.Name != "search" && m.Remote != nil { // web offers no api to call
				env = append(env, "MODSHOP_REMOTE_"+strings.ToUpper(m.Name)+"="+s.url("rest"))
			}
		}
		p := s.serve(name, env...)
		s.balancer.add(s.url(name))
		return p
	}
	for _, name := range []string{"search-1", "search-2"} {
		s.startReplica(name)
		s.replicas = append(s.replicas, name)
	}
	s.serve("rest", "MODSHOP_MODULES=catalog,cart,customers,payments,orders,inventory", "MODSHOP_DATABASE_URL="+shopDB.URL,
		"MODSHOP_REMOTE_SEARCH="+s.balancer.url)
	for _, name := range append([]string{"rest"}, s.replicas...) {
		s.waitReady(name, 60*time.Second)
	}
	s.front = newFront(t, s.url("search-1"), s.url("search-2"), s.url("rest"))
	s.check(t, "search-3")
}

// replicaShop is a shop with a replicated module, and how to start one
// more replica of it.
type replicaShop struct {
	*fleet
	shopDB       testkit.DB // where catalog and inventory keep their tables
	replicas     []string   // the replicas running now
	front        front      // every process a client may reach, in turn
	balancer     *balancer  // in front of the replicas, for the other processes (nil: none needed)
	startReplica func(name string) *served
}

// check runs the end-to-end suite and the replica checks; late names the
// replica started last.
func (s *replicaShop) check(t *testing.T, late string) {
	begin := time.Now()
	step := func(name string, fn func(t *testing.T, f front)) {
		start := time.Now()
		t.Run(name, func(t *testing.T) {
			fn(t, s.front.with(t))
			for _, end := range s.ended() {
				t.Error(end)
			}
		})
		t.Logf("%s: %s", name, time.Since(start).Round(time.Millisecond))
	}
	step("EndToEnd", func(t *testing.T, f front) { endToEnd(t, f) })
	step("SearchFollowsWritesOnEveryReplica", s.searchFollowsWrites)
	step("ProductPagesFollowWritesOnEveryReplica", s.pagesFollowWrites)
	step("StockAgreesOnEveryReplica", s.stockAgrees)
	step("FortyBuyersForTenUnits", s.raceForTheLastUnits)
	step("LateReplicaCatchesUpBeforeReady", func(t *testing.T, f front) { s.lateReplica(t, f, late) })
	step("ReplicaKilledMidRun", s.replicaKilled)
	t.Logf("all checks: %s", time.Since(begin).Round(time.Millisecond))
}

// with is the same client, failing t.
func (f front) with(t testing.TB) front {
	f.t = t
	return f
}

// at is the client of one process only.
func (f front) at(base string) front {
	f.bases = newRotation(base)
	return f
}

// list is the bases taken in turn now.
func (r *rotation) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bases)
}

// A product is created, renamed and archived, each time through another
// process; search on every process finds it, finds it under its new name
// (and not its old), and stops finding it, each within 2 s of the write's
// answer.
func (s *replicaShop) searchFollowsWrites(t *testing.T, f front) {
	for k := range 3 {
		bases := f.bases.list()
		writer := func(i int) front { return f.at(bases[(k+i)%len(bases)]) }
		first, second := randomWord(), randomWord()
		id := createProduct(t, writer(0), "Quillon "+first+" Lamp", "A lamp for reading.", 1)
		s.visibleEverywhere(t, bases, "search finds the new product", func(base string) bool {
			return slices.Contains(searchIDs(base, first), id)
		})
		testkit.Expect(t, writer(1).do(http.MethodPatch, "/v1/admin/products/"+id, f.admin, map[string]any{"title": "Quillon " + second + " Lamp"}), http.StatusOK)
		s.visibleEverywhere(t, bases, "search finds the product by its new name only", func(base string) bool {
			return slices.Contains(searchIDs(base, second), id) && !slices.Contains(searchIDs(base, first), id)
		})
		testkit.Expect(t, writer(2).do(http.MethodDelete, "/v1/admin/products/"+id, f.admin, nil), http.StatusNoContent)
		s.visibleEverywhere(t, bases, "search no longer finds the archived product", func(base string) bool {
			ids := searchIDs(base, second)
			return ids != nil && !slices.Contains(ids, id)
		})
		if t.Failed() {
			return // the other products would fail the same way
		}
	}
}

// The product pages of every process, cached since they were first shown,
// follow a rename and an archive made through another process within 2 s.
func (s *replicaShop) pagesFollowWrites(t *testing.T, f front) {
	for k := range 3 {
		bases := f.bases.list()
		writer := func(i int) front { return f.at(bases[(k+i)%len(bases)]) }
		title := "Quillon " + randomWord() + " Chair"
		id := createProduct(t, writer(0), title, "A chair for reading.", 1)
		// Every process shows (and so caches) the page before the change.
		testkit.Eventually(t, 10*time.Second, func() bool {
			for _, base := range bases {
				if pageTitle(base, id) != title {
					return false
				}
			}
			return true
		}, "every process shows the new product's page")
		renamed := "Quillon " + randomWord() + " Chair"
		testkit.Expect(t, writer(1).do(http.MethodPatch, "/v1/admin/products/"+id, f.admin, map[string]any{"title": renamed}), http.StatusOK)
		s.visibleEverywhere(t, bases, "the product page shows the new title", func(base string) bool { return pageTitle(base, id) == renamed })
		testkit.Expect(t, writer(2).do(http.MethodDelete, "/v1/admin/products/"+id, f.admin, nil), http.StatusNoContent)
		s.visibleEverywhere(t, bases, "the archived product's page is gone (404)", func(base string) bool { return pageTitle(base, id) == "404" })
		if t.Failed() {
			return
		}
	}
}

// visibleEverywhere polls cond on every base at once from now (just after a
// write's answer) and fails for each base where it took longer than the
// contract's 2 s; it waits a little longer to say how much longer.
func (s *replicaShop) visibleEverywhere(t *testing.T, bases []string, what string, cond func(base string) bool) {
	t.Helper()
	since := time.Now()
	took := make([]time.Duration, len(bases))
	var wg sync.WaitGroup
	for i, base := range bases {
		wg.Go(func() {
			took[i] = -1
			for time.Since(since) < freshness+time.Second {
				if cond(base) {
					took[i] = time.Since(since)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for i, d := range took {
		name := s.nameOf(bases[i])
		switch {
		case d < 0:
			t.Errorf("%s on %s: not within %s of the write", what, name, freshness+time.Second)
		case d > freshness:
			t.Errorf("%s on %s: after %s, more than %s", what, name, d.Round(time.Millisecond), freshness)
		default:
			t.Logf("%s on %s: after %s", what, name, d.Round(time.Millisecond))
		}
	}
}

// nameOf is the process that listens at base.
func (s *replicaShop) nameOf(base string) string {
	for name := range s.ports {
		if s.url(name) == base {
			return name
		}
	}
	return base
}

// stockAgrees: after adjustments and a purchase, every process shows the
// same stock for a product of two variants: its page (available, in_stock),
// the admin's levels, and search's in_stock.
func (s *replicaShop) stockAgrees(t *testing.T, f front) {
	word := randomWord()
	run := randomWord()
	a, b := "AGREE-A-"+strings.ToUpper(run), "AGREE-B-"+strings.ToUpper(run)
	var product struct {
		ID string `json:"id"`
	}
	testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/products", f.admin, map[string]any{"slug": "agree-" + run, "title": "Quillon " + word + " Kettle",
		"status": "published", "variants": []map[string]any{{"sku": a, "title": "Small", "price": 2500}, {"sku": b, "title": "Large", "price": 3500}}}),
		http.StatusCreated).JSON(t, &product)
	for _, sku := range []string{a, b} {
		testkit.Eventually(t, 15*time.Second, func() bool {
			return f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).Status == http.StatusOK
		}, "the inventory knows %s", sku)
	}
	type want struct{ a, b int64 } // available units of each SKU
	agree := func(what string, w want) {
		t.Helper()
		var last []string
		ok := func() bool {
			last = nil
			for _, base := range f.bases.list() {
				last = append(last, s.stockDisagreement(f.at(base), product.ID, word, map[string]int64{a: w.a, b: w.b})...)
			}
			return len(last) == 0
		}
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Errorf("%s: every process should show %s: %d, %s: %d; within 5s still:\n  %s", what, a, w.a, b, w.b, strings.Join(last, "\n  "))
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	adjust := func(f front, sku string, delta int) {
		testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", f.admin, map[string]any{"delta": delta, "reason": "delivery"}), http.StatusCreated)
	}
	bases := f.bases.list()
	agree("before any stock", want{0, 0})
	adjust(f.at(bases[0]), a, 4)
	agree("after 4 units of A arrived", want{4, 0})
	buyOne(t, f, a, "agree-1-"+run)
	agree("after one unit of A was sold", want{3, 0})
	cart := newCart(t, f)
	testkit.Expect(t, f.do(http.MethodPost, "/v1/carts/"+cart+"/items", "", map[string]any{"sku": a, "quantity": 3}), http.StatusCreated)
	var c struct {
		ID string `json:"id"`
	}
	testkit.Expect(t, f.do(http.MethodPost, "/v1/carts/"+cart+"/checkout", "", map[string]any{"email": "a@example.com", "shipping_address": e2eAddress}), http.StatusCreated).JSON(t, &c)
	testkit.Expect(t, f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"}, "Idempotency-Key", "agree-2-"+run), http.StatusCreated)
	agree("after A sold out", want{0, 0})
	adjust(f.at(bases[len(bases)-1]), b, 2)
	agree("after 2 units of B arrived", want{0, 2})
}

// stockDisagreement is what one process shows that differs from the
// available units expected per SKU (nothing when all agree).
func (s *replicaShop) stockDisagreement(f front, productID, word string, want map[string]int64) []string {
	name := s.nameOf(f.bases.list()[0])
	var out []string
	var page struct {
		Variants []struct {
			SKU       string `json:"sku"`
			Available int64  `json:"available"`
			InStock   bool   `json:"in_stock"`
		} `json:"variants"`
	}
	if r := f.do(http.MethodGet, "/v1/products/"+productID, "", nil); r.Status != http.StatusOK || json.Unmarshal(r.Body, &page) != nil {
		out = append(out, fmt.Sprintf("%s: product page %d", name, r.Status))
	}
	for _, v := range page.Variants {
		if v.Available != want[v.SKU] || v.InStock != (want[v.SKU] > 0) {
			out = append(out, fmt.Sprintf("%s: product page shows %s available %d, in_stock %t", name, v.SKU, v.Available, v.InStock))
		}
	}
	anyInStock := false
	for sku, n := range want {
		anyInStock = anyInStock || n > 0
		var level struct {
			OnHand    int64 `json:"on_hand"`
			Reserved  int64 `json:"reserved"`
			Available int64 `json:"available"`
		}
		r := f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil)
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &level) != nil || level.Available != n || level.Reserved != 0 || level.OnHand != n {
			out = append(out, fmt.Sprintf("%s: admin level of %s: %d %s", name, sku, r.Status, r.Body))
		}
	}
	var res struct {
		Items []struct {
			ProductID string `json:"product_id"`
			InStock   bool   `json:"in_stock"`
		} `json:"items"`
	}
	r := f.do(http.MethodGet, "/v1/search?q="+word, "", nil)
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &res) != nil || len(res.Items) != 1 || res.Items[0].ProductID != productID {
		out = append(out, fmt.Sprintf("%s: search for the product: %d %s", name, r.Status, r.Body))
	} else if res.Items[0].InStock != anyInStock {
		out = append(out, fmt.Sprintf("%s: search shows in_stock %t", name, res.Items[0].InStock))
	}
	return out
}

// 40 buyers, spread over every process, race for the last 10 units; each
// sends its order request three times at once with the same
// Idempotency-Key. Exactly 10 orders are placed, each answered the same to
// its three requests, and no unit is left on hand or reserved.
func (s *replicaShop) raceForTheLastUnits(t *testing.T, f front) {
	_, sku, _ := stockedProduct(t, f, 10)
	run := randomWord()
	type buyer struct {
		problem  string   // what went wrong, if anything
		checkout int      // its status
		orders   []string // the order id each of the three requests was answered with
	}
	buyers := make([]buyer, 40)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() {
			b := &buyers[i]
			var cart struct {
				ID string `json:"id"`
			}
			r := f.do(http.MethodPost, "/v1/carts", "", nil)
			if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &cart) != nil {
				b.problem = fmt.Sprintf("new cart: %d %s", r.Status, r.Body)
				return
			}
			r = f.do(http.MethodPost, "/v1/carts/"+cart.ID+"/items", "", map[string]any{"sku": sku, "quantity": 1})
			if r.Status == http.StatusConflict && r.Code() == "out_of_stock" {
				b.checkout = r.Status // the last units are held already
				return
			}
			if r.Status != http.StatusCreated {
				b.problem = fmt.Sprintf("add to cart: %d %s", r.Status, r.Body)
				return
			}
			var c struct {
				ID string `json:"id"`
			}
			r = f.do(http.MethodPost, "/v1/carts/"+cart.ID+"/checkout", "", map[string]any{"email": "race@example.com", "shipping_address": e2eAddress})
			b.checkout = r.Status
			if r.Status == http.StatusConflict && r.Code() == "out_of_stock" {
				return
			}
			if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &c) != nil {
				b.problem = fmt.Sprintf("checkout: %d %s", r.Status, r.Body)
				return
			}
			b.orders = make([]string, 3)
			problems := make([]string, 3)
			var copies sync.WaitGroup
			for k := range 3 {
				copies.Go(func() {
					r, _ := storefront(func() testkit.Response {
						return f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"},
							"Idempotency-Key", fmt.Sprintf("race-%s-%d", run, i))
					})
					var o struct {
						ID string `json:"id"`
					}
					if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &o) != nil {
						problems[k] = fmt.Sprintf("order request %d: %d %s", k, r.Status, r.Body)
					}
					b.orders[k] = o.ID
				})
			}
			copies.Wait()
			b.problem = strings.Join(slices.DeleteFunc(problems, func(p string) bool { return p == "" }), "; ")
		})
	}
	wg.Wait()
	placed := map[string]bool{}
	checkedOut := 0
	for i, b := range buyers {
		if b.problem != "" {
			t.Errorf("buyer %d: %s", i, b.problem)
			continue
		}
		if b.orders == nil {
			continue
		}
		checkedOut++
		if b.orders[0] == "" || b.orders[1] != b.orders[0] || b.orders[2] != b.orders[0] {
			t.Errorf("buyer %d: its three order requests were answered with orders %q", i, b.orders)
		}
		placed[b.orders[0]] = true
	}
	if checkedOut != 10 || len(placed) != 10 {
		t.Fatalf("%d buyers got a checkout and %d orders were placed; want 10 and 10", checkedOut, len(placed))
	}
	var level struct {
		OnHand   int64 `json:"on_hand"`
		Reserved int64 `json:"reserved"`
	}
	testkit.Expect(t, f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil), http.StatusOK).JSON(t, &level)
	if level.OnHand != 0 || level.Reserved != 0 {
		t.Errorf("stock after the race: on_hand %d, reserved %d; want 0 and 0", level.OnHand, level.Reserved)
	}
	if sold := unitsSold(t, f, sku); sold != 10 {
		t.Errorf("%d units of %s in orders, want 10", sold, sku)
	}
}

// storefront sends a request until it is answered for good, as a
// storefront would: again (with the same Idempotency-Key, if any) while the
// answer is a connection that failed (status 0), 502 or 503 (a replica
// going away), or 409 request_in_progress (the same request running
// elsewhere, or a placement whose runner died, until its lease ends).
// It returns the last answer and how many times the request was sent.
func storefront(send func() testkit.Response) (testkit.Response, int) {
	deadline := time.Now().Add(time.Minute)
	for tries := 1; ; tries++ {
		r := send()
		again := r.Status == 0 || r.Status == http.StatusBadGateway || r.Status == http.StatusServiceUnavailable || r.Code() == "request_in_progress"
		if !again || time.Now().After(deadline) {
			return r, tries
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A replica is killed (SIGKILL) while 4 buyers make 24 purchases through
// every process in turn. Every purchase ends with its order, readable from
// the processes left; every unit received is on hand or in an order; the
// outboxes drain, every order's cart is closed (its event was handled),
// and search follows the changes made after the kill.
func (s *replicaShop) replicaKilled(t *testing.T, f front) {
	const received, buyers, each, killAfter = 40, 4, 6, 8
	product, sku, productWord := stockedProduct(t, f, received)
	// Search shows it in stock everywhere first, so that "sold out" at the
	// end is news that reached it after the kill.
	stocked := time.Now()
	for _, base := range f.bases.list() {
		settles(t, stocked, 10*time.Second, "search on "+s.nameOf(base)+" shows the new product in stock", func() (bool, string) {
			inStock := searchInStock(base, productWord, product)
			return inStock == "true", fmt.Sprintf("in_stock %q", inStock)
		})
	}
	run := randomWord()
	purchases := make([]purchase, buyers*each)
	var done atomic.Int64
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for b := range buyers {
		wg.Go(func() {
			for k := range each {
				p := &purchases[b*each+k]
				*p = buyThroughStorefront(f, sku, fmt.Sprintf("kill-%s-%d-%d", run, b, k))
				if done.Add(1) == killAfter {
					close(killed)
				}
			}
		})
	}
	victim := s.replicas[1]
	<-killed
	s.kill(victim)
	killedAt := time.Now()
	f.bases.remove(s.url(victim))
	s.replicas = slices.DeleteFunc(s.replicas, func(name string) bool { return name == victim })
	wg.Wait()
	t.Logf("killed %s after %d purchases; the rest took %s", victim, killAfter, time.Since(killedAt).Round(time.Millisecond))

	// Every order answered 201 is there, on every process left, and holds
	// the units its cart held; the orders of the SKU are those and no more.
	var answered, units int64
	for i, p := range purchases {
		if p.problem != "" {
			t.Errorf("purchase %d: %s", i, p.problem)
			continue
		}
		answered++
		for _, base := range f.bases.list() {
			var o struct {
				Status string `json:"status"`
				Lines  []struct {
					SKU      string `json:"sku"`
					Quantity int    `json:"quantity"`
				} `json:"lines"`
			}
			r := f.at(base).do(http.MethodGet, "/v1/orders/"+p.order+"?token="+p.token, "", nil)
			if r.Status != http.StatusOK || json.Unmarshal(r.Body, &o) != nil || o.Status != "placed" || len(o.Lines) != 1 || o.Lines[0].SKU != sku ||
				o.Lines[0].Quantity < 1 || o.Lines[0].Quantity > p.adds {
				t.Errorf("order %s of purchase %d (%d adds to its cart), read from %s: %d %s", p.order, i, p.adds, s.nameOf(base), r.Status, r.Body)
				continue
			}
			if base == f.bases.list()[0] {
				units += int64(o.Lines[0].Quantity)
			}
		}
	}
	if answered != int64(len(purchases)) {
		t.Errorf("%d of %d purchases ended with an order", answered, len(purchases))
	}
	// Every unit is on hand or sold, none twice. A placement that the
	// victim left half done is finished by the processes left (the
	// shopper's retry or the recovery worker) once its lease ends.
	var onHand, sold int64
	settles(t, killedAt, afterCrash, "units on hand + units in orders = units received", func() (bool, string) {
		var level struct {
			OnHand int64 `json:"on_hand"`
		}
		testkit.Expect(t, f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil), http.StatusOK).JSON(t, &level)
		onHand, sold = level.OnHand, unitsSold(t, f, sku)
		return onHand+sold == received, fmt.Sprintf("%d on hand, %d sold", onHand, sold)
	})
	if sold != units {
		t.Errorf("%d units in the SKU's orders, %d in the orders answered 201", sold, units)
	}
	t.Logf("%d purchases answered 201; %d units sold, %d on hand, of %d received", answered, sold, onHand, received)

	settles(t, killedAt, afterCrash, "every outbox drained (the processes left publish what the victim left)", func() (bool, string) {
		waiting := s.waitingEvents(f)
		return waiting == "", waiting
	})
	settles(t, killedAt, afterCrash, "every order's cart closed by its order_placed event", func() (bool, string) {
		open := 0
		for _, p := range purchases {
			if p.problem != "" {
				continue
			}
			var c struct {
				Status string `json:"status"`
			}
			r := f.do(http.MethodGet, "/v1/carts/"+p.cart, "", nil)
			if r.Status != http.StatusOK || json.Unmarshal(r.Body, &c) != nil || c.Status != "checked_out" {
				open++
			}
		}
		return open == 0, fmt.Sprintf("%d carts not closed", open)
	})

	// Changes after the kill reach search on every process left: a new
	// product, and the stock of the one sold out.
	word := randomWord()
	id := createProduct(t, f, "Quillon "+word+" Stool", "A stool.", 1)
	var level struct {
		Available int64 `json:"available"`
	}
	testkit.Expect(t, f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil), http.StatusOK).JSON(t, &level)
	if level.Available > 0 {
		testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", f.admin, map[string]any{"delta": -level.Available, "reason": "count"}), http.StatusCreated)
	}
	changed := time.Now()
	for _, base := range f.bases.list() {
		settles(t, changed, afterCrash, "search on "+s.nameOf(base)+" shows the product created and the stock sold out after the kill", func() (bool, string) {
			found, inStock := slices.Contains(searchIDs(base, word), id), searchInStock(base, productWord, product)
			return found && inStock == "false", fmt.Sprintf("new product found: %t; in_stock of the sold-out one: %q", found, inStock)
		})
	}
}

// purchase is a guest's purchase: its cart, its order and the order's
// guest token, or what went wrong; and how many times the storefront sent
// the request that adds the unit to the cart (a replica that dies after
// adding it, before answering, makes the storefront add it again).
type purchase struct {
	cart, order, token, problem string
	adds                        int
}

// buyThroughStorefront buys one unit as a guest through the storefront,
// which tries each step again when a replica goes away under it.
func buyThroughStorefront(f front, sku, key string) (p purchase) {
	var cart, c, o struct {
		ID         string `json:"id"`
		GuestToken string `json:"guest_token"`
	}
	steps := []struct {
		what string
		send func() testkit.Response
		out  any
	}{
		{"new cart", func() testkit.Response { return f.do(http.MethodPost, "/v1/carts", "", nil) }, &cart},
		{"add to cart", func() testkit.Response {
			return f.do(http.MethodPost, "/v1/carts/"+cart.ID+"/items", "", map[string]any{"sku": sku, "quantity": 1})
		}, nil},
		{"checkout", func() testkit.Response {
			return f.do(http.MethodPost, "/v1/carts/"+cart.ID+"/checkout", "", map[string]any{"email": "k@example.com", "shipping_address": e2eAddress})
		}, &c},
		{"order", func() testkit.Response {
			return f.do(http.MethodPost, "/v1/orders", "", map[string]any{"checkout_id": c.ID, "payment_method": "pm_card_visa"}, "Idempotency-Key", key)
		}, &o},
	}
	for _, st := range steps {
		r, tries := storefront(st.send)
		if st.what == "add to cart" {
			p.adds = tries
		}
		if r.Status != http.StatusCreated {
			p.problem = fmt.Sprintf("%s: %d %s", st.what, r.Status, r.Body)
			return p
		}
		if st.out != nil {
			if err := json.Unmarshal(r.Body, st.out); err != nil {
				p.problem = fmt.Sprintf("%s: %v", st.what, err)
				return p
			}
		}
	}
	p.cart, p.order, p.token = cart.ID, o.ID, o.GuestToken
	return p
}

// waitingEvents says which outboxes hold events, as /metrics of the
// processes reached report them (the outboxes are shared tables): "" when
// none does, or when a process did not answer, why.
func (s *replicaShop) waitingEvents(f front) string {
	depth, lag := map[string]string{}, map[string]string{}
	for _, base := range f.bases.list() {
		r := f.at(base).do(http.MethodGet, "/metrics", "", nil)
		if r.Status != http.StatusOK {
			return fmt.Sprintf("%s: /metrics answered %d", s.nameOf(base), r.Status)
		}
		for _, line := range strings.Split(string(r.Body), "\n") {
			for metric, into := range map[string]map[string]string{"modshop_outbox_depth": depth, "modshop_outbox_lag_seconds": lag} {
				if labels, ok := strings.CutPrefix(line, metric+`{module="`); ok {
					module, value, _ := strings.Cut(labels, `"} `)
					into[module] = value
				}
			}
		}
	}
	var waiting []string
	for module, n := range depth {
		if n != "0" {
			waiting = append(waiting, fmt.Sprintf("%s: %s events, the oldest %s s old", module, n, lag[module]))
		}
	}
	slices.Sort(waiting)
	return strings.Join(waiting, "; ")
}

// settles polls check until it reports true, for at most timeout from
// since, and logs how long after since it held; if it never does, it fails
// t with the last state check described.
func settles(t *testing.T, since time.Time, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	for {
		ok, state := check()
		if ok {
			t.Logf("%s: after %s", what, time.Since(since).Round(time.Millisecond))
			return
		}
		if time.Since(since) > timeout {
			t.Errorf("%s: not within %s; last: %s", what, timeout, state)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A replica started later, with an empty data folder, while the catalog
// holds a few thousand products: from the moment it listens, /readyz
// answers 503 (naming search_index while the index catches up) until it
// has every published product in its index; then it takes its share.
func (s *replicaShop) lateReplica(t *testing.T, f front, name string) {
	const seeded = 2000
	start := time.Now()
	cmd := exec.Command(binary(t), "seed", "--products", strconv.Itoa(seeded), "--stock=false")
	cmd.Env = append(os.Environ(), "MODSHOP_DATABASE_URL="+s.shopDB.URL, "MODSHOP_MODULES=catalog,inventory",
		"MODSHOP_DATA_DIR="+t.TempDir(), "MODSHOP_LOG_LEVEL=warn", "MODSHOP_REMOTE_CATALOG=", "MODSHOP_REMOTE_INVENTORY=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("modshop seed: %v\n%s", err, out)
	}
	published := publishedProducts(t, f)
	t.Logf("seeded %d products in %s; %d published in all", seeded, time.Since(start).Round(time.Millisecond), published)
	start = time.Now()
	for _, base := range f.bases.list() {
		testkit.Eventually(t, time.Minute, func() bool { return searchTotal(base) == published },
			"search on %s holds the %d published products", s.nameOf(base), published)
	}
	t.Logf("the running processes indexed them in %s", time.Since(start).Round(time.Millisecond))

	p := s.startReplica(name)
	listening := time.Now()
	base := s.url(name)
	var before []string // the answers before the first 200
	namedIndex := false
	for {
		r := f.at(base).do(http.MethodGet, "/readyz", "", nil)
		if r.Status == http.StatusOK {
			break
		}
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("%s's /readyz answered %d before it was ready: %s", name, r.Status, r.Body)
		}
		var body struct {
			Failed map[string]string `json:"failed"`
		}
		if json.Unmarshal(r.Body, &body) == nil {
			if _, ok := body.Failed["search_index"]; ok {
				namedIndex = true
			}
		}
		if len(before) == 0 || before[len(before)-1] != string(r.Body) {
			before = append(before, string(r.Body))
		}
		if time.Since(listening) > time.Minute {
			t.Fatalf("%s not ready a minute after it listened; /readyz said:\n%s\n%s", name, strings.Join(before, "\n"), p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	caughtUp := time.Since(listening)
	if got := searchTotal(base); got != published {
		t.Errorf("%s said it was ready with %d of the %d published products in its search index", name, got, published)
	}
	t.Logf("%s: ready %s after it listened; /readyz before that:\n  %s", name, caughtUp.Round(time.Millisecond), strings.Join(before, "\n  "))
	if !namedIndex {
		t.Errorf("%s's /readyz never named search_index while it caught up", name)
	}

	// It takes its share of the requests from now on.
	s.replicas = append(s.replicas, name)
	f.bases.add(base)
	if s.balancer != nil {
		testkit.Eventually(t, 5*time.Second, func() bool { return s.balancer.isUp(base) }, "the balancer finds %s ready", name)
	}
	sentBefore := f.bases.count(base)
	for range 4 * len(f.bases.list()) {
		testkit.Expect(t, f.do(http.MethodGet, "/v1/search?limit=1", "", nil), http.StatusOK)
		testkit.Expect(t, f.do(http.MethodGet, "/v1/products?limit=5", "", nil), http.StatusOK)
	}
	if n := f.bases.count(base) - sentBefore; n < 4 {
		t.Errorf("%s answered %d requests of the client's turns, want at least 4", name, n)
	}
	if s.balancer != nil {
		beforeLB := s.balancer.served(base)
		for range 8 {
			testkit.Expect(t, f.at(s.url("rest")).do(http.MethodGet, "/v1/search?q="+randomWord(), "", nil), http.StatusOK)
		}
		if s.balancer.served(base) == beforeLB {
			t.Errorf("the balancer sent none of 8 searches to %s", name)
		}
	}
}

// createProduct creates a published product with the given number of
// variants and returns its id.
func createProduct(t testing.TB, f front, title, description string, variants int) string {
	t.Helper()
	run := randomWord()
	var vs []map[string]any
	for i := range variants {
		vs = append(vs, map[string]any{"sku": fmt.Sprintf("R-%s-%d", strings.ToUpper(run), i), "title": fmt.Sprintf("V%d", i), "price": 1200 + 100*i})
	}
	var p struct {
		ID string `json:"id"`
	}
	testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/products", f.admin, map[string]any{"slug": "r-" + run, "title": title, "description": description,
		"status": "published", "variants": vs}), http.StatusCreated).JSON(t, &p)
	return p.ID
}

// stockedProduct creates a published product of one variant, named with a
// word of its own, with n units on hand; it returns the product's id, its
// SKU and the word.
func stockedProduct(t testing.TB, f front, n int) (id, sku, word string) {
	t.Helper()
	word = randomWord()
	id = createProduct(t, f, "Quillon "+word+" Crate", "A crate.", 1)
	var p struct {
		Variants []struct {
			SKU string `json:"sku"`
		} `json:"variants"`
	}
	testkit.Expect(t, f.do(http.MethodGet, "/v1/admin/products/"+id, f.admin, nil), http.StatusOK).JSON(t, &p)
	sku = p.Variants[0].SKU
	testkit.Eventually(t, 15*time.Second, func() bool {
		return f.do(http.MethodGet, "/v1/admin/inventory/"+sku, f.admin, nil).Status == http.StatusOK
	}, "the inventory knows %s", sku)
	testkit.Expect(t, f.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", f.admin, map[string]any{"delta": n, "reason": "delivery"}), http.StatusCreated)
	return id, sku, word
}

// randomWord is a word of 10 random letters: no product has it by chance,
// and two of them are too far apart for search's typo tolerance.
func randomWord() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}

// searchIDs are the products search at base finds for q (nil when it did
// not answer 200).
func searchIDs(base, q string) []string {
	var res struct {
		Items []struct {
			ProductID string `json:"product_id"`
		} `json:"items"`
	}
	if !getJSON(base+"/v1/search?limit=100&q="+url.QueryEscape(q), &res) {
		return nil
	}
	ids := []string{}
	for _, it := range res.Items {
		ids = append(ids, it.ProductID)
	}
	return ids
}

// searchInStock is in_stock of product id as search at base shows it for
// q: "true", "false", or "" when it does not find it.
func searchInStock(base, q, id string) string {
	var res struct {
		Items []struct {
			ProductID string `json:"product_id"`
			InStock   bool   `json:"in_stock"`
		} `json:"items"`
	}
	if !getJSON(base+"/v1/search?limit=100&q="+url.QueryEscape(q), &res) {
		return ""
	}
	for _, it := range res.Items {
		if it.ProductID == id {
			return strconv.FormatBool(it.InStock)
		}
	}
	return ""
}

// searchTotal is the number of products search at base lists for an empty
// query (-1 when it did not answer 200).
func searchTotal(base string) int {
	res := struct {
		Total int `json:"total"`
	}{Total: -1}
	if !getJSON(base+"/v1/search?limit=1", &res) {
		return -1
	}
	return res.Total
}

// pageTitle is the title on a product's page at base, or its status when
// it is not 200.
func pageTitle(base, id string) string {
	var p struct {
		Title string `json:"title"`
	}
	resp, err := e2eClient.Get(base + "/v1/products/" + id)
	if err != nil {
		return "error"
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&p) != nil {
		return strconv.Itoa(resp.StatusCode)
	}
	return p.Title
}

// getJSON decodes a 200 answer to GET u into v; false for anything else.
// It fails no test: pollers call it from goroutines of their own.
func getJSON(u string, v any) bool {
	resp, err := e2eClient.Get(u)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(v) == nil
}

// publishedProducts counts the catalog's published products (the admin
// list, page by page).
func publishedProducts(t *testing.T, f front) int {
	n, cursor := 0, ""
	for {
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		testkit.Expect(t, f.do(http.MethodGet, "/v1/admin/products?status=published&limit=100&cursor="+url.QueryEscape(cursor), f.admin, nil), http.StatusOK).JSON(t, &page)
		n += len(page.Items)
		if page.NextCursor == nil {
			return n
		}
		cursor = *page.NextCursor
	}
}

// unitsSold is the number of units of sku in placed orders (every page of
// the admin's list).
func unitsSold(t testing.TB, f front, sku string) int64 {
	var sold int64
	cursor := ""
	for {
		var page struct {
			Items []struct {
				Lines []struct {
					SKU      string `json:"sku"`
					Quantity int64  `json:"quantity"`
				} `json:"lines"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		testkit.Expect(t, f.do(http.MethodGet, "/v1/admin/orders?status=placed&limit=100&cursor="+url.QueryEscape(cursor), f.admin, nil), http.StatusOK).JSON(t, &page)
		for _, o := range page.Items {
			for _, l := range o.Lines {
				if l.SKU == sku {
					sold += l.Quantity
				}
			}
		}
		if page.NextCursor == nil {
			return sold
		}
		cursor = *page.NextCursor
	}
}

// balancer is a round-robin load balancer over the replicas that answer
// /readyz with 200, checked every 100 ms: what a Service or a load
// balancer with health checks puts in front of replicas. A replica that
// refuses a connection is taken out at once, and a request without a body
// that found it so goes to the next one (it never reached the first).
type balancer struct {
	url       string
	mu        sync.Mutex
	backends  []*backend
	next      int
	transport http.RoundTripper
}

type backend struct {
	url    *url.URL
	up     bool
	served int
}

var errNoBackend = errors.New("no replica is ready")

func newBalancer(t testing.TB) *balancer {
	b := &balancer{transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "replica" // RoundTrip picks the replica
			r.SetXForwarded()
		},
		Transport: b,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusBadGateway
			if errors.Is(err, errNoBackend) {
				status = http.StatusServiceUnavailable
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, `{"type":"about:blank","title":"%s","status":%d,"code":"unavailable"}`, http.StatusText(status), status)
		},
	}
	srv := httptest.NewServer(proxy)
	b.url = srv.URL
	stop, done := make(chan struct{}), make(chan struct{})
	go b.check(stop, done)
	t.Cleanup(func() {
		close(stop)
		<-done
		srv.Close()
	})
	return b
}

func (b *balancer) add(base string) {
	u, _ := url.Parse(base)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, &backend{url: u})
}

// served is how many requests went to base.
func (b *balancer) served(base string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, be := range b.backends {
		if be.url.String() == base {
			return be.served
		}
	}
	return 0
}

func (b *balancer) isUp(base string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, be := range b.backends {
		if be.url.String() == base {
			return be.up
		}
	}
	return false
}

// check asks every replica's /readyz every 100 ms until stop closes.
func (b *balancer) check(stop, done chan struct{}) {
	defer close(done)
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		b.mu.Lock()
		backends := slices.Clone(b.backends)
		b.mu.Unlock()
		for _, be := range backends {
			up := false
			if resp, err := client.Get(be.url.String() + "/readyz"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				up = resp.StatusCode == http.StatusOK
			}
			b.mu.Lock()
			be.up = up
			b.mu.Unlock()
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// pick is the next replica that is up, or nil.
func (b *balancer) pick() *backend {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.backends {
		be := b.backends[b.next%len(b.backends)]
		b.next++
		if be.up {
			be.served++
			return be
		}
	}
	return nil
}

func (b *balancer) down(be *backend) {
	b.mu.Lock()
	defer b.mu.Unlock()
	be.up = false
}

// RoundTrip sends the request to the next replica that is up.
func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	bodiless := req.Body == nil || req.Body == http.NoBody
	for {
		be := b.pick()
		if be == nil {
			return nil, errNoBackend
		}
		out := req.Clone(req.Context())
		out.URL.Host = be.url.Host
		resp, err := b.transport.RoundTrip(out)
		var op *net.OpError
		if err != nil && errors.As(err, &op) && op.Op == "dial" {
			b.down(be)
			if bodiless {
				continue
			}
		}
		return resp, err
	}
}
