package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	orders "github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/web/internal/store"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// The back office's orders, customers and dead letters, driven as an
// admin's browser drives them, and checked through the JSON API.

// signIn signs the browser in through the sign-in form (POST /signin).
// Where this branch has no sign-in page yet, it makes the session the form
// would make, in the web module's own table, for the account the JSON API
// signs in (so the role and id are the account's).
func signIn(t *testing.T, shop *testkit.Shop, b *browser, email, password string) {
	t.Helper()
	if p := b.get("/signin"); p.Status == http.StatusOK {
		b.post("/signin", "/signin", url.Values{"email": {email}, "password": {password}}).expect(t, http.StatusSeeOther)
		return
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	testkit.Expect(t, shop.Post("/v1/auth/login", "", map[string]string{"email": email, "password": password}), http.StatusOK).JSON(t, &tok)
	var me struct{ ID, Email, Name, Role string }
	testkit.Expect(t, shop.Get("/v1/me", tok.AccessToken), http.StatusOK).JSON(t, &me)
	db, err := database.Open(shop.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret := fmt.Sprintf("test-session-%d", time.Now().UnixNano())
	now := time.Now()
	err = store.New(&database.Handle{Module: "web", DB: db}).Create(context.Background(), secret, store.Session{CustomerID: me.ID,
		Email: me.Email, Name: me.Name, Role: me.Role, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "modshop_session", Value: secret, Path: "/"}})
}

// guestOrder places a guest order of qty × sku through the JSON API, as a
// shopper's client does, and returns it with its guest token.
func guestOrder(t *testing.T, shop *testkit.Shop, email, sku string, qty int) orders.Order {
	t.Helper()
	var cart struct{ ID string }
	testkit.Expect(t, shop.Post("/v1/carts", "", nil), http.StatusCreated).JSON(t, &cart)
	testkit.Expect(t, shop.Post("/v1/carts/"+cart.ID+"/items", "", map[string]any{"sku": sku, "quantity": qty}), http.StatusCreated)
	var co struct{ ID string }
	testkit.Expect(t, shop.Post("/v1/carts/"+cart.ID+"/checkout", "", map[string]any{"email": email,
		"shipping_address": map[string]any{"name": "Ann Lee", "line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}}),
		http.StatusCreated).JSON(t, &co)
	var o orders.Order
	testkit.Expect(t, shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/orders", Header: map[string]string{"Idempotency-Key": "k-" + co.ID},
		Body: map[string]any{"checkout_id": co.ID, "payment_method": "pm_card_visa"}}), http.StatusCreated).JSON(t, &o)
	if o.GuestToken == nil {
		t.Fatalf("guest order without a token: %+v", o)
	}
	return o
}

// orderAsGuest reads an order as its guest does, through the JSON API.
func orderAsGuest(t *testing.T, shop *testkit.Shop, o orders.Order) orders.Order {
	t.Helper()
	var got orders.Order
	testkit.Expect(t, shop.Get("/v1/orders/"+o.ID+"?token="+url.QueryEscape(*o.GuestToken), ""), http.StatusOK).JSON(t, &got)
	return got
}

func stockOf(t *testing.T, shop *testkit.Shop, sku string) int64 {
	t.Helper()
	var lvl struct {
		OnHand int64 `json:"on_hand"`
	}
	testkit.Expect(t, shop.Get("/v1/admin/inventory/"+sku, shop.AdminToken()), http.StatusOK).JSON(t, &lvl)
	return lvl.OnHand
}

func TestAdminShipsDeliversAndRefundsAnOrder(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	signIn(t, shop, b, adminEmail, adminPassword)
	o := guestOrder(t, shop, "ann@example.com", "BOOT-42", 1)

	// The dashboard counts it, the list shows it under "placed".
	b.get("/admin").expect(t, 200).contains(t, `href="/admin/products"`, `href="/admin/inventory"`, `href="/admin/dead-letters"`)
	if home := b.get("/admin").Body; !regexp.MustCompile(`<span class="stat">1</span> orders awaiting shipment`).MatchString(home) {
		t.Fatalf("the dashboard does not count the placed order:\n%s", home)
	}
	b.get("/admin/orders?status=placed").expect(t, 200).contains(t, o.Number, "ann@example.com", "€129.00", "authorized")
	if p := b.get("/admin/orders?status=shipped").expect(t, 200); strings.Contains(p.Body, o.Number) {
		t.Fatal("a placed order is listed under shipped")
	}

	// Its page offers ship and cancel, not deliver or refund.
	page := "/admin/orders/" + o.ID
	b.get(page).expect(t, 200).contains(t, o.Number, "Leather Boots", "BOOT-42", "Main St 1", `id="ship-form"`, `id="cancel-form"`, "payment-history")
	if p := b.get(page); strings.Contains(p.Body, `id="refund-form"`) || strings.Contains(p.Body, `id="deliver-form"`) {
		t.Fatal("a placed order offers deliver or refund")
	}

	// Ship without a tracking number: 422, the form says why, nothing changed.
	b.post(page, page+"/ship", url.Values{"tracking_number": {"  "}}).expect(t, 422).contains(t, "tracking_number-error", "is required")
	if got := orderAsGuest(t, shop, o); got.Status != orders.StatusPlaced {
		t.Fatalf("a refused ship changed the order: %s", got.Status)
	}

	// Ship with one: 303 with a notice; the shopper's API shows it shipped.
	p := b.post(page, page+"/ship", url.Values{"tracking_number": {"DHL-123456"}}).expect(t, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != page {
		t.Fatalf("ship redirects to %q", loc)
	}
	b.get(page).expect(t, 200).contains(t, "The order was shipped.", "DHL-123456", `id="deliver-form"`, `id="refund-form"`)
	got := orderAsGuest(t, shop, o)
	if got.Status != orders.StatusShipped || got.TrackingNumber == nil || *got.TrackingNumber != "DHL-123456" || got.Payment.Status != orders.PaymentCaptured {
		t.Fatalf("after ship: %+v", got)
	}

	// Cancel is not allowed now: 409, says why, nothing changed.
	b.post(page, page+"/cancel", nil).expect(t, http.StatusConflict).contains(t, "The order is shipped: it cannot be cancelled. Nothing was changed.")
	if got := orderAsGuest(t, shop, o); got.Status != orders.StatusShipped || got.Payment.Status != orders.PaymentCaptured {
		t.Fatalf("a refused cancel changed the order: %+v", got)
	}

	// Deliver, then refund.
	b.post(page, page+"/deliver", nil).expect(t, http.StatusSeeOther)
	if got := orderAsGuest(t, shop, o); got.Status != orders.StatusDelivered {
		t.Fatalf("after deliver: %s", got.Status)
	}
	b.post(page, page+"/refund", nil).expect(t, http.StatusSeeOther)
	b.get(page).expect(t, 200).contains(t, "The order was refunded.", "No action: the order is refunded.")
	if got := orderAsGuest(t, shop, o); got.Status != orders.StatusRefunded || got.Payment.Status != orders.PaymentRefunded {
		t.Fatalf("after refund: %+v", got)
	}
	b.post(page, page+"/deliver", nil).expect(t, http.StatusConflict).contains(t, "it cannot be delivered")

	// An unknown order is a 404 page.
	b.get("/admin/orders/nope").expect(t, 404)
	b.post(page, "/admin/orders/nope/ship", url.Values{"tracking_number": {"X"}}).expect(t, 404)
}

func TestAdminCancelsAPlacedOrder(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	signIn(t, shop, b, adminEmail, adminPassword)
	before := stockOf(t, shop, "SCF-1")
	o := guestOrder(t, shop, "bo@example.com", "SCF-1", 3)
	if n := stockOf(t, shop, "SCF-1"); n != before-3 {
		t.Fatalf("stock after the sale %d, want %d", n, before-3)
	}
	page := "/admin/orders/" + o.ID
	b.post(page, page+"/cancel", nil).expect(t, http.StatusSeeOther)
	got := orderAsGuest(t, shop, o)
	if got.Status != orders.StatusCancelled || got.Payment.Status != orders.PaymentVoided {
		t.Fatalf("after cancel: %+v", got)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return stockOf(t, shop, "SCF-1") == before }, "the stock did not go back on hand")
	b.get("/admin/orders?status=cancelled").expect(t, 200).contains(t, o.Number)
	// Shipping a cancelled order: 409, nothing changed.
	b.post(page, page+"/ship", url.Values{"tracking_number": {"T-1"}}).expect(t, http.StatusConflict).contains(t, "it cannot be shipped")
	if got := orderAsGuest(t, shop, o); got.Status != orders.StatusCancelled || got.TrackingNumber != nil {
		t.Fatalf("a refused ship changed the order: %+v", got)
	}
}

func TestAdminListsOrdersInPages(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	signIn(t, shop, b, adminEmail, adminPassword)
	// 27 orders, one more page than fits on one: all the scarves (20) and
	// 7 boots.
	var placed []orders.Order
	for i := range 20 {
		placed = append(placed, guestOrder(t, shop, fmt.Sprintf("p%d@example.com", i), "SCF-1", 1))
	}
	for i := range 7 {
		placed = append(placed, guestOrder(t, shop, fmt.Sprintf("q%d@example.com", i), "BOOT-42", 1))
	}
	first := b.get("/admin/orders").expect(t, 200)
	next := regexp.MustCompile(`id="next-page" href="([^"]+)"`).FindStringSubmatch(first.Body)
	if next == nil {
		t.Fatal("27 orders fit on one page")
	}
	newest, oldest := placed[len(placed)-1], placed[0]
	if !strings.Contains(first.Body, newest.Number) || strings.Contains(first.Body, oldest.Number) {
		t.Fatal("the first page is not the newest orders")
	}
	second := b.get(strings.ReplaceAll(next[1], "&amp;", "&")).expect(t, 200).contains(t, oldest.Number, "First page")
	if strings.Contains(second.Body, newest.Number) || strings.Contains(second.Body, `id="next-page"`) {
		t.Fatal("the second page repeats the first or goes on")
	}
	b.get("/admin/orders?status=bogus").expect(t, 422)
	b.get("/admin/orders?cursor=bogus").expect(t, 422)
}

func TestAdminSeesCustomers(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	var reg struct {
		AccessToken string `json:"access_token"`
		Customer    struct{ ID string }
	}
	testkit.Expect(t, shop.Post("/v1/auth/register", "", map[string]string{"email": "Kim.Lee@Example.com", "password": "a long enough password", "name": "Kim Lee"}),
		http.StatusCreated).JSON(t, &reg)
	testkit.Expect(t, shop.Post("/v1/me/addresses", reg.AccessToken, map[string]any{"name": "Kim Lee", "line1": "Elm Road 9", "city": "Leeds",
		"postal_code": "LS1 4AP", "country": "GB"}), http.StatusCreated)
	// Kim's order, from Kim's cart.
	var cart struct{ ID string }
	testkit.Expect(t, shop.Get("/v1/me/cart", reg.AccessToken), http.StatusOK).JSON(t, &cart)
	testkit.Expect(t, shop.Post("/v1/carts/"+cart.ID+"/items", reg.AccessToken, map[string]any{"sku": "RUN-40", "quantity": 1}), http.StatusCreated)
	var co struct{ ID string }
	testkit.Expect(t, shop.Post("/v1/carts/"+cart.ID+"/checkout", reg.AccessToken, map[string]any{
		"shipping_address": map[string]any{"name": "Kim Lee", "line1": "Elm Road 9", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}}),
		http.StatusCreated).JSON(t, &co)
	var kims orders.Order
	testkit.Expect(t, shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/orders", Token: reg.AccessToken, Header: map[string]string{"Idempotency-Key": "kim-1"},
		Body: map[string]any{"checkout_id": co.ID, "payment_method": "pm_card_mastercard"}}), http.StatusCreated).JSON(t, &kims)
	other := guestOrder(t, shop, "someone@example.com", "SCF-1", 1)

	b := newBrowser(t, shop)
	signIn(t, shop, b, adminEmail, adminPassword)
	list := b.get("/admin/customers").expect(t, 200).contains(t, "kim.lee@example.com", "Kim Lee", adminEmail)
	if strings.Index(list.Body, "kim.lee@example.com") > strings.Index(list.Body, adminEmail) {
		t.Fatal("the list is not newest first")
	}
	found := b.get("/admin/customers?email=KIM").expect(t, 200).contains(t, "kim.lee@example.com")
	if strings.Contains(found.Body, adminEmail+"</a>") {
		t.Fatal("the e-mail prefix search does not filter")
	}
	b.get("/admin/customers?email=nobody").expect(t, 200).contains(t, "No customers")
	b.get("/admin/customers?email="+url.QueryEscape("%")).expect(t, 200).contains(t, "No customers") // not a pattern

	detail := b.get("/admin/customers/"+reg.Customer.ID).expect(t, 200).contains(t, "kim.lee@example.com", "customer", "Elm Road 9", "LS1 4AP", kims.Number)
	if strings.Contains(detail.Body, other.Number) {
		t.Fatal("a customer's page lists another's order")
	}
	b.get("/admin/customers/nope").expect(t, 404)
	b.get("/admin/customers?cursor=bogus").expect(t, 422).contains(t, "cursor")
	// The order page links its account.
	b.get("/admin/orders/"+kims.ID).expect(t, 200).contains(t, `href="/admin/customers/`+reg.Customer.ID+`"`)
}

func TestTheBackOfficeIsForAdmins(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	o := guestOrder(t, shop, "ann@example.com", "SCF-1", 1)
	guest := newBrowser(t, shop)
	for _, path := range []string{"/admin", "/admin/orders", "/admin/orders/" + o.ID, "/admin/customers", "/admin/dead-letters"} {
		p := guest.get(path).expect(t, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "/signin?next=") {
			t.Fatalf("%s sends a guest to %q", path, loc)
		}
	}
	testkit.Expect(t, shop.Post("/v1/auth/register", "", map[string]string{"email": "eve@example.com", "password": "a long enough password", "name": "Eve"}), http.StatusCreated)
	eve := newBrowser(t, shop)
	signIn(t, shop, eve, "eve@example.com", "a long enough password")
	for _, path := range []string{"/admin", "/admin/orders", "/admin/orders/" + o.ID, "/admin/customers", "/admin/dead-letters"} {
		eve.get(path).expect(t, http.StatusForbidden)
	}
	eve.post("/", "/admin/orders/"+o.ID+"/cancel", nil).expect(t, http.StatusForbidden)
	if got := orderAsGuest(t, shop, o); got.Status != orders.StatusPlaced {
		t.Fatalf("a customer cancelled an order from the back office: %s", got.Status)
	}
}

// labels is a module whose consumer of shipped orders fails until fixed
// (a label printer that is offline), so shipping makes a dead letter.
type labels struct {
	mu      sync.Mutex
	fixed   bool
	printed []string
}

func (l *labels) module() app.Module {
	return app.Module{Name: "labels", Local: fx.Module("labels",
		modkit.Describe(modkit.Descriptor{Name: "labels", Consumes: []string{orders.EventOrderShipped}}),
		modkit.Storage("labels"),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer {
			return ob.Consumer("print", events.On(func(ctx context.Context, tx *events.Tx, e orders.OrderShipped) error {
				l.mu.Lock()
				defer l.mu.Unlock()
				if !l.fixed {
					return errors.New("label printer offline")
				}
				l.printed = append(l.printed, e.Number)
				return nil
			}))
		}),
	)}
}

func TestAdminReplaysADeadLetter(t *testing.T) {
	lb := &labels{}
	env := map[string]string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": adminEmail, "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": adminPassword}
	shop := testkit.Start(t, append(append([]app.Module{}, shopModules...), lb.module()), testkit.Options{Env: env})
	seedCatalog(t, shop)
	b := newBrowser(t, shop)
	signIn(t, shop, b, adminEmail, adminPassword)
	b.get("/admin/dead-letters").expect(t, 200).contains(t, "No dead letters waiting", "each shows its own")
	b.get("/admin/dead-letters?cursor=bogus").expect(t, 422).contains(t, "cursor")

	o := guestOrder(t, shop, "ann@example.com", "SCF-1", 1)
	page := "/admin/orders/" + o.ID
	b.post(page, page+"/ship", url.Values{"tracking_number": {"UPS-1"}}).expect(t, http.StatusSeeOther)
	testkit.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(b.get("/admin/dead-letters").Body, "label printer offline")
	}, "no dead letter after the consumer failed")
	list := b.get("/admin/dead-letters").expect(t, 200).contains(t, "labels.print", orders.EventOrderShipped, o.ID, ">4<")
	if !regexp.MustCompile(`<span class="stat">1</span> dead letters waiting`).MatchString(b.get("/admin").Body) {
		t.Fatal("the dashboard does not count the dead letter")
	}
	action := regexp.MustCompile(`action="(/admin/dead-letters/labels/\d+/replay)"`).FindStringSubmatch(list.Body)
	if action == nil {
		t.Fatalf("no replay button:\n%s", list.Body)
	}

	// Replayed while the printer is still offline: 409, the letter stays.
	b.post("/admin/dead-letters", action[1], nil).expect(t, http.StatusConflict).contains(t, "the consumer failed again")
	b.get("/admin/dead-letters").contains(t, "label printer offline")

	// Fixed, replayed: handled once, hidden unless replayed ones are asked for.
	lb.mu.Lock()
	lb.fixed = true
	lb.mu.Unlock()
	b.post("/admin/dead-letters", action[1], nil).expect(t, http.StatusSeeOther)
	b.get("/admin/dead-letters").expect(t, 200).contains(t, "The dead letter was replayed", "No dead letters waiting")
	lb.mu.Lock()
	printed := append([]string(nil), lb.printed...)
	lb.mu.Unlock()
	if len(printed) != 1 || printed[0] != o.Number {
		t.Fatalf("printed %v, want [%s]", printed, o.Number)
	}
	b.get("/admin/dead-letters?include_replayed=1").expect(t, 200).contains(t, "labels.print", "replayed ")
	// A second replay: 404, nothing handled again.
	b.post("/admin/dead-letters", action[1], nil).expect(t, http.StatusNotFound)
	b.post("/admin/dead-letters", "/admin/dead-letters/nosuch/1/replay", nil).expect(t, http.StatusNotFound)
	if lb.mu.Lock(); len(lb.printed) != 1 {
		t.Fatalf("printed %v after a second replay", lb.printed)
	}
	lb.mu.Unlock()
}
