package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit"
)

// The account pages: registration, sign-in and its limits, sign-out, the
// guest cart merged at sign-in, the profile, the address book and the
// order history, against the whole shop.

func (p page) location() string { return p.Header.Get("Location") }

// expectRedirect fails unless the page is a 303 to where.
func (p page) expectRedirect(t testing.TB, where string) page {
	t.Helper()
	p.expect(t, http.StatusSeeOther)
	if got := p.location(); got != where {
		t.Fatalf("redirect to %q, want %q", got, where)
	}
	return p
}

// lacks fails if the page's body holds any s.
func (p page) lacks(t testing.TB, ss ...string) page {
	t.Helper()
	for _, s := range ss {
		if strings.Contains(p.Body, s) {
			t.Fatalf("the page has %q", s)
		}
	}
	return p
}

// cookie is the browser's cookie of that name, "" if none.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// registerAs registers through the form and expects to land on /account.
func registerAs(t testing.TB, b *browser, name, email, password string) page {
	t.Helper()
	return b.post("/register", "/register", url.Values{"name": {name}, "email": {email}, "password": {password}}).
		expectRedirect(t, "/account")
}

// apiLogin signs in through the JSON API and answers the access token.
func apiLogin(t testing.TB, shop *testkit.Shop, email, password string) string {
	t.Helper()
	var s struct {
		AccessToken string `json:"access_token"`
	}
	testkit.Expect(t, shop.Post("/v1/auth/login", "", map[string]string{"email": email, "password": password}), http.StatusOK).JSON(t, &s)
	return s.AccessToken
}

type apiCart struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Items  []struct {
		SKU      string `json:"sku"`
		Quantity int64  `json:"quantity"`
	} `json:"items"`
}

func (c apiCart) quantity(sku string) int64 {
	for _, it := range c.Items {
		if it.SKU == sku {
			return it.Quantity
		}
	}
	return 0
}

func TestAccountRegisterSignOutAndSignIn(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)

	// The forms: every input labelled, a CSRF token.
	b.get("/register").expect(t, 200).contains(t, `<label for="register-name">`, `<label for="register-email">`,
		`<label for="register-password">`, `name="csrf"`)

	// Bad input: a 422 naming each field, the input kept but the password.
	p := b.post("/register", "/register", url.Values{"name": {"Rita Roe"}, "email": {"not-an-address"}, "password": {"short"}}).
		expect(t, http.StatusUnprocessableEntity).contains(t, `id="register-email-error"`, `id="register-password-error"`,
		"must be at least 8 characters", `value="Rita Roe"`, `value="not-an-address"`).lacks(t, `value="short"`, `id="register-name-error"`)
	_ = p
	if b.cookie("modshop_session") != "" {
		t.Fatal("a refused registration started a session")
	}

	// Registered: signed in (a session cookie with the right flags), the
	// header shows the name, the account page opens.
	p = registerAs(t, b, "Rita Roe", "Rita@Example.com", "rita-password-1")
	var session *http.Cookie
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "modshop_session" {
			session = c
		}
	}
	if session == nil || session.Value == "" || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Fatalf("session cookie %+v", session)
	}
	b.get("/account").expect(t, 200).contains(t, `<a href="/account">Rita Roe</a>`, "rita@example.com", "Welcome, Rita Roe!")
	b.get("/").expect(t, 200).contains(t, "Rita Roe", `action="/signout"`)

	// The same e-mail again, from another browser: a message on the field.
	other := newBrowser(t, shop)
	other.post("/register", "/register", url.Values{"name": {"Imposter"}, "email": {"rita@example.com"}, "password": {"another-password"}}).
		expect(t, http.StatusConflict).contains(t, `id="register-email-error"`, "is already registered", `value="Imposter"`)
	if other.cookie("modshop_session") != "" {
		t.Fatal("a refused registration started a session")
	}

	// Signed out: the account page sends to the sign-in form, which keeps
	// where to go next.
	b.post("/account", "/signout", nil).expectRedirect(t, "/")
	b.get("/").expect(t, 200).contains(t, "You are signed out.", `href="/signin"`).lacks(t, "Rita Roe")
	b.get("/account").expectRedirect(t, "/signin?next=%2Faccount")
	b.get("/signin?next=%2Faccount").expect(t, 200).contains(t, `<input type="hidden" name="next" value="/account">`)

	// Nothing typed: each field says so, and nothing is counted.
	b.post("/signin", "/signin", url.Values{"email": {""}, "password": {""}}).expect(t, http.StatusUnprocessableEntity).
		contains(t, `id="signin-email-error"`, `id="signin-password-error"`, "Password is required")

	// A wrong password: one generic message, 401, the e-mail kept, no
	// session; an unknown e-mail answers the very same.
	wrong := b.post("/signin", "/signin", url.Values{"email": {"rita@example.com"}, "password": {"wrong-password"}, "next": {"/account"}}).
		expect(t, http.StatusUnauthorized).contains(t, "The e-mail or password is wrong.", `value="rita@example.com"`,
		`<input type="hidden" name="next" value="/account">`).lacks(t, `value="wrong-password"`)
	unknown := b.post("/signin", "/signin", url.Values{"email": {"nobody@example.com"}, "password": {"wrong-password"}}).
		expect(t, http.StatusUnauthorized).contains(t, "The e-mail or password is wrong.")
	if b.cookie("modshop_session") != "" {
		t.Fatal("a failed sign-in started a session")
	}
	b.get("/account").expectRedirect(t, "/signin?next=%2Faccount")
	_, _ = wrong, unknown

	// Signed in: back to where the access check sent from.
	b.post("/signin", "/signin", url.Values{"email": {" RITA@example.com "}, "password": {"rita-password-1"}, "next": {"/account"}}).
		expectRedirect(t, "/account")
	b.get("/account").expect(t, 200).contains(t, "Rita Roe")
	// A next that leaves the site is not followed.
	b.post("/account", "/signout", nil).expectRedirect(t, "/")
	b.post("/signin", "/signin", url.Values{"email": {"rita@example.com"}, "password": {"rita-password-1"}, "next": {"//evil.example/"}}).
		expectRedirect(t, "/account")
	b.post("/account", "/signout", nil).expectRedirect(t, "/")

	// Guessing: the customers module's limits apply to the form as to the
	// JSON API; the answer says how long to wait.
	limited := page{}
	for i := 0; i < 25 && limited.Status == 0; i++ {
		p := b.post("/signin", "/signin", url.Values{"email": {"rita@example.com"}, "password": {"guess-" + strconv.Itoa(i)}})
		switch p.Status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			limited = p
		default:
			p.expect(t, http.StatusUnauthorized)
		}
	}
	if limited.Status == 0 {
		t.Fatal("25 wrong passwords in a row were never limited")
	}
	limited.contains(t, "Too many failed sign-ins", "Please try again in", `role="alert"`, `value="rita@example.com"`)
	m := regexp.MustCompile(`try again in (\d+) seconds?`).FindStringSubmatch(html.UnescapeString(limited.Body))
	ra, err := strconv.Atoi(limited.Header.Get("Retry-After"))
	if m == nil || err != nil || ra < 1 || m[1] != strconv.Itoa(ra) {
		t.Fatalf("limited: Retry-After %q, message %v", limited.Header.Get("Retry-After"), m)
	}
	// The API login sees the same counters: it is refused too.
	testkit.ExpectProblem(t, shop.Post("/v1/auth/login", "", map[string]string{"email": "rita@example.com", "password": "rita-password-1"}),
		http.StatusTooManyRequests, "rate_limited")
	if b.cookie("modshop_session") != "" {
		t.Fatal("a limited sign-in started a session")
	}
}

func TestAccountGuestCartIsMergedAtSignIn(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	registerAs(t, b, "Gus Guest", "gus@example.com", "gus-password-1")
	b.post("/account", "/signout", nil).expectRedirect(t, "/")

	// The customer's own cart already holds one boot.
	token := apiLogin(t, shop, "gus@example.com", "gus-password-1")
	var mine apiCart
	testkit.Expect(t, shop.Get("/v1/me/cart", token), http.StatusOK).JSON(t, &mine)
	testkit.Expect(t, shop.Post("/v1/carts/"+mine.ID+"/items", token, map[string]any{"sku": "BOOT-42", "quantity": 1}), http.StatusCreated)

	// As a guest, the shopper fills a cart, whose id the browser keeps.
	var guest apiCart
	testkit.Expect(t, shop.Post("/v1/carts", "", nil), http.StatusCreated).JSON(t, &guest)
	testkit.Expect(t, shop.Post("/v1/carts/"+guest.ID+"/items", "", map[string]any{"sku": "SCF-1", "quantity": 2}), http.StatusCreated)
	testkit.Expect(t, shop.Post("/v1/carts/"+guest.ID+"/items", "", map[string]any{"sku": "BOOT-42", "quantity": 1}), http.StatusCreated)
	b.setCookie("modshop_cart", guest.ID)

	// Signing in on the way to checkout merges it and goes on there.
	b.get("/signin?next=%2Fcheckout").expect(t, 200).contains(t, `<input type="hidden" name="next" value="/checkout">`)
	b.post("/signin?next=%2Fcheckout", "/signin", url.Values{"email": {"gus@example.com"}, "password": {"gus-password-1"}, "next": {"/checkout"}}).
		expectRedirect(t, "/checkout")
	if c := b.cookie("modshop_cart"); c != "" {
		t.Fatalf("the guest cart cookie %q is still set", c)
	}
	testkit.Expect(t, shop.Get("/v1/me/cart", token), http.StatusOK).JSON(t, &mine)
	if mine.quantity("SCF-1") != 2 || mine.quantity("BOOT-42") != 2 || len(mine.Items) != 2 {
		t.Fatalf("the customer's cart after the merge: %+v", mine)
	}
	testkit.Expect(t, shop.Get("/v1/carts/"+guest.ID, ""), http.StatusOK).JSON(t, &guest)
	if guest.Status != "merged" {
		t.Fatalf("the guest cart is %q", guest.Status)
	}

	// A cart that cannot be merged (merged already) does not stop a
	// sign-in; nothing is merged twice.
	b.post("/account", "/signout", nil).expectRedirect(t, "/")
	b.setCookie("modshop_cart", guest.ID)
	b.post("/signin", "/signin", url.Values{"email": {"gus@example.com"}, "password": {"gus-password-1"}}).expectRedirect(t, "/account")
	b.get("/account").expect(t, 200).contains(t, "Gus Guest")
	testkit.Expect(t, shop.Get("/v1/me/cart", token), http.StatusOK).JSON(t, &mine)
	if mine.quantity("SCF-1") != 2 || mine.quantity("BOOT-42") != 2 {
		t.Fatalf("the customer's cart after a second sign-in: %+v", mine)
	}
	if c := b.cookie("modshop_cart"); c != "" {
		t.Fatalf("the guest cart cookie %q is still set", c)
	}

	// So does a registration: a new account starts with the guest's cart.
	var second apiCart
	testkit.Expect(t, shop.Post("/v1/carts", "", nil), http.StatusCreated).JSON(t, &second)
	testkit.Expect(t, shop.Post("/v1/carts/"+second.ID+"/items", "", map[string]any{"sku": "RUN-40", "quantity": 1}), http.StatusCreated)
	nb := newBrowser(t, shop)
	nb.setCookie("modshop_cart", second.ID)
	registerAs(t, nb, "Nina New", "nina@example.com", "nina-password-1")
	var hers apiCart
	testkit.Expect(t, shop.Get("/v1/me/cart", apiLogin(t, shop, "nina@example.com", "nina-password-1")), http.StatusOK).JSON(t, &hers)
	if hers.quantity("RUN-40") != 1 || len(hers.Items) != 1 {
		t.Fatalf("the new account's cart: %+v", hers)
	}
}

var addressRow = regexp.MustCompile(`<tr id="address-([0-9a-f-]{36})">`)

func TestAccountProfileAddressesAndOrders(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	registerAs(t, b, "Paula Page", "paula@example.com", "paula-password-1")
	b.get("/account").expect(t, 200).contains(t, `id="address-none"`, `id="orders-none"`, `value="Paula Page"`)

	// The name: an empty one is refused on its field; a new one shows in
	// the header at once.
	b.post("/account", "/account/profile", url.Values{"name": {"   "}}).expect(t, http.StatusUnprocessableEntity).
		contains(t, `id="profile-name-error"`, "Name is required")
	b.post("/account", "/account/profile", url.Values{"name": {" Paula P. Page "}}).expectRedirect(t, "/account")
	b.get("/account").expect(t, 200).contains(t, `<a href="/account">Paula P. Page</a>`, `value="Paula P. Page"`, "Your name is now Paula P. Page.")

	// An address with mistakes: 422, each field named, the input kept,
	// nothing added.
	bad := url.Values{"name": {"Paula Page"}, "line1": {"Hauptstr. 5"}, "city": {""}, "postal_code": {"10115"}, "country": {"XX"}, "phone": {"call me"}}
	b.post("/account", "/account/addresses", bad).expect(t, http.StatusUnprocessableEntity).
		contains(t, `id="address-city-error"`, `id="address-country-error"`, `id="address-phone-error"`, `value="Hauptstr. 5"`, `value="XX"`).
		lacks(t, `id="address-name-error"`, `id="address-postal-code-error"`)
	b.get("/account").expect(t, 200).contains(t, `id="address-none"`)

	// Added, normalized by the customers module's rules.
	good := url.Values{"name": {" Paula Page "}, "line1": {"Hauptstr. 5"}, "city": {"Berlin"}, "postal_code": {"10115"}, "country": {"de"}}
	b.post("/account", "/account/addresses", good).expectRedirect(t, "/account#addresses")
	p := b.get("/account").expect(t, 200).contains(t, "Address added.", "Hauptstr. 5", "10115 Berlin", "<br>DE</td>")
	m := addressRow.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no address row")
	}
	id := m[1]
	token := apiLogin(t, shop, "paula@example.com", "paula-password-1")
	var book struct {
		Items []struct{ ID, Name, Country string } `json:"items"`
	}
	testkit.Expect(t, shop.Get("/v1/me/addresses", token), http.StatusOK).JSON(t, &book)
	if len(book.Items) != 1 || book.Items[0].ID != id || book.Items[0].Name != "Paula Page" || book.Items[0].Country != "DE" {
		t.Fatalf("the address book: %+v", book)
	}

	// Edited: a bad postal code is refused on its field and changes
	// nothing; then the city changes.
	b.get("/account/addresses/"+id).expect(t, 200).contains(t, `id="address-edit-form"`, `value="Hauptstr. 5"`, `value="Berlin"`)
	edit := url.Values{"name": {"Paula Page"}, "line1": {"Hauptstr. 5"}, "city": {"Potsdam"}, "postal_code": {"14467!"}, "country": {"DE"}}
	b.post("/account/addresses/"+id, "/account/addresses/"+id, edit).expect(t, http.StatusUnprocessableEntity).
		contains(t, `id="address-postal-code-error"`, `value="Potsdam"`, `value="14467!"`)
	b.get("/account").expect(t, 200).contains(t, "10115 Berlin").lacks(t, "Potsdam")
	edit.Set("postal_code", "14467")
	b.post("/account/addresses/"+id, "/account/addresses/"+id, edit).expectRedirect(t, "/account#addresses")
	b.get("/account").expect(t, 200).contains(t, "Address saved.", "14467 Potsdam").lacks(t, "Berlin")

	// Another customer cannot see, edit or remove it.
	o := newBrowser(t, shop)
	registerAs(t, o, "Otto Other", "otto@example.com", "otto-password-1")
	o.get("/account/addresses/"+id).expect(t, http.StatusNotFound)
	o.post("/account", "/account/addresses/"+id, url.Values{"name": {"Otto"}, "line1": {"Elsewhere 1"}, "city": {"Bonn"},
		"postal_code": {"53111"}, "country": {"DE"}}).expect(t, http.StatusNotFound)
	o.post("/account", "/account/addresses/"+id+"/delete", nil).expect(t, http.StatusNotFound)
	b.get("/account").expect(t, 200).contains(t, "14467 Potsdam")

	// Removed.
	b.post("/account", "/account/addresses/"+id+"/delete", nil).expectRedirect(t, "/account#addresses")
	b.get("/account").expect(t, 200).contains(t, "Address removed.", `id="address-none"`).lacks(t, "Potsdam")
	testkit.Expect(t, shop.Get("/v1/me/addresses", token), http.StatusOK).JSON(t, &book)
	if len(book.Items) != 0 {
		t.Fatalf("the address book after removal: %+v", book)
	}

	// An order placed through the JSON API shows in the history, with a
	// link to its page.
	order := placeOrder(t, shop, token, "SCF-1", 2)
	b.get("/account").expect(t, 200).contains(t, `<a href="/orders/`+order.ID+`">`+order.Number+`</a>`, "placed", "€43.00").
		lacks(t, `id="orders-none"`, `id="orders-older"`)
	// Someone else's history does not show it.
	o.get("/account").expect(t, 200).contains(t, `id="orders-none"`).lacks(t, order.Number)
	// A cursor made up by hand shows the newest orders, not an error.
	b.get("/account?orders=nonsense").expect(t, 200).contains(t, order.Number)
}

type apiOrder struct {
	ID     string `json:"id"`
	Number string `json:"number"`
}

// placeOrder places an order of quantity of sku from the token's
// customer's cart through the JSON API, and waits until the order closed
// the cart (by an event), so that the next order starts a new one.
func placeOrder(t testing.TB, shop *testkit.Shop, token, sku string, quantity int64) apiOrder {
	t.Helper()
	var c apiCart
	testkit.Expect(t, shop.Get("/v1/me/cart", token), http.StatusOK).JSON(t, &c)
	testkit.Expect(t, shop.Post("/v1/carts/"+c.ID+"/items", token, map[string]any{"sku": sku, "quantity": quantity}), http.StatusCreated)
	var co struct{ ID string }
	testkit.Expect(t, shop.Post("/v1/carts/"+c.ID+"/checkout", token, map[string]any{"shipping_address": map[string]any{
		"name": "Paula Page", "line1": "Hauptstr. 5", "city": "Berlin", "postal_code": "10115", "country": "DE"}}), http.StatusCreated).JSON(t, &co)
	var o apiOrder
	testkit.Expect(t, shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/orders", Token: token,
		Header: map[string]string{"Idempotency-Key": "order-" + co.ID},
		Body:   map[string]any{"checkout_id": co.ID, "payment_method": "pm_card_visa"}}), http.StatusCreated).JSON(t, &o)
	testkit.Eventually(t, 10*time.Second, func() bool {
		var now apiCart
		r := shop.Get("/v1/carts/"+c.ID, token)
		if r.Status != http.StatusOK {
			return false
		}
		r.JSON(t, &now)
		return now.Status == "checked_out"
	}, "the cart of order %s was not closed", o.Number)
	return o
}

var orderLink = regexp.MustCompile(`<a href="/orders/([^"]+)">([^<]+)</a>`)
var olderLink = regexp.MustCompile(`<a href="(/account\?orders=[^"#]+)#orders" id="orders-older"`)

func TestAccountOrderHistoryPages(t *testing.T) {
	shop := startShop(t, testkit.Options{})
	b := newBrowser(t, shop)
	registerAs(t, b, "Olga Often", "olga@example.com", "olga-password-1")
	token := apiLogin(t, shop, "olga@example.com", "olga-password-1")
	var placed []apiOrder // oldest first
	for i := range 21 {
		sku := "SCF-1"
		if i == 20 {
			sku = "RUN-40"
		}
		placed = append(placed, placeOrder(t, shop, token, sku, 1))
	}

	// The newest 20, newest first, and a link to the rest.
	p := b.get("/account").expect(t, 200)
	rows := orderLink.FindAllStringSubmatch(p.Body, -1)
	if len(rows) != 20 || rows[0][1] != placed[20].ID || rows[19][1] != placed[1].ID {
		t.Fatalf("the first page lists %d orders: %v", len(rows), rows)
	}
	p.lacks(t, `id="orders-newest"`)
	m := olderLink.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no link to older orders")
	}
	// The oldest on the next page, with a way back and no further.
	p = b.get(html.UnescapeString(m[1])).expect(t, 200).contains(t, `id="orders-newest"`).lacks(t, `id="orders-older"`)
	rows = orderLink.FindAllStringSubmatch(p.Body, -1)
	if len(rows) != 1 || rows[0][1] != placed[0].ID || rows[0][2] != placed[0].Number {
		t.Fatalf("the second page lists %v", rows)
	}
}
