package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/modshop/modshop/platform/testkit"
)

// The stateful API test: a seeded random sequence of valid and invalid
// calls from several shoppers (customers and guests) and an admin against
// the real server, checking after every step that
//   - no answer is a 5xx;
//   - stock is conserved: on hand + sold = received, reserved ≤ on hand;
//   - every order's total = its lines + shipping;
//   - no answer to one caller holds another caller's e-mail, and no caller
//     reads another's cart or order.
//
// It runs on SQLite and PostgreSQL and is reproducible from its seed:
// MODSHOP_STATEFUL_SEED=N (default 1) and MODSHOP_STATEFUL_STEPS (default 250).
func TestStatefulShop(t *testing.T) {
	seed, _ := strconv.ParseUint(os.Getenv("MODSHOP_STATEFUL_SEED"), 10, 64)
	if seed == 0 {
		seed = 1
	}
	steps, _ := strconv.Atoi(os.Getenv("MODSHOP_STATEFUL_STEPS"))
	if steps <= 0 {
		steps = 250
	}
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := testkit.Start(t, modules, testkit.Options{DB: &db})
		w := newWorld(t, newFront(t, shop.URL), seed)
		t.Logf("seed %d, %d steps (MODSHOP_STATEFUL_SEED=%d reproduces it)", seed, steps, seed)
		for i := range steps {
			w.step(i)
			w.checkInvariants(i)
		}
		orders, cancelled := 0, 0
		for _, a := range w.actors {
			for _, o := range a.orders {
				orders++
				if o.cancelled {
					cancelled++
				}
			}
		}
		t.Logf("%d orders placed, %d cancelled", orders, cancelled)
		if orders == 0 {
			t.Error("the sequence placed no order: it checks too little")
		}
	})
}

type actor struct {
	name, email, token string // token "" for a guest
	cart, checkout     string
	orders             []placed
}

type placed struct {
	id, guestToken string
	lines          map[string]int64
	cancelled      bool
}

type world struct {
	t        *testing.T
	f        front
	rnd      *rand.Rand
	actors   []*actor
	skus     []string
	received map[string]int64
	last     string // the last call, for failure messages
}

func newWorld(t *testing.T, f front, seed uint64) *world {
	w := &world{t: t, f: f, rnd: rand.New(rand.NewPCG(seed, seed^0x5eed)), received: map[string]int64{}}
	run := randomWord()
	for i := range 3 { // products of one variant each, with little stock so it runs out
		_, sku, _ := stockedProduct(t, f, 4+i*2)
		w.skus = append(w.skus, sku)
		w.received[sku] = int64(4 + i*2)
	}
	for i := range 3 {
		a := &actor{name: fmt.Sprintf("customer%d", i), email: fmt.Sprintf("st-%s-c%d@example.com", run, i)}
		var s struct {
			AccessToken string `json:"access_token"`
		}
		f.expect(f.do(http.MethodPost, "/v1/auth/register", "", map[string]any{"email": a.email, "password": "password1", "name": "Shopper " + a.name}), http.StatusCreated).JSON(t, &s)
		a.token = s.AccessToken
		w.actors = append(w.actors, a)
	}
	for i := range 2 {
		w.actors = append(w.actors, &actor{name: fmt.Sprintf("guest%d", i), email: fmt.Sprintf("st-%s-g%d@example.com", run, i)})
	}
	return w
}

// call sends a request as actor a (nil: the admin) and checks what every
// answer must satisfy.
func (w *world) call(a *actor, method, path string, body any, header ...string) testkit.Response {
	w.t.Helper()
	token := w.f.admin
	who := "admin"
	if a != nil {
		token, who = a.token, a.name
	}
	w.last = fmt.Sprintf("%s %s %s %v", who, method, path, body)
	r := w.f.do(method, path, token, body, header...)
	if r.Status >= 500 || r.Status == 0 {
		w.t.Fatalf("%s: %d %s", w.last, r.Status, r.Body)
	}
	if a != nil {
		for _, other := range w.actors {
			if other != a && strings.Contains(string(r.Body), other.email) {
				w.t.Fatalf("%s: the answer holds %s's e-mail: %s", w.last, other.name, r.Body)
			}
		}
	}
	return r
}

func (w *world) step(i int) {
	a := w.actors[w.rnd.IntN(len(w.actors))]
	sku := w.skus[w.rnd.IntN(len(w.skus))]
	switch w.rnd.IntN(9) {
	case 0, 1: // add to the cart (sometimes an invalid quantity or SKU)
		if a.cart == "" {
			var c struct {
				ID string `json:"id"`
			}
			w.f.expect(w.call(a, http.MethodPost, "/v1/carts", nil), http.StatusCreated).JSON(w.t, &c)
			a.cart = c.ID
		}
		qty := int64(1 + w.rnd.IntN(3))
		switch w.rnd.IntN(6) {
		case 0:
			qty = 0
		case 1:
			sku = "NO-SUCH-SKU"
		}
		r := w.call(a, http.MethodPost, "/v1/carts/"+a.cart+"/items", map[string]any{"sku": sku, "quantity": qty})
		if r.Status == http.StatusConflict { // the cart was checked out: a new one next time
			a.cart = ""
		}
	case 2: // check out
		if a.cart == "" {
			return
		}
		var c struct {
			ID string `json:"id"`
		}
		r := w.call(a, http.MethodPost, "/v1/carts/"+a.cart+"/checkout", map[string]any{"email": a.email,
			"shipping_address": map[string]any{"name": "A B", "line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}})
		if r.Status == http.StatusCreated {
			r.JSON(w.t, &c)
			a.checkout = c.ID
		}
	case 3, 4: // place the order, sometimes with a declined card or a reused key
		if a.checkout == "" {
			return
		}
		method := []string{"pm_card_visa", "pm_card_mastercard", "pm_card_chargeDeclined"}[w.rnd.IntN(3)]
		key := "my-first-order" // predictable on purpose: guests' keys must not collide
		if w.rnd.IntN(2) == 0 {
			key = fmt.Sprintf("k-%d", i)
		}
		r := w.call(a, http.MethodPost, "/v1/orders", map[string]any{"checkout_id": a.checkout, "payment_method": method}, "Idempotency-Key", key)
		if r.Status == http.StatusCreated && r.Header.Get("Idempotent-Replayed") == "" {
			var o struct {
				ID         string  `json:"id"`
				GuestToken *string `json:"guest_token"`
				Lines      []struct {
					SKU      string `json:"sku"`
					Quantity int64  `json:"quantity"`
				} `json:"lines"`
			}
			r.JSON(w.t, &o)
			p := placed{id: o.ID, lines: map[string]int64{}}
			if o.GuestToken != nil {
				p.guestToken = *o.GuestToken
			}
			for _, l := range o.Lines {
				p.lines[l.SKU] += l.Quantity
			}
			a.orders = append(a.orders, p)
			a.checkout, a.cart = "", ""
		}
	case 5: // cancel one of one's orders
		if len(a.orders) == 0 {
			return
		}
		o := &a.orders[w.rnd.IntN(len(a.orders))]
		r := w.call(a, http.MethodPost, "/v1/orders/"+o.id+"/cancel?token="+o.guestToken, nil)
		if r.Status == http.StatusOK {
			o.cancelled = true
		}
	case 6: // look at another caller's order and cart: never theirs to see
		b := w.actors[w.rnd.IntN(len(w.actors))]
		if b == a {
			return
		}
		if len(b.orders) > 0 {
			o := b.orders[0]
			if r := w.call(a, http.MethodGet, "/v1/orders/"+o.id, nil); r.Status == http.StatusOK {
				w.t.Fatalf("%s read %s's order: %s", a.name, b.name, r.Body)
			}
		}
		if b.cart != "" && b.token != "" {
			if r := w.call(a, http.MethodGet, "/v1/carts/"+b.cart, nil); r.Status == http.StatusOK {
				w.t.Fatalf("%s read %s's cart: %s", a.name, b.name, r.Body)
			}
		}
	case 7: // the admin ships an order, or receives stock
		if w.rnd.IntN(2) == 0 {
			n := int64(1 + w.rnd.IntN(3))
			w.f.expect(w.call(nil, http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", map[string]any{"delta": n, "reason": "delivery"}), http.StatusCreated)
			w.received[sku] += n
			return
		}
		b := w.actors[w.rnd.IntN(len(w.actors))]
		if len(b.orders) > 0 {
			w.call(nil, http.MethodPost, "/v1/admin/orders/"+b.orders[0].id+"/ship", map[string]any{"tracking_number": "TRK1"})
		}
	case 8: // invalid calls
		switch w.rnd.IntN(3) {
		case 0:
			w.call(a, http.MethodGet, "/v1/orders/ord_does_not_exist", nil)
		case 1:
			w.call(a, http.MethodPost, "/v1/orders", map[string]any{"checkout_id": "nope", "payment_method": "pm_card_visa"})
		default:
			w.call(a, http.MethodGet, "/v1/products/%00", nil)
		}
	}
}

func (w *world) checkInvariants(i int) {
	sold := map[string]int64{}
	for _, a := range w.actors {
		for _, o := range a.orders {
			if !o.cancelled {
				for sku, q := range o.lines {
					sold[sku] += q
				}
			}
		}
	}
	for _, sku := range w.skus {
		var lv struct {
			OnHand   int64 `json:"on_hand"`
			Reserved int64 `json:"reserved"`
		}
		w.f.expect(w.call(nil, http.MethodGet, "/v1/admin/inventory/"+sku, nil), http.StatusOK).JSON(w.t, &lv)
		if lv.OnHand+sold[sku] != w.received[sku] || lv.Reserved > lv.OnHand || lv.Reserved < 0 {
			w.t.Fatalf("step %d (after %s): %s on hand %d + sold %d != received %d, or reserved %d", i, w.last, sku, lv.OnHand, sold[sku], w.received[sku], lv.Reserved)
		}
	}
	for _, a := range w.actors {
		for _, o := range a.orders {
			var ord struct {
				Subtotal, Shipping, Total struct {
					Amount int64 `json:"amount"`
				}
				Lines []struct {
					LineTotal struct {
						Amount int64 `json:"amount"`
					} `json:"line_total"`
				} `json:"lines"`
			}
			w.f.expect(w.call(nil, http.MethodGet, "/v1/admin/orders/"+o.id, nil), http.StatusOK).JSON(w.t, &ord)
			var lines int64
			for _, l := range ord.Lines {
				lines += l.LineTotal.Amount
			}
			if ord.Total.Amount != lines+ord.Shipping.Amount || ord.Subtotal.Amount != lines {
				w.t.Fatalf("step %d: order %s total %d != lines %d + shipping %d", i, o.id, ord.Total.Amount, lines, ord.Shipping.Amount)
			}
		}
	}
}
