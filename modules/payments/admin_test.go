package payments_test

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/testkit"
)

type paymentPage struct {
	Items      []api.Payment `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

// list GETs a page of the list as an admin.
func list(t *testing.T, shop *testkit.Shop, query string) paymentPage {
	t.Helper()
	var page paymentPage
	testkit.Expect(t, shop.Get("/v1/admin/payments"+query, shop.AdminToken()), 200).JSON(t, &page)
	return page
}

func ids(ps []api.Payment) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// The admin routes over real HTTP: admins only, one payment or 404, the list
// newest first with a filter by reference and keyset pages that a new
// payment does not shift.
func TestAdminHTTP(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		shop, admin := e.shop, e.shop.AdminToken()
		customer := shop.Token("c1", "customer")
		for _, path := range []string{"/v1/admin/payments", "/v1/admin/payments/p1"} {
			testkit.ExpectProblem(t, shop.Get(path, ""), 401, "unauthorized")
			testkit.ExpectProblem(t, shop.Get(path, customer), 403, "forbidden")
		}
		testkit.ExpectProblem(t, shop.Get("/v1/admin/payments/nope", admin), 404, "not_found")

		// p1..p3 a second apart; p4 and p5 at the same time (the id breaks
		// the tie); p3 declined.
		for _, p := range []struct{ id, ref, method string }{
			{"p1", "order-A", "pm_card_visa"}, {"p2", "order-B", "pm_card_mastercard"}, {"p3", "order-A", "pm_card_chargeDeclined"},
			{"p4", "order-A", "pm_card_visa"}, {"p5", "order-B", "pm_card_visa"},
		} {
			if p.id != "p5" {
				e.clock.Advance(time.Second)
			}
			_, _ = e.pay.Authorize(ctx, api.AuthorizeRequest{ID: p.id, Reference: p.ref, Amount: 100, Currency: "EUR", Method: p.method})
		}
		if _, err := e.pay.Capture(ctx, "p1"); err != nil {
			t.Fatal(err)
		}

		var one api.Payment
		testkit.Expect(t, shop.Get("/v1/admin/payments/p1", admin), 200).JSON(t, &one)
		want, _ := e.pay.Payment(ctx, "p1")
		sameJSON(t, "GET p1", one, want)
		if one.Status != api.StatusCaptured || len(one.History) != 3 || one.ProviderRef != ref("p1") {
			t.Fatalf("p1 = %+v", one)
		}
		var failed api.Payment
		testkit.Expect(t, shop.Get("/v1/admin/payments/p3", admin), 200).JSON(t, &failed)
		if failed.Status != api.StatusFailed || failed.DeclineCode != "card_declined" {
			t.Fatalf("p3 = %+v", failed)
		}

		page := list(t, shop, "")
		if got := strings.Join(ids(page.Items), ","); got != "p5,p4,p3,p2,p1" || page.NextCursor != nil {
			t.Fatalf("the whole list: %s, next %v", got, page.NextCursor)
		}
		page = list(t, shop, "?reference=order-A")
		if got := strings.Join(ids(page.Items), ","); got != "p4,p3,p1" || page.NextCursor != nil {
			t.Fatalf("order-A's payments: %s", got)
		}
		sameJSON(t, "a listed payment", page.Items[2], want)
		res := testkit.Expect(t, shop.Get("/v1/admin/payments?reference=order-Z", admin), 200)
		if !strings.Contains(string(res.Body), `"items":[]`) || !strings.Contains(string(res.Body), `"next_cursor":null`) {
			t.Fatalf("an empty list: %s", res.Body)
		}

		// Pages of two; a payment created between pages does not shift them.
		var seen []string
		next := "?limit=2"
		for pages := 0; next != ""; pages++ {
			if pages == 1 {
				e.clock.Advance(time.Second)
				e.authorize(t, "p6", "order-A", "pm_card_visa", 100)
			}
			page = list(t, shop, next)
			if len(page.Items) == 0 || len(page.Items) > 2 {
				t.Fatalf("page %d holds %d payments", pages, len(page.Items))
			}
			seen = append(seen, ids(page.Items)...)
			next = ""
			if page.NextCursor != nil {
				next = "?limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
			}
		}
		if !slices.Equal(seen, []string{"p5", "p4", "p3", "p2", "p1"}) {
			t.Fatalf("paged through %v", seen)
		}
		// Pages of a reference.
		page = list(t, shop, "?reference=order-A&limit=3")
		if got := strings.Join(ids(page.Items), ","); got != "p6,p4,p3" || page.NextCursor == nil {
			t.Fatalf("order-A's first page: %s", got)
		}
		page = list(t, shop, "?reference=order-A&limit=3&cursor="+url.QueryEscape(*page.NextCursor))
		if got := strings.Join(ids(page.Items), ","); got != "p1" || page.NextCursor != nil {
			t.Fatalf("order-A's second page: %s", got)
		}

		for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=!!!",
			"cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"c":0,"i":""}`)),
			"cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`not json`))} {
			testkit.ExpectProblem(t, shop.Get("/v1/admin/payments?"+q, admin), 422, "validation_failed")
		}
	})
}

// The module says what it is: the five events it publishes, no calls.
func TestDescriptorAndOpenAPI(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	var found bool
	for _, d := range e.shop.Runtime.Modules() {
		if d.Name != "payments" {
			continue
		}
		found = true
		want := []string{api.EventPaymentAuthorized, api.EventPaymentCaptured, api.EventPaymentVoided, api.EventPaymentRefunded, api.EventPaymentFailed}
		if !slices.Equal(d.Publishes, want) || len(d.Calls) != 0 || len(d.Consumes) != 0 {
			t.Fatalf("descriptor %+v", d)
		}
	}
	if !found {
		t.Fatal("no payments descriptor")
	}
	doc := string(testkit.Expect(t, e.shop.Get("/openapi.json", ""), 200).Body)
	for _, s := range []string{`"/v1/admin/payments"`, `"/v1/admin/payments/{id}"`, `"provider_ref"`, `"decline_code"`, `"next_cursor"`} {
		if !strings.Contains(doc, s) {
			t.Errorf("the OpenAPI document does not mention %s", s)
		}
	}
}
