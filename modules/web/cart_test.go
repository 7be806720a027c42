package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	orders "github.com/modshop/modshop/modules/orders/api"
	webstore "github.com/modshop/modshop/modules/web/internal/store"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// The cart, checkout and order pages, as a guest's browser uses them, with
// outcomes checked through the JSON API: the order exists with the lines
// and total the pages showed, and one form never places two orders.

// cartLineID is the id of the cart line of sku, read from its update form.
func cartLineID(t *testing.T, cartPage, sku string) string {
	t.Helper()
	m := regexp.MustCompile(`<tr id="line-` + regexp.QuoteMeta(sku) + `">[\s\S]*?action="/cart/items/([^"/]+)"`).FindStringSubmatch(cartPage)
	if m == nil {
		t.Fatalf("the cart has no line of %s", sku)
	}
	return m[1]
}

var cartKeyField = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)

// cartCheckoutKey is the idempotency key of the checkout form on a page.
func cartCheckoutKey(t *testing.T, p page) string {
	t.Helper()
	m := cartKeyField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("the page has no checkout form (status %d):\n%.2000s", p.Status, p.Body)
	}
	return m[1]
}

// cartCheckoutForm is a filled-in checkout form.
func cartCheckoutForm(csrf, key, method string) url.Values {
	return url.Values{"csrf": {csrf}, "idempotency_key": {key}, "email": {"gus@example.com"}, "name": {"Gus Guest"},
		"line1": {"Hauptstr. 1"}, "city": {"Berlin"}, "postal_code": {"10115"}, "country": {"DE"}, "payment_method": {method}}
}

// cartStart gives the browser a guest cart holding quantity of sku, made
// through the JSON API and remembered in the cart cookie as the pages do
// (the cart's id is a guest's capability), so that the cart page has
// forms, and their CSRF token, before any product page does.
func (b *browser) cartStart(t *testing.T, shop *testkit.Shop, sku string, quantity int) {
	t.Helper()
	var c struct{ ID string }
	testkit.Expect(t, shop.Post("/v1/carts", "", nil), http.StatusCreated).JSON(t, &c)
	testkit.Expect(t, shop.Post("/v1/carts/"+c.ID+"/items", "", map[string]any{"sku": sku, "quantity": quantity}), http.StatusCreated)
	u, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "modshop_cart", Value: c.ID, Path: "/"}})
}

// cartAdd posts the product page's form (from the cart page, which
// carries the same CSRF token) and expects the cart.
func (b *browser) cartAdd(t *testing.T, sku, quantity string) page {
	t.Helper()
	p := b.post("/cart", "/cart/items", url.Values{"sku": {sku}, "quantity": {quantity}}).expect(t, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/cart" {
		t.Fatalf("adding %s went to %q, want /cart", sku, loc)
	}
	return p
}

// cartAdminOrders is every order as the admin JSON API lists them.
func cartAdminOrders(t *testing.T, shop *testkit.Shop) []orders.Order {
	t.Helper()
	var list struct{ Items []orders.Order }
	testkit.Expect(t, shop.Get("/v1/admin/orders?limit=100", shop.AdminToken()), http.StatusOK).JSON(t, &list)
	return list.Items
}

var cartOrderLocation = regexp.MustCompile(`^/orders/([^/?]+)\?token=([^&]+)$`)

func TestGuestShopsAndChecksOut(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)

	b.get("/cart").expect(t, http.StatusOK).contains(t, `id="cart-empty"`, "Your cart is empty")
	b.cartStart(t, shop, "BOOT-42", 1)
	b.cartAdd(t, "BOOT-42", "1")
	b.cartAdd(t, "RUN-40", "1")
	cart := b.get("/cart").expect(t, http.StatusOK).contains(t, "Added 1 × Running Shoes – Blue, EU 40 to your cart.",
		"Leather Boots – Brown, EU 42", `href="/products/leather-boots"`, "€129.00", "€347.00", `<span class="count" aria-label="3 items">3</span>`)

	// A quantity changed, a line removed.
	b.post("/cart", "/cart/items/"+cartLineID(t, cart.Body, "BOOT-42"), url.Values{"quantity": {"3"}}).expect(t, http.StatusSeeOther)
	b.post("/cart", "/cart/items/"+cartLineID(t, cart.Body, "RUN-40")+"/remove", nil).expect(t, http.StatusSeeOther)
	cart = b.get("/cart").expect(t, http.StatusOK).contains(t, "Removed the line", `<dd id="cart-subtotal">€387.00</dd>`, `<dd id="cart-count">3</dd>`)
	if strings.Contains(cart.Body, "RUN-40") {
		t.Fatal("the removed line is still in the cart")
	}

	// Checkout with a card that approves: the order page through the
	// guest's token link.
	form := b.get("/checkout").expect(t, http.StatusOK).contains(t, `id="checkout"`, `value="pm_card_visa"`, `value="pm_card_chargeDeclined"`)
	placed := b.post("/checkout", "/checkout", cartCheckoutForm(b.csrf("/checkout"), cartCheckoutKey(t, form), "pm_card_visa")).expect(t, http.StatusSeeOther)
	m := cartOrderLocation.FindStringSubmatch(placed.Header.Get("Location"))
	if m == nil {
		t.Fatalf("placing went to %q, want the order's token link", placed.Header.Get("Location"))
	}
	id, token := m[1], m[2]
	var o orders.Order
	testkit.Expect(t, shop.Get("/v1/orders/"+id+"?token="+token, ""), http.StatusOK).JSON(t, &o)
	if len(o.Lines) != 1 || o.Lines[0].SKU != "BOOT-42" || o.Lines[0].Quantity != 3 || o.Total.Amount != 3*12900 ||
		o.Status != orders.StatusPlaced || o.Email != "gus@example.com" || o.ShippingAddress.City != "Berlin" {
		t.Fatalf("the order placed: %+v", o)
	}
	b.get(placed.Header.Get("Location")).expect(t, http.StatusOK).contains(t, "Thank you! Your order "+o.Number+" is placed.",
		"Order "+o.Number, "Keep this link", "?token="+token, "Hauptstr. 1", "visa card", `<dd id="order-total">€387.00</dd>`)
	b.get("/cart").expect(t, http.StatusOK).contains(t, "Your cart is empty")

	// Shipped, the page says so, with the tracking number.
	testkit.Expect(t, shop.Post("/v1/admin/orders/"+id+"/ship", shop.AdminToken(), map[string]string{"tracking_number": "TRK-4711"}), http.StatusOK)
	b.get(placed.Header.Get("Location")).expect(t, http.StatusOK).contains(t, `<strong class="badge">shipped</strong>`, `<strong id="tracking">TRK-4711</strong>`)

	// Without the token, with a wrong one, or from another browser: not
	// found, as an order that does not exist.
	b.get("/orders/"+id).expect(t, http.StatusNotFound)
	b.get("/orders/"+id+"?token=wrong").expect(t, http.StatusNotFound)
	newBrowser(t, shop).get("/orders/"+id+"?token="+token[:len(token)-2]+"xx").expect(t, http.StatusNotFound)
	newBrowser(t, shop).get("/orders/no-such-order").expect(t, http.StatusNotFound)
}

func TestDeclinedCardKeepsTheFormAndPlacesNothing(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	b.cartStart(t, shop, "SCF-1", 2)

	first := cartCheckoutKey(t, b.get("/checkout").expect(t, http.StatusOK))
	declined := b.post("/checkout", "/checkout", cartCheckoutForm(b.csrf("/checkout"), first, "pm_card_chargeDeclined")).
		expect(t, http.StatusPaymentRequired).contains(t, `role="alert"`, "The card was declined.", "No order was placed",
		`value="gus@example.com"`, `value="Hauptstr. 1"`, `value="10115"`)
	if n := len(cartAdminOrders(t, shop)); n != 0 {
		t.Fatalf("%d orders after a declined card", n)
	}
	retry := cartCheckoutKey(t, declined)
	if retry == first {
		t.Fatal("the form came back with the key of the declined attempt")
	}
	placed := b.post("/checkout", "/checkout", cartCheckoutForm(b.csrf("/cart"), retry, "pm_card_visa")).expect(t, http.StatusSeeOther)
	if !cartOrderLocation.MatchString(placed.Header.Get("Location")) {
		t.Fatalf("the retry went to %q", placed.Header.Get("Location"))
	}
	list := cartAdminOrders(t, shop)
	if len(list) != 1 || list[0].Total.Amount != 2*1900+orders.ShippingFee || list[0].Payment.Brand != "visa" {
		t.Fatalf("orders after the retry: %+v", list)
	}
}

func TestOneCheckoutFormPlacesOneOrder(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	b.cartStart(t, shop, "RUN-40", 1)
	form := cartCheckoutForm(b.csrf("/checkout"), cartCheckoutKey(t, b.get("/checkout")), "pm_card_mastercard")

	// A double click: the same form twice at once. Both answers lead to the
	// same order.
	var wg sync.WaitGroup
	locs := make([]string, 2)
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, b.base+"/checkout", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp, err := b.c.Do(req); err == nil {
				codes[i], locs[i] = resp.StatusCode, resp.Header.Get("Location")
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	// And once more, later: a reload of the answer to the form.
	again := b.post("/checkout", "/checkout", form).expect(t, http.StatusSeeOther)
	for i := range 2 {
		if codes[i] != http.StatusSeeOther || locs[i] != again.Header.Get("Location") {
			t.Fatalf("submit %d: %d to %q; the later one went to %q", i, codes[i], locs[i], again.Header.Get("Location"))
		}
	}
	if list := cartAdminOrders(t, shop); len(list) != 1 {
		t.Fatalf("%d orders from one form, want 1", len(list))
	}
	b.get(again.Header.Get("Location")).expect(t, http.StatusOK).contains(t, "Running Shoes")
}

func TestOutOfStockLinesAreFlagged(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	b.cartStart(t, shop, "SCF-1", 1)

	// SWT-L has no stock: it is not added, and the shopper is told why.
	p := b.post("/cart", "/cart/items", url.Values{"sku": {"SWT-L"}, "quantity": {"1"}}).expect(t, http.StatusSeeOther)
	b.get(p.Header.Get("Location")).contains(t, "out of stock")
	p = b.post("/cart", "/cart/items", url.Values{"sku": {"NOPE-1"}, "quantity": {"1"}}).expect(t, http.StatusSeeOther)
	b.get(p.Header.Get("Location")).contains(t, "that product is not available")
	p = b.post("/cart", "/cart/items", url.Values{"sku": {"SWT-M"}, "quantity": {"many"}}).expect(t, http.StatusSeeOther)
	b.get(p.Header.Get("Location")).contains(t, "must be a whole number from 1 to 100")

	// SWT-M in the cart, then most of its stock drained by the admin: the
	// line says how many are left, and checkout explains why it cannot go on.
	b.cartAdd(t, "SWT-M", "3")
	testkit.Expect(t, shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/admin/inventory/SWT-M/adjustments", Token: shop.AdminToken(),
		Body: map[string]any{"delta": -2, "reason": "damaged"}, Header: map[string]string{"Idempotency-Key": "drain-SWT-M"}}), http.StatusCreated)
	cart := b.get("/cart").expect(t, http.StatusOK).contains(t, `data-problem="SWT-M">Only 1 left`, `id="cart-problems"`)
	if strings.Contains(cart.Body, `data-problem="SCF-1"`) || strings.Contains(cart.Body, `id="to-checkout"`) {
		t.Fatal("the cart flags a line in stock, or offers checkout")
	}
	b.post("/cart", "/cart/items/"+cartLineID(t, cart.Body, "SWT-M"), url.Values{"quantity": {"5"}}).expect(t, http.StatusSeeOther)
	b.get("/cart").contains(t, "only 1 left in stock")
	b.get("/checkout").expect(t, http.StatusOK).contains(t, `id="checkout-problems"`, "Wool Sweater – Grey, M: Only 1 left")

	// Lowered to what is left, the cart checks out.
	b.post("/cart", "/cart/items/"+cartLineID(t, cart.Body, "SWT-M"), url.Values{"quantity": {"1"}}).expect(t, http.StatusSeeOther)
	b.get("/cart").expect(t, http.StatusOK).contains(t, `id="to-checkout"`)
	key := cartCheckoutKey(t, b.get("/checkout").expect(t, http.StatusOK))
	b.post("/checkout", "/checkout", cartCheckoutForm(b.csrf("/checkout"), key, "pm_card_visa")).expect(t, http.StatusSeeOther)
}

func TestCheckoutFieldErrors(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	b.cartStart(t, shop, "SCF-1", 1)
	form := cartCheckoutForm(b.csrf("/checkout"), cartCheckoutKey(t, b.get("/checkout")), "pm_card_visa")
	form.Set("email", "not-an-address")
	form.Set("city", "")
	b.post("/checkout", "/checkout", form).expect(t, http.StatusUnprocessableEntity).
		contains(t, `id="email-error"`, `id="city-error"`, `value="not-an-address"`, `value="Gus Guest"`)
	form.Set("payment_method", "pm_card_bogus")
	form.Set("email", "gus@example.com")
	form.Set("city", "Berlin")
	form.Set("idempotency_key", cartCheckoutKey(t, b.get("/checkout")))
	b.post("/checkout", "/checkout", form).expect(t, http.StatusUnprocessableEntity).contains(t, `id="payment_method-error"`)
	if n := len(cartAdminOrders(t, shop)); n != 0 {
		t.Fatalf("%d orders from bad forms", n)
	}
}

func TestCartFormsNeedTheCSRFToken(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	b.get("/") // the browser has its CSRF secret; the form lacks the token
	for _, path := range []string{"/cart/items", "/checkout", "/cart/items/x", "/cart/items/x/remove"} {
		req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(url.Values{"sku": {"SCF-1"}, "quantity": {"1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readPage(t, resp).expect(t, http.StatusForbidden)
	}
	b.get("/cart").contains(t, "Your cart is empty")
}

// cartSignIn registers a customer through the JSON API and gives the
// browser a session of theirs, written where the sign-in page writes it
// (the sign-in page is the account area's; this test is about the cart).
// It returns the customer's id and bearer token.
func (b *browser) cartSignIn(t *testing.T, shop *testkit.Shop, email, name string) (string, string) {
	t.Helper()
	var reg struct {
		Customer    struct{ ID string }
		AccessToken string `json:"access_token"`
	}
	testkit.Expect(t, shop.Post("/v1/auth/register", "", map[string]string{"email": email, "password": "correct horse battery", "name": name}),
		http.StatusCreated).JSON(t, &reg)
	db, err := database.Open(shop.Config.DatabaseURLFor("web"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	secret := "session-of-" + reg.Customer.ID
	now := time.Now()
	err = webstore.New(&database.Handle{Module: "web", DB: db}).Create(t.Context(), secret, webstore.Session{CustomerID: reg.Customer.ID,
		Email: email, Name: name, Role: "customer", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "modshop_session", Value: secret, Path: "/"}})
	return reg.Customer.ID, reg.AccessToken
}

func TestSignedInCustomerChecksOutToASavedAddress(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	id, token := b.cartSignIn(t, shop, "kim@example.com", "Kim")
	var saved struct{ ID string }
	testkit.Expect(t, shop.Post("/v1/me/addresses", token, map[string]string{"name": "Kim Park", "line1": "Ringstr. 9",
		"city": "Hamburg", "postal_code": "20095", "country": "DE"}), http.StatusCreated).JSON(t, &saved)

	// The customer's cart is the one the JSON API shows as theirs.
	var mine struct{ ID string }
	testkit.Expect(t, shop.Get("/v1/me/cart", token), http.StatusOK).JSON(t, &mine)
	testkit.Expect(t, shop.Post("/v1/carts/"+mine.ID+"/items", token, map[string]any{"sku": "SCF-1", "quantity": 1}), http.StatusCreated)
	b.cartAdd(t, "BOOT-43", "1")
	var c struct {
		ItemCount int64 `json:"item_count"`
	}
	testkit.Expect(t, shop.Get("/v1/me/cart", token), http.StatusOK).JSON(t, &c)
	if c.ItemCount != 2 {
		t.Fatalf("the customer's cart has %d items, want 2", c.ItemCount)
	}

	// Checkout offers the saved address (chosen) and the account's e-mail.
	form := b.get("/checkout").expect(t, http.StatusOK).contains(t, `value="kim@example.com"`,
		`id="address-`+saved.ID+`" value="`+saved.ID+`" checked`, "Ringstr. 9", `id="address-new" value="new"`)
	placed := b.post("/checkout", "/checkout", url.Values{"idempotency_key": {cartCheckoutKey(t, form)}, "email": {"kim@example.com"},
		"address_id": {saved.ID}, "payment_method": {"pm_card_mastercard"}}).expect(t, http.StatusSeeOther)
	loc := placed.Header.Get("Location")
	if !strings.HasPrefix(loc, "/orders/ord_") || strings.Contains(loc, "token=") {
		t.Fatalf("placing went to %q, want the order page without a token", loc)
	}
	var o orders.Order
	testkit.Expect(t, shop.Get("/v1"+loc, token), http.StatusOK).JSON(t, &o)
	if o.CustomerID == nil || *o.CustomerID != id || o.ShippingAddress.City != "Hamburg" || len(o.Lines) != 2 || o.Payment.Brand != "mastercard" {
		t.Fatalf("the customer's order: %+v", o)
	}
	b.get(loc).expect(t, http.StatusOK).contains(t, "Order "+o.Number, "Ringstr. 9", "mastercard card")
	if strings.Contains(b.get(loc).Body, "Keep this link") {
		t.Fatal("a customer's order page shows a guest link")
	}

	// Another customer, or a guest, does not learn that the order exists.
	other := newBrowser(t, shop)
	other.cartSignIn(t, shop, "lee@example.com", "Lee")
	other.get(loc).expect(t, http.StatusNotFound)
	newBrowser(t, shop).get(loc).expect(t, http.StatusNotFound)
}

func TestAForgottenCartIsNotShown(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	u, _ := url.Parse(b.base)
	// A cart id the cart module does not know (deleted after 30 days, or
	// made up): the cookie is dropped and the cart is empty.
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "modshop_cart", Value: "abcdefghijklmnopqrstuvwxyz", Path: "/"}})
	p := b.get("/cart").expect(t, http.StatusOK).contains(t, "Your cart is empty")
	if sc := strings.Join(p.Header.Values("Set-Cookie"), "\n"); !strings.Contains(sc, "modshop_cart=;") {
		t.Fatalf("the unknown cart's cookie is kept: %q", p.Header.Values("Set-Cookie"))
	}
	b.get("/checkout").expect(t, http.StatusOK).contains(t, "Your cart is empty")
}
