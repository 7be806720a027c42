package orders_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// TestGuestKeysAreScopedToTheCheckout: a guest's Idempotency-Key belongs to
// the checkout (the contract), so a second guest who sends the same
// predictable key gets an order of their own: they neither read the first
// guest's answer (and its guest_token) nor use the key up for them.
func TestGuestKeysAreScopedToTheCheckout(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 1000, 10, "MUG")
		a := e.checkout(t, e.cart(t, "", item{"MUG", 1}), "")
		b := e.checkout(t, e.cart(t, "", item{"MUG", 1}), "")

		// A stranger uses the README's key first, for a checkout of their own.
		var ob api.Order
		testkit.Expect(t, e.order(b.ID, "pm_card_visa", "my-first-order", ""), http.StatusCreated).JSON(t, &ob)
		// The real guest is not answered 422, and gets their own order.
		var oa api.Order
		testkit.Expect(t, e.order(a.ID, "pm_card_visa", "my-first-order", ""), http.StatusCreated).JSON(t, &oa)
		if oa.ID == ob.ID || oa.GuestToken == nil || ob.GuestToken == nil || *oa.GuestToken == *ob.GuestToken {
			t.Fatalf("two guests with one key share an answer: %+v / %+v", oa, ob)
		}
		// The other body with the same key for the same checkout is still a reuse.
		testkit.ExpectProblem(t, e.order(a.ID, "pm_card_mastercard", "my-first-order", ""), http.StatusUnprocessableEntity, "idempotency_key_reused")
		if l := e.level(t, "MUG"); l.OnHand != 8 {
			t.Fatalf("MUG %+v: two units sold", l)
		}
	})
}

// TestStoredAnswerKeepsNoGuestToken: the stored answer of a guest's order
// (orders_placements.response_body, kept 24 h for replays) holds no guest
// token, yet a replay by the guest still gives a token that reads the order.
func TestStoredAnswerKeepsNoGuestToken(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		e.product(t, 1000, 10, "PEN")
		c := e.checkout(t, e.cart(t, "", item{"PEN", 1}), "")
		var first api.Order
		testkit.Expect(t, e.order(c.ID, "pm_card_visa", "pen-key", ""), http.StatusCreated).JSON(t, &first)
		if first.GuestToken == nil {
			t.Fatal("a guest order carries its guest_token")
		}
		conn, err := database.Open(db.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var bodies []string
		if err := conn.Gorm.Raw("SELECT response_body FROM orders_placements").Scan(&bodies).Error; err != nil {
			t.Fatal(err)
		}
		if len(bodies) == 0 {
			t.Fatal("no stored answer")
		}
		for _, b := range bodies {
			if strings.Contains(b, *first.GuestToken) {
				t.Fatalf("the stored answer holds the guest token in plain text: %s", b)
			}
		}
		var again api.Order
		r := testkit.Expect(t, e.order(c.ID, "pm_card_visa", "pen-key", ""), http.StatusCreated)
		r.JSON(t, &again)
		if r.Header.Get("Idempotent-Replayed") != "true" || again.ID != first.ID || again.GuestToken == nil {
			t.Fatalf("replay %s", r.Body)
		}
		testkit.Expect(t, e.shop.Get("/v1/orders/"+first.ID+"?token="+*again.GuestToken, ""), http.StatusOK)
		testkit.Expect(t, e.shop.Get("/v1/orders/"+first.ID+"?token="+*first.GuestToken, ""), http.StatusOK)
	})
}
