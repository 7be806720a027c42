package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	orders "github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/testkit"
	chrome "github.com/modshop/modshop/platform/testkit/browser"
)

// The journeys of issue 17, driven in headless Chromium against the whole
// shop: what a shopper or the admin clicks and reads, with the outcome
// checked through the JSON API (one order, its lines, the stock). Every page
// a journey passes is checked with axe-core (no serious or critical
// violation) and for console errors and CSP violations; some are saved as
// screenshots (MODSHOP_SCREENSHOT_DIR=$PWD/docs/screenshots refreshes the
// docs' pictures).
//
// One shop serves every journey: each shopper has an e-mail of its own, the
// order checks count that e-mail's orders, and the SKUs a journey changes
// (SWT-M's stock) are bought by no other journey.

// journeyAddress is the shipping address every journey types in.
var journeyAddress = map[string]string{
	"Full name":                      "Gus Guest",
	"Address line 1":                 "Hauptstr. 1",
	"City":                           "Berlin",
	"Postal code":                    "10115",
	"Country (two letters, e.g. DE)": "DE",
}

func TestJourney(t *testing.T) {
	b := chrome.Start(t)
	shop := startShop(t, testkit.Options{})
	base := chrome.BaseURL(shop.URL)
	// A step that cannot happen fails in a minute, not the kit's two.
	timeout := chrome.Timeout(time.Minute)

	// ordersOf is every order placed with the e-mail, through the admin API.
	ordersOf := func(t *testing.T, email string) []orders.Order {
		t.Helper()
		var list struct{ Items []orders.Order }
		testkit.Expect(t, shop.Get("/v1/admin/orders?limit=100", shop.AdminToken()), http.StatusOK).JSON(t, &list)
		var mine []orders.Order
		for _, o := range list.Items {
			if o.Email == email {
				mine = append(mine, o)
			}
		}
		return mine
	}
	// oneOrder fails unless exactly one order has the e-mail, and returns it.
	oneOrder := func(t *testing.T, email string) orders.Order {
		t.Helper()
		mine := ordersOf(t, email)
		if len(mine) != 1 {
			t.Fatalf("%d orders for %s, want exactly 1: %+v", len(mine), email, mine)
		}
		return mine[0]
	}

	t.Run("guest finds boots through a misspelt search and checks out", func(t *testing.T) {
		const email = "journey1@example.com"
		p := b.NewPage(t, base, timeout)
		p.Navigate("/", "#categories")
		check(t, p, "home")

		// The search box of every page; the typo still finds the boots.
		p.Fill("Search products", "lether boots")
		p.Submit(".searchbox button")
		if got := p.Text("h1"); got != "Results for “lether boots”" {
			t.Fatalf("search page h1 %q", got)
		}
		if got := p.Text("#search-sort [role=status]"); got != "1 product found" {
			t.Errorf("search status %q", got)
		}
		check(t, p, "search")
		p.Follow(`.products a[href="/products/leather-boots"]`)
		if got := p.Text("h1"); got != "Leather Boots" {
			t.Fatalf("product page h1 %q", got)
		}
		check(t, p, "product")

		// Two variants through the product page's form, one after the other.
		addVariant(t, p, "BOOT-42")
		if got := p.Text(".flash"); !strings.Contains(got, "Added 1 × Leather Boots – Brown, EU 42") {
			t.Errorf("flash after adding BOOT-42: %q", got)
		}
		p.Navigate("/products/leather-boots", "#add-to-cart")
		addVariant(t, p, "BOOT-43")
		if !p.Exists("#line-BOOT-42") || !p.Exists("#line-BOOT-43") || p.Exists("#cart-lines tbody tr:nth-child(3)") {
			t.Fatalf("the cart does not have exactly the two lines: %s", p.Text("#cart-lines"))
		}
		if got := p.Text("#cart-subtotal"); got != "€258.00" {
			t.Errorf("cart subtotal %q, want €258.00", got)
		}
		check(t, p, "cart")

		p.Follow("#to-checkout")
		fillCheckout(t, p, email, "pm_card_visa")
		check(t, p, "checkout")
		p.Submit("#place-order")
		number := expectOrderPage(t, p, "placed")
		if got := p.Text("#order-lines"); !strings.Contains(got, "BOOT-42") || !strings.Contains(got, "BOOT-43") {
			t.Errorf("the order page's lines: %q", got)
		}
		if got := p.Text("#guest-link"); !strings.Contains(got, "/orders/") || !strings.Contains(got, "token=") {
			t.Errorf("the guest is not shown the order's link: %q", got)
		}
		check(t, p, "order")

		o := oneOrder(t, email)
		skus := map[string]int64{}
		for _, l := range o.Lines {
			skus[l.SKU] += l.Quantity
		}
		if o.Number != number || len(o.Lines) != 2 || skus["BOOT-42"] != 1 || skus["BOOT-43"] != 1 ||
			o.Status != orders.StatusPlaced || o.Subtotal.Amount != 2*12900 || o.ShippingAddress.City != "Berlin" {
			t.Fatalf("the order placed (page showed %s): %+v", number, o)
		}
		p.Navigate("/cart", "#cart-empty")
	})

	t.Run("a declined card shows why and the shopper retries on the same page", func(t *testing.T) {
		const email = "journey2@example.com"
		p := b.NewPage(t, base, timeout)
		p.Navigate("/products/cotton-scarf", "#add-to-cart")
		addVariant(t, p, "SCF-1")
		p.Follow("#to-checkout")
		fillCheckout(t, p, email, "pm_card_chargeDeclined")
		p.Submit("#place-order")
		alert := p.Text("#checkout-alert[role=alert]")
		if !strings.Contains(alert, "The card was declined.") || !strings.Contains(alert, "No order was placed") {
			t.Fatalf("the decline alert: %q", alert)
		}
		// The re-rendered form answers 402, which Chromium logs as a failed load.
		check(t, p, "", "status of 402 (Payment Required)")
		if n := len(ordersOf(t, email)); n != 0 {
			t.Fatalf("a declined card placed %d order(s)", n)
		}
		// The form kept what was typed: only the card changes.
		for field, want := range map[string]string{"#email": email, "#line1": "Hauptstr. 1", "#payment_method": "pm_card_chargeDeclined"} {
			if got := value(t, p, field); got != want {
				t.Errorf("after the decline %s = %q, want %q", field, got, want)
			}
		}
		p.Fill("Payment method", "pm_card_visa")
		p.Submit("#place-order")
		number := expectOrderPage(t, p, "placed")
		if o := oneOrder(t, email); o.Number != number || o.Payment.Status != orders.PaymentAuthorized && o.Payment.Status != orders.PaymentCaptured {
			t.Errorf("the order after the retry: %+v (page showed %s)", o, number)
		}
	})

	// Two clicks on "Place order" before the first answer: with JavaScript
	// the page's script holds the second back; without it the browser sends
	// the form twice and the server must answer both with the one order.
	//
	// The shop is behind a proxy that counts the form's submits and holds
	// the first back until the second comes (at most holdFirst): a slow
	// network, so that the second click surely lands while the first is
	// under way, and both reach the shop together. (The browser drops the
	// first request when it sends the second; the shop still gets it whole.)
	const holdFirst = 2 * time.Second
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "with JavaScript", false: "without JavaScript"}[js]
		t.Run("a double click on place order places one order "+name, func(t *testing.T) {
			var posts atomic.Int32
			first := make(chan *statusWriter, 1)
			second := make(chan struct{})
			target, _ := url.Parse(shop.URL)
			forward := httputil.NewSingleHostReverseProxy(target)
			proxy := testkit.Proxy(t, shop.URL, func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPost || r.URL.Path != "/checkout" {
					return false
				}
				switch posts.Add(1) {
				case 1:
					body, err := io.ReadAll(r.Body)
					if err != nil {
						t.Errorf("read the first submit: %v", err)
						return true
					}
					select {
					case <-second:
					case <-time.After(holdFirst):
					}
					// Passed on whole even when the browser has dropped it:
					// no cancel, and a writer without CloseNotify.
					r = r.Clone(context.WithoutCancel(r.Context()))
					r.Body = io.NopCloser(bytes.NewReader(body))
					rec := &statusWriter{ResponseWriter: w}
					forward.ServeHTTP(rec, r)
					first <- rec
					return true
				case 2:
					close(second)
				}
				return false
			})
			email, want := "journey3-js@example.com", int32(1)
			opts := []chrome.Option{chrome.BaseURL(proxy.URL), timeout}
			if !js {
				email, want = "journey3-nojs@example.com", 2
				opts = append(opts, chrome.WithoutJavaScript())
			}
			p := b.NewPage(t, opts...)
			p.Navigate("/products/cotton-scarf", "#add-to-cart")
			addVariant(t, p, "SCF-1")
			p.Follow("#to-checkout")
			fillCheckout(t, p, email, "pm_card_visa")
			doubleClick(t, p, "#place-order")
			number := expectOrderPage(t, p, "placed")
			if n := posts.Load(); n != want {
				t.Fatalf("the double click sent the form %d time(s), want %d", n, want)
			}
			// The shop answered the first submit with the order too.
			select {
			case rec := <-first:
				if rec.status != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/orders/") {
					t.Errorf("the first submit was answered %d %q", rec.status, rec.Header().Get("Location"))
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the shop did not answer the first submit")
			}
			if o := oneOrder(t, email); o.Number != number {
				t.Errorf("the order is %s, the page shows %s", o.Number, number)
			}
			check(t, p, "")
		})
	}

	t.Run("a guest's cart is merged into the account made at register", func(t *testing.T) {
		p := b.NewPage(t, base, timeout)
		p.Navigate("/products/running-shoes", "#add-to-cart")
		addVariant(t, p, "RUN-40")
		p.Navigate("/register", "#register-form")
		check(t, p, "")
		p.Fill("Name", "Rita Runner")
		p.Fill("E-mail", "journey4@example.com")
		p.Fill("Password", "running-shoes-4")
		p.Submit("#register-submit")
		if got := p.Text(".flash"); !strings.Contains(got, "Welcome, Rita Runner!") {
			t.Fatalf("after register the notice is %q", got)
		}
		p.Navigate("/cart", "h1")
		if !p.Exists("#line-RUN-40") || !strings.Contains(p.Text(".top nav"), "Rita Runner") {
			t.Fatalf("signed in, the cart lacks the guest's line: %s / %s", p.Text("main"), p.Text(".top nav"))
		}
		check(t, p, "")
		p.Navigate("/account", "h1")
		check(t, p, "account")
		p.Navigate("/checkout", "#checkout")
		if got := value(t, p, "#email"); got != "journey4@example.com" {
			t.Errorf("the checkout of a signed-in customer has e-mail %q", got)
		}
		check(t, p, "")
	})

	t.Run("the admin's stock change and shipment reach the shopper's pages", func(t *testing.T) {
		admin := b.NewPage(t, base, timeout)
		admin.Navigate("/signin", "#signin-form")
		check(t, admin, "")
		admin.Fill("E-mail", adminEmail)
		admin.Fill("Password", adminPassword)
		admin.Submit("#signin-submit")
		admin.Navigate("/admin", "#stat-awaiting-shipment")
		check(t, admin, "admin-dashboard")

		shopper := b.NewPage(t, base, timeout)
		shopper.Navigate("/products/wool-sweater", "#add-to-cart")
		if got := shopper.Text("#stock-SWT-M"); got != "Only 3 left" {
			t.Fatalf("SWT-M before the change: %q", got)
		}
		// The back office's stock pages: the list, the SKU, its form.
		admin.Navigate("/admin/inventory", "#stock-levels")
		check(t, admin, "admin-stock")
		admin.Follow(`#stock-levels a[href="/admin/inventory/SWT-M"]`)
		if got := admin.Text("#available"); got != "3 (low)" {
			t.Fatalf("the admin's stock page says SWT-M has %q available", got)
		}
		check(t, admin, "")
		admin.Fill("Change (e.g. 5 to add, -2 to remove)", "-3")
		admin.Fill("Reason", "journey: the last three were damaged")
		admin.Submit("#adjust")
		if got := admin.Text(".flash"); got != "Adjusted SWT-M by -3: 0 on hand." {
			t.Errorf("after the adjustment the notice is %q", got)
		}
		if got := admin.Text("#available"); got != "0 (out of stock)" || !strings.Contains(admin.Text("#ledger"), "the last three were damaged") {
			t.Errorf("after the adjustment the stock page says %q available; ledger %q", got, admin.Text("#ledger"))
		}
		check(t, admin, "")
		var level struct{ Available int64 }
		testkit.Expect(t, shop.Get("/v1/admin/inventory/SWT-M", shop.AdminToken()), http.StatusOK).JSON(t, &level)
		if level.Available != 0 {
			t.Fatalf("SWT-M has %d available after the change", level.Available)
		}
		// The storefront hears of the change by an event: within seconds.
		deadline := time.Now().Add(10 * time.Second)
		for {
			shopper.Navigate("/products/wool-sweater", "#add-to-cart")
			got := shopper.Text("#stock-SWT-M")
			if got == "Out of stock" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("10s after the change the product page still says SWT-M is %q", got)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !shopper.Exists("#sku-SWT-M[disabled]") || !shopper.Exists("#add-to-cart button[type=submit][disabled]") {
			t.Errorf("the sold-out variant or the add button can still be chosen")
		}
		check(t, shopper, "")

		// A guest orders; the admin ships it with a tracking number; the
		// guest's link shows it.
		shopper.Navigate("/products/cotton-scarf", "#add-to-cart")
		addVariant(t, shopper, "SCF-1")
		shopper.Follow("#to-checkout")
		fillCheckout(t, shopper, "journey5@example.com", "pm_card_visa")
		shopper.Submit("#place-order")
		number := expectOrderPage(t, shopper, "placed")
		link := shopper.URL()
		u, err := url.Parse(link)
		if err != nil || u.Query().Get("token") == "" {
			t.Fatalf("the order page's address %q has no guest token", link)
		}

		admin.Navigate("/admin/orders", "h1")
		check(t, admin, "")
		admin.Follow(`a[href="/admin` + u.Path + `"]`)
		if got := admin.Text("h1"); got != "Order "+number {
			t.Fatalf("the admin's order page h1 %q", got)
		}
		check(t, admin, "admin-order")
		admin.Fill("Tracking number", "TRK-J5-0001")
		admin.Submit("#ship-form button[type=submit]")
		if got := admin.Text("#order-status"); got != "shipped" {
			t.Errorf("after shipping the admin sees status %q", got)
		}
		check(t, admin, "")
		if o := oneOrder(t, "journey5@example.com"); o.Status != orders.StatusShipped || o.TrackingNumber == nil || *o.TrackingNumber != "TRK-J5-0001" {
			t.Errorf("the order after shipping: %+v", o)
		}

		shopper.Navigate(link, "#order-status")
		if got := shopper.Text("#order-status"); !strings.Contains(got, "shipped") || shopper.Text("#tracking") != "TRK-J5-0001" {
			t.Errorf("the shopper's order page: %q", got)
		}
		check(t, shopper, "")

		for _, path := range []string{"/admin/products", "/admin/customers", "/admin/dead-letters"} {
			admin.Navigate(path, "h1")
			check(t, admin, "")
		}
	})

	t.Run("everything works with JavaScript off", func(t *testing.T) {
		const email = "journey6@example.com"
		p := b.NewPage(t, base, timeout, chrome.WithoutJavaScript())
		p.Navigate("/", "#categories")
		p.Follow(`#categories a[href="/categories/knitwear"]`)
		if got := p.Text("h1"); got != "Knitwear" {
			t.Fatalf("category page h1 %q", got)
		}
		check(t, p, "category")
		// The sort select submits itself only with JavaScript: its button does it here.
		p.Fill("Sort by", "price_asc")
		p.Submit("#filters button[type=submit]")
		if !strings.Contains(p.URL(), "sort=price_asc") {
			t.Errorf("sorting without JavaScript led to %s", p.URL())
		}
		p.Follow(`.products a[href="/products/cotton-scarf"]`)
		p.Fill("Quantity", "2")
		p.Submit("#add-to-cart button[type=submit]")
		if !p.Exists("#line-SCF-1") || value(t, p, "#line-SCF-1 input[name=quantity]") != "2" {
			t.Fatalf("the cart after adding without JavaScript: %s", p.Text("main"))
		}
		p.Follow("#to-checkout")
		fillCheckout(t, p, email, "pm_card_visa")
		p.Submit("#place-order")
		number := expectOrderPage(t, p, "placed")
		if o := oneOrder(t, email); o.Number != number || len(o.Lines) != 1 || o.Lines[0].SKU != "SCF-1" || o.Lines[0].Quantity != 2 {
			t.Errorf("the order placed without JavaScript: %+v", o)
		}
		check(t, p, "")
	})
}

// check runs axe on the page (no serious or critical violation), expects no
// console error or CSP violation so far, and saves a screenshot when name
// is not empty.
func check(t *testing.T, p *chrome.Page, name string, allowed ...string) {
	t.Helper()
	p.Axe()
	seen.Lock()
	problems := p.Problems()
	fresh := problems[seen.n[p]:]
	seen.n[p] = len(problems)
	seen.Unlock()
	for _, problem := range fresh {
		ok := false
		for _, a := range allowed {
			ok = ok || strings.Contains(problem, a)
		}
		if !ok {
			t.Errorf("the page %s reported a problem: %s", p.URL(), problem)
		}
	}
	if name != "" {
		p.Screenshot(name)
	}
}

// seen is how many of a page's problems check has looked at already: an
// expected one (allowed) is not reported again by a later check.
var seen = struct {
	sync.Mutex
	n map[*chrome.Page]int
}{n: map[*chrome.Page]int{}}

// addVariant chooses the variant on the product page and adds it to the
// cart, which is the page it leads to.
func addVariant(t *testing.T, p *chrome.Page, sku string) {
	t.Helper()
	p.Click("#sku-" + sku)
	p.Submit("#add-to-cart button[type=submit]")
	if !strings.HasSuffix(p.URL(), "/cart") {
		t.Fatalf("adding %s led to %s", sku, p.URL())
	}
	if !p.Exists("#line-" + sku) {
		t.Fatalf("the cart has no line of %s: %s", sku, p.Text("main"))
	}
}

// fillCheckout fills the checkout form: e-mail, address, payment method.
func fillCheckout(t *testing.T, p *chrome.Page, email, method string) {
	t.Helper()
	p.WaitVisible("#checkout")
	p.Fill("E-mail", email)
	for label, v := range journeyAddress {
		p.Fill(label, v)
	}
	p.Fill("Payment method", method)
}

// expectOrderPage fails unless the page is an order page with the status,
// and returns the order's number.
func expectOrderPage(t *testing.T, p *chrome.Page, status string) string {
	t.Helper()
	p.WaitVisible("#order-lines")
	h1 := p.Text("h1")
	number, ok := strings.CutPrefix(h1, "Order ")
	if !ok || number == "" {
		t.Fatalf("not an order page: h1 %q at %s", h1, p.URL())
	}
	if got := p.Text("#order-status .badge"); got != status {
		t.Errorf("order %s has status %q on its page, want %q", number, got, status)
	}
	return number
}

// statusWriter passes an answer on and keeps its status. It has only the
// methods of http.ResponseWriter (no CloseNotify), so a reverse proxy does
// not cancel what it forwards when the browser goes away.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// doubleClick clicks the element twice, 100ms apart, as a person's double
// click. The clicks go to where the element is on the screen: Page.Click
// looks the element up first, which waits for the page the first click
// leads to, so it cannot click twice before the answer.
func doubleClick(t *testing.T, p *chrome.Page, sel string) {
	t.Helper()
	q, _ := json.Marshal(sel)
	at, err := chromedp.Run(p.Context(), chromedp.Evaluate[[]float64](`(() => {
		const e = document.querySelector(`+string(q)+`);
		e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2];
	})()`))
	if err == nil && len(at) == 2 {
		err = chromedp.Do(p.Context(), chromedp.MouseClickXY(at[0], at[1]), chromedp.Sleep(100*time.Millisecond),
			chromedp.MouseClickXY(at[0], at[1], chromedp.ClickCount(2)))
	}
	if err != nil {
		t.Fatalf("double click %s on %s: %v", sel, p.URL(), err)
	}
}

// value is the current value of a form field.
func value(t *testing.T, p *chrome.Page, sel string) string {
	t.Helper()
	q, _ := json.Marshal(sel)
	v, err := chromedp.Run(p.Context(), chromedp.Evaluate[string](`document.querySelector(`+string(q)+`).value`))
	if err != nil {
		t.Fatalf("the value of %s on %s: %v", sel, p.URL(), err)
	}
	return v
}
