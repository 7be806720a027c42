package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
	"github.com/modshop/modshop/platform/testkit/browser"
)

// The storefront split off: the real binary twice, "rest" running every
// module but web, and "web" running the storefront alone
// (MODSHOP_MODULES=web) against rest over HTTP, each with a database of its
// own. The web module publishes and consumes no events, so neither process
// needs NATS: rest's in-process bus carries its own modules' events. A real
// browser buys on web's pages; the order is in rest.

// rest's bootstrap admin, who signs in to the back office on web.
const webSplitAdmin, webSplitAdminPassword = "admin@example.com", "admin-password-1"

// webSplitRemotes are the modules the web process finds in rest.
var webSplitRemotes = []string{"inventory", "catalog", "search", "cart", "customers", "payments", "orders"}

func TestWebSplitPurchaseInABrowser(t *testing.T) {
	b := browser.Start(t) // skips without chromium (before the binary is built)
	f := newFleet(t, "", false)
	dbs := map[string]testkit.DB{"rest": splitDB(t), "web": splitDB(t)}
	webEnv := []string{"MODSHOP_MODULES=web", "MODSHOP_DATABASE_URL=" + dbs["web"].URL}
	for _, m := range webSplitRemotes {
		webEnv = append(webEnv, "MODSHOP_REMOTE_"+strings.ToUpper(m)+"="+f.url("rest"))
	}

	// The configuration is accepted: web finds all it needs, remote.
	out := webSplitModules(t, webEnv)
	wants := []string{`(?m)^web +local$`}
	for _, m := range webSplitRemotes {
		wants = append(wants, `(?m)^`+m+` +remote `+regexp.QuoteMeta(f.url("rest"))+`$`)
	}
	for _, want := range wants {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Fatalf("`modshop modules` for the web process does not match %s:\n%s", want, out)
		}
	}

	f.serve("rest", "MODSHOP_MODULES="+strings.Join(webSplitRemotes, ","), "MODSHOP_DATABASE_URL="+dbs["rest"].URL,
		"MODSHOP_BOOTSTRAP_ADMIN_EMAIL="+webSplitAdmin, "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD="+webSplitAdminPassword)
	f.serve("web", webEnv...)
	f.waitReady("rest", 30*time.Second)
	f.waitReady("web", 30*time.Second)

	// The JSON API through the web process: it forwards /v1 to rest.
	web, rest := newFront(t, f.url("web")), newFront(t, f.url("rest"))
	run := strings.ToLower(strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""))
	sku, slug, title := "WS-"+run, "kestrel-lamp-"+run, "Kestrel lamp "+run
	testkit.Expect(t, web.do(http.MethodPost, "/v1/admin/products", web.admin, map[string]any{"slug": slug, "title": title,
		"description": "A brass desk lamp.", "status": "published",
		"variants": []map[string]any{{"sku": sku, "title": "Brass", "price": 4200}}}), http.StatusCreated)
	testkit.Eventually(t, 15*time.Second, func() bool {
		return web.do(http.MethodGet, "/v1/admin/inventory/"+sku, web.admin, nil).Status == http.StatusOK
	}, "the inventory knows %s", sku)
	testkit.Expect(t, web.do(http.MethodPost, "/v1/admin/inventory/"+sku+"/adjustments", web.admin, map[string]any{"delta": 5, "reason": "delivery"}), http.StatusCreated)
	testkit.Eventually(t, 15*time.Second, func() bool {
		var res struct {
			Items []struct {
				InStock bool `json:"in_stock"`
			} `json:"items"`
		}
		r := web.do(http.MethodGet, "/v1/search?q="+url.QueryEscape("kestrel lamp "+run), "", nil)
		if r.Status != http.StatusOK {
			return false
		}
		r.JSON(t, &res)
		return len(res.Items) > 0 && res.Items[0].InStock
	}, "search finds %s in stock", sku)

	// A guest buys it in the browser, on the web process's pages.
	guest := b.NewPage(t, browser.BaseURL(f.url("web")), browser.Timeout(time.Minute))
	guest.Navigate("/", "main")
	guest.Fill("Search products", "kestrel lamp "+run)
	guest.Submit("form.searchbox button[type=submit]")
	if got := guest.Text("h1"); !strings.Contains(got, "kestrel lamp") {
		t.Fatalf("search page heading %q", got)
	}
	guest.Follow(`a[href="/products/` + slug + `"]`)
	if got := guest.Text("h1"); got != title {
		t.Fatalf("product page heading %q, want %q", got, title)
	}
	guest.Submit("#add-to-cart button[type=submit]")
	if got := guest.Text("#line-" + sku); !strings.Contains(got, title) {
		t.Fatalf("cart line %q lacks %q", got, title)
	}
	guest.Follow("#to-checkout")
	guest.Fill("E-mail", "guest-"+run+"@example.com")
	guest.Fill("Full name", "Ada Guest")
	guest.Fill("Address line 1", "Main St 1")
	guest.Fill("City", "Berlin")
	guest.Fill("Postal code", "10115")
	guest.Fill("Country (two letters, e.g. DE)", "DE")
	guest.Fill("Payment method", "pm_card_visa")
	guest.Submit("#place-order")
	if !strings.Contains(guest.URL(), "/orders/") {
		t.Fatalf("after placing the order the guest is on %s: %s", guest.URL(), guest.Text("main"))
	}
	number := strings.TrimSpace(strings.TrimPrefix(guest.Text("h1"), "Order "))
	if got := guest.Text("#order-status"); !strings.Contains(got, "placed") {
		t.Fatalf("order status %q", got)
	}
	guest.ExpectNoProblems()

	// The order is rest's: its JSON API lists it, with the SKU.
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Number string `json:"number"`
			Status string `json:"status"`
			Email  string `json:"email"`
			Lines  []struct {
				SKU string `json:"sku"`
			} `json:"lines"`
		} `json:"items"`
	}
	testkit.Expect(t, rest.do(http.MethodGet, "/v1/admin/orders?limit=10", rest.admin, nil), http.StatusOK).JSON(t, &list)
	orderID := ""
	for _, o := range list.Items {
		if o.Number == number && len(o.Lines) == 1 && o.Lines[0].SKU == sku {
			orderID = o.ID
		}
	}
	if orderID == "" {
		t.Fatalf("rest has no order %s of %s: %+v", number, sku, list.Items)
	}

	// A customer registers on the web process and sees the account page.
	shopper := b.NewPage(t, browser.BaseURL(f.url("web")), browser.Timeout(time.Minute))
	shopper.Navigate("/register", "#register-form")
	email := "ann-" + run + "@example.com"
	shopper.Fill("Name", "Ann Shopper")
	shopper.Fill("E-mail", email)
	shopper.Fill("Password", "a long enough password")
	shopper.Submit("#register-submit")
	shopper.Navigate("/account", "#profile")
	if got := shopper.Text("#account-email"); got != email {
		t.Fatalf("account page shows %q, want %q", got, email)
	}
	shopper.ExpectNoProblems()

	// Signed out, the shopper fills a guest cart and signs in again: rest's
	// errors keep their meaning over the wire (a wrong password is the
	// sign-in form's message, a taken e-mail the register form's, not an
	// error page), and the guest cart is merged into the customer's.
	shopper.Submit(`form[action="/signout"] button`)
	shopper.Navigate("/products/"+slug, "#add-to-cart")
	shopper.Submit("#add-to-cart button[type=submit]")
	shopper.Navigate("/signin", "#signin-form")
	shopper.Fill("E-mail", email)
	shopper.Fill("Password", "not the password")
	shopper.Submit("#signin-submit")
	if got := shopper.Text("#signin-error"); got != "The e-mail or password is wrong." {
		t.Fatalf("sign-in with a wrong password says %q", got)
	}
	shopper.Fill("Password", "a long enough password")
	shopper.Submit("#signin-submit")
	shopper.Navigate("/cart", "#cart-lines")
	if got := shopper.Text("#line-" + sku); !strings.Contains(got, title) {
		t.Fatalf("the signed-in cart's line %q lacks %q", got, title)
	}
	// The customer buys it, and finds the order in the account's history.
	shopper.Follow("#to-checkout")
	shopper.Fill("E-mail", email)
	shopper.Fill("Full name", "Ann Shopper")
	shopper.Fill("Address line 1", "Side St 2")
	shopper.Fill("City", "Hamburg")
	shopper.Fill("Postal code", "20095")
	shopper.Fill("Country (two letters, e.g. DE)", "DE")
	shopper.Fill("Payment method", "pm_card_visa")
	shopper.Submit("#place-order")
	if !strings.Contains(shopper.URL(), "/orders/") {
		t.Fatalf("after placing the order the customer is on %s: %s", shopper.URL(), shopper.Text("main"))
	}
	mine := strings.TrimSpace(strings.TrimPrefix(shopper.Text("h1"), "Order "))
	shopper.Navigate("/account", "#profile")
	if got := shopper.Text("#account-email"); got != email {
		t.Fatalf("account page after signing in again shows %q, want %q", got, email)
	}
	if got := shopper.Text("#order-list"); !strings.Contains(got, mine) {
		t.Fatalf("the account's orders %q lack %s", got, mine)
	}
	again := b.NewPage(t, browser.BaseURL(f.url("web")), browser.Timeout(time.Minute))
	again.Navigate("/register", "#register-form")
	again.Fill("Name", "Ann Again")
	again.Fill("E-mail", email)
	again.Fill("Password", "another long password")
	again.Submit("#register-submit")
	if got := again.Text("#register-email-error"); !strings.Contains(got, "already registered") {
		t.Fatalf("registering a taken e-mail says %q", got)
	}

	// The back office on the web process: rest's bootstrap admin signs in,
	// finds the order and ships it; rest has it shipped.
	admin := b.NewPage(t, browser.BaseURL(f.url("web")), browser.Timeout(time.Minute))
	admin.Navigate("/signin?next=/admin/orders", "#signin-form")
	admin.Fill("E-mail", webSplitAdmin)
	admin.Fill("Password", webSplitAdminPassword)
	admin.Submit("#signin-submit")
	if got := admin.Text("h1"); got != "Orders" {
		t.Fatalf("the admin is on %s (%q), not the orders", admin.URL(), got)
	}
	admin.Follow(`a[href="/admin/orders/` + orderID + `"]`)
	if got := admin.Text("#payment-status"); got != "captured" && got != "authorized" {
		t.Fatalf("the back office shows the payment %q", got)
	}
	admin.Fill("Tracking number", "TRK-"+run)
	admin.Submit("#ship-form button[type=submit]")
	if got := admin.Text("#order-status"); got != "shipped" {
		t.Fatalf("after shipping the back office shows %q", got)
	}
	if st := admin.Navigate("/admin/dead-letters", "h1"); st != http.StatusOK {
		t.Fatalf("dead letters page: %d", st)
	}
	admin.ExpectNoProblems()
	var shipped struct {
		Status         string  `json:"status"`
		TrackingNumber *string `json:"tracking_number"`
	}
	testkit.Expect(t, rest.do(http.MethodGet, "/v1/admin/orders/"+orderID, rest.admin, nil), http.StatusOK).JSON(t, &shipped)
	if shipped.Status != "shipped" || shipped.TrackingNumber == nil || *shipped.TrackingNumber != "TRK-"+run {
		t.Fatalf("rest has the order %+v after the back office shipped it", shipped)
	}

	// Each process holds its own tables only: web's sessions in web's
	// database, none of the others'; no web table in rest's.
	for name, db := range dbs {
		tables := tablesOf(t, db.URL)
		if len(tables) == 0 {
			t.Errorf("the %s process's database has no tables", name)
		}
		for _, tbl := range tables {
			if strings.HasPrefix(tbl, "web_") != (name == "web") {
				t.Errorf("the %s process's database has table %s", name, tbl)
			}
		}
	}
	if !slices.ContainsFunc(tablesOf(t, dbs["web"].URL), func(s string) bool { return strings.Contains(s, "session") }) {
		t.Errorf("the web process's database has no session table: %v", tablesOf(t, dbs["web"].URL))
	}
	// Nothing failed on the way that the pages papered over: no request
	// to either process answered 5xx (but /readyz while starting).
	for _, n := range []string{"web", "rest"} {
		for _, l := range f.procs[n].logLines() {
			if st, _ := l["status"].(float64); st >= 500 && l["path"] != "/readyz" {
				t.Errorf("%s answered %v to %v %v", n, st, l["method"], l["path"])
			}
		}
	}
	if ended := f.ended(); len(ended) > 0 {
		t.Fatal(strings.Join(ended, "\n"))
	}
}

// webSplitModules runs `modshop modules` with the web process's settings:
// it exits 0 only when the topology is complete (web needs all seven).
func webSplitModules(t *testing.T, env []string) string {
	t.Helper()
	cmd := exec.Command(binary(t), "modules")
	cmd.Env = append(os.Environ(), "MODSHOP_DATA_DIR="+t.TempDir(), "MODSHOP_JWT_SECRET="+testkit.JWTSecret, "MODSHOP_INTERNAL_TOKEN="+splitToken)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("modshop modules: %v\n%s", err, out)
	}
	return string(out)
}

func tablesOf(t *testing.T, dbURL string) []string {
	t.Helper()
	db, err := database.Open(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.Gorm.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

// logLines are the JSON log lines the process wrote so far.
func (s *served) logLines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.logs)
}
