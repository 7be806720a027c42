package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/testkit"
)

var ctx = context.Background()

func lines(kv ...any) []api.Line {
	var out []api.Line
	for i := 0; i < len(kv); i += 2 {
		out = append(out, api.Line{SKU: kv[i].(string), Quantity: int64(kv[i+1].(int))})
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !errs.HasCode(err, code) {
		t.Fatalf("error %v, want code %q", err, code)
	}
}

func wantLevel(t *testing.T, e *env, sku string, onHand, reserved int64) {
	t.Helper()
	if l := e.level(t, sku); l.OnHand != onHand || l.Reserved != reserved || l.Available != onHand-reserved {
		t.Fatalf("%s level %+v, want on_hand %d reserved %d", sku, l, onHand, reserved)
	}
}

func TestLevelFollowsCatalog(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	e.announce(t, "SKU-1")
	wantLevel(t, e, "SKU-1", 0, 0)
	e.announce(t, "SKU-1") // announced again: the level stays as it is
	if _, _, err := e.admin.Adjust(ctx, "SKU-1", 5, "delivery", "tester", ""); err != nil {
		t.Fatal(err)
	}
	e.announce(t, "SKU-1")
	wantLevel(t, e, "SKU-1", 5, 0)
	if got, err := e.inv.Availability(ctx, []string{"SKU-1", "NOPE", "SKU-1"}); err != nil || len(got) != 1 {
		t.Fatalf("availability of a known and an unknown SKU = %v, %v", got, err)
	}
}

func TestEveryChangePublishesStockChanged(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	e.stock(t, "A", 10)                                                   // created (v1), adjusted (v2)
	if _, err := e.inv.Reserve(ctx, "r1", lines("A", 3), 0); err != nil { // v3
		t.Fatal(err)
	}
	if err := e.inv.Commit(ctx, "r1"); err != nil { // v4
		t.Fatal(err)
	}
	if _, err := e.inv.Reserve(ctx, "r2", lines("A", 2), 0); err != nil { // v5
		t.Fatal(err)
	}
	if err := e.inv.Release(ctx, "r2"); err != nil { // v6
		t.Fatal(err)
	}
	if err := e.inv.Restock(ctx, "x1", lines("A", 3)); err != nil { // v7
		t.Fatal(err)
	}
	var got []api.StockChanged
	testkit.Eventually(t, 5*time.Second, func() bool { got = e.up.stockChanges("A"); return len(got) >= 7 }, "7 stock_changed events")
	want := []api.StockChanged{
		{SKU: "A", Version: 1},
		{SKU: "A", OnHand: 10, Available: 10, Version: 2},
		{SKU: "A", OnHand: 10, Reserved: 3, Available: 7, Version: 3},
		{SKU: "A", OnHand: 7, Available: 7, Version: 4},
		{SKU: "A", OnHand: 7, Reserved: 2, Available: 5, Version: 5},
		{SKU: "A", OnHand: 7, Available: 7, Version: 6},
		{SKU: "A", OnHand: 10, Available: 10, Version: 7},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stock_changed events\n got %v\nwant %v", got, want)
	}
	e.checkLedger(t, "A")
	reasons := []string{}
	for _, a := range e.ledger(t, "A") {
		reasons = append(reasons, a.Reason)
	}
	if strings.Join(reasons, ",") != "restock,release,reserve,commit,reserve,initial stock" {
		t.Fatalf("ledger reasons, newest first: %v", reasons)
	}
}

func TestReserveIsAllOrNothing(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	e.stock(t, "A", 5)
	e.stock(t, "B", 1)
	_, err := e.inv.Reserve(ctx, "r1", lines("A", 2, "B", 2, "C", 1), 0)
	wantCode(t, err, "out_of_stock")
	unavailable, _ := errs.As(err).Extra["unavailable"].([]api.Unavailable)
	want := []api.Unavailable{{SKU: "B", Requested: 2, Available: 1}, {SKU: "C", Requested: 1, Available: 0}}
	if fmt.Sprint(unavailable) != fmt.Sprint(want) {
		t.Fatalf("unavailable = %+v, want %+v", unavailable, want)
	}
	wantLevel(t, e, "A", 5, 0) // A's hold was rolled back with the rest
	wantLevel(t, e, "B", 1, 0)
	// The id was not used up by the failure.
	r, err := e.inv.Reserve(ctx, "r1", lines("B", 1, "A", 1, "A", 1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.Lines) != fmt.Sprint(lines("A", 2, "B", 1)) || r.Status != api.StatusActive {
		t.Fatalf("reservation %+v: lines not merged and sorted", r)
	}
	wantLevel(t, e, "A", 5, 2)
	e.checkLedger(t, "A")
}

func TestReserveValidation(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	for name, tc := range map[string]struct {
		id    string
		lines []api.Line
	}{
		"no id":         {"", lines("A", 1)},
		"no lines":      {"r", nil},
		"zero quantity": {"r", lines("A", 0)},
		"negative":      {"r", lines("A", -1)},
		"empty sku":     {"r", lines("", 1)},
	} {
		if _, err := e.inv.Reserve(ctx, tc.id, tc.lines, 0); !errs.HasCode(err, "validation_failed") {
			t.Errorf("%s: %v, want validation_failed", name, err)
		}
	}
}

func TestEveryCallIsIdempotent(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	e.stock(t, "A", 10)

	// Reserve twice with the same id and lines: one reservation.
	r1, err := e.inv.Reserve(ctx, "r1", lines("A", 4), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r1b, err := e.inv.Reserve(ctx, "r1", lines("A", 4), time.Minute)
	if err != nil || !r1b.ExpiresAt.Equal(r1.ExpiresAt) {
		t.Fatalf("retried reserve = %+v, %v; want the first one %+v", r1b, err, r1)
	}
	wantLevel(t, e, "A", 10, 4)
	_, err = e.inv.Reserve(ctx, "r1", lines("A", 5), time.Minute)
	wantCode(t, err, "conflict")
	wantLevel(t, e, "A", 10, 4)

	// Commit twice: one sale. Release after commit: invalid_state.
	for range 2 {
		if err := e.inv.Commit(ctx, "r1"); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	wantLevel(t, e, "A", 6, 0)
	wantCode(t, e.inv.Release(ctx, "r1"), "invalid_state")
	if _, err := e.inv.Reserve(ctx, "r1", lines("A", 4), time.Minute); err != nil {
		t.Fatalf("reserve retried after its commit: %v", err)
	}
	wantLevel(t, e, "A", 6, 0)

	// Release twice: one release. Commit after release: checkout_expired.
	if _, err := e.inv.Reserve(ctx, "r2", lines("A", 1), time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.inv.Release(ctx, "r2"); err != nil {
			t.Fatalf("release: %v", err)
		}
	}
	wantLevel(t, e, "A", 6, 0)
	err = e.inv.Commit(ctx, "r2")
	wantCode(t, err, "checkout_expired")
	if !errors.Is(err, api.ErrReservationExpired) {
		t.Fatalf("errors.Is(%v, ErrReservationExpired) = false", err)
	}
	_, err = e.inv.Reserve(ctx, "r2", lines("A", 1), time.Minute)
	wantCode(t, err, "invalid_state")

	// Unknown reservations.
	wantCode(t, e.inv.Commit(ctx, "nope"), "not_found")
	wantCode(t, e.inv.Release(ctx, "nope"), "not_found")

	// Restock twice: once. The same id with other lines: conflict.
	for range 2 {
		if err := e.inv.Restock(ctx, "x1", lines("A", 2)); err != nil {
			t.Fatalf("restock: %v", err)
		}
	}
	wantLevel(t, e, "A", 8, 0)
	wantCode(t, e.inv.Restock(ctx, "x1", lines("A", 3)), "conflict")
	wantCode(t, e.inv.Restock(ctx, "x2", lines("UNKNOWN", 1)), "not_found")
	wantLevel(t, e, "A", 8, 0)
	e.checkLedger(t, "A")
}

func TestReservationsExpireOnAFakeClock(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	e.stock(t, "A", 5)
	e.stock(t, "B", 5)
	if _, err := e.inv.Reserve(ctx, "short", lines("A", 2, "B", 1), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.inv.Reserve(ctx, "long", lines("A", 1), time.Hour); err != nil {
		t.Fatal(err)
	}
	r, err := e.inv.Reserve(ctx, "default", lines("B", 1), 0)
	if err != nil || !r.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("a reservation without ttl expires at %v (%v), want MODSHOP_RESERVATION_TTL's default 15m", r.ExpiresAt, err)
	}

	e.clock.Advance(10*time.Minute - time.Second)
	if n, err := e.svc.ExpireDue(ctx); err != nil || n != 0 {
		t.Fatalf("expired %d (%v) before any TTL passed", n, err)
	}
	wantLevel(t, e, "A", 5, 3)

	e.clock.Advance(time.Second)
	// Past its TTL it cannot be sold, even before the sweeper came by.
	wantCode(t, e.inv.Commit(ctx, "short"), "checkout_expired")
	if n, err := e.svc.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want 1", n, err)
	}
	wantLevel(t, e, "A", 5, 1)
	wantLevel(t, e, "B", 5, 1)
	if err := e.inv.Release(ctx, "short"); err != nil {
		t.Fatalf("release after expiry is a no-op, got %v", err)
	}
	_, err = e.inv.Reserve(ctx, "short", lines("A", 2, "B", 1), 10*time.Minute)
	wantCode(t, err, "checkout_expired")
	if n, _ := e.svc.ExpireDue(ctx); n != 0 {
		t.Fatalf("a second sweep expired %d more", n)
	}

	// The background sweeper does the same on its own.
	e.clock.Advance(time.Hour)
	testkit.Eventually(t, 5*time.Second, func() bool { return e.level(t, "A").Reserved == 0 && e.level(t, "B").Reserved == 0 },
		"the sweeper releases the remaining reservations")
	testkit.Eventually(t, 5*time.Second, func() bool { return len(e.up.expiredIDs()) == 3 }, "3 reservation_expired events")
	if got := strings.Join(e.up.expiredIDs(), ","); got != "short,default,long" && got != "short,long,default" {
		t.Fatalf("reservation_expired events for %q", got)
	}
	e.checkLedger(t, "A")
	e.checkLedger(t, "B")
}

func TestAdminAdjustValidation(t *testing.T) {
	t.Parallel()
	e := start(t, testkit.SQLite(t))
	e.announce(t, "A")
	for _, tc := range []struct {
		delta  int64
		reason string
		field  string
	}{
		{0, "x", "delta"},
		{1_000_001, "x", "delta"},
		{-1_000_001, "x", "delta"},
		{1, "", "reason"},
		{1, "   ", "reason"},
		{1, strings.Repeat("é", 201), "reason"},
	} {
		_, _, err := e.admin.Adjust(ctx, "A", tc.delta, tc.reason, "t", "")
		if err == nil || errs.As(err).Code != "validation_failed" || errs.As(err).Fields[0].Field != tc.field {
			t.Errorf("adjust(%d, %.10q) = %v, want a 422 on %s", tc.delta, tc.reason, err, tc.field)
		}
	}
	if _, _, err := e.admin.Adjust(ctx, "A", 1_000_000, strings.Repeat("é", 200), "t", ""); err != nil {
		t.Errorf("the largest valid adjustment: %v", err)
	}
}

// adminHTTP drives the contract's admin routes over real HTTP.
func TestAdminHTTP(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		e := start(t, db)
		shop, admin := e.shop, e.shop.AdminToken()
		e.announce(t, "SKU-A", "SKU-B", "SKU-C")

		testkit.ExpectProblem(t, shop.Get("/v1/admin/inventory", ""), 401, "unauthorized")
		testkit.ExpectProblem(t, shop.Get("/v1/admin/inventory", shop.Token("c1", "customer")), 403, "forbidden")
		testkit.ExpectProblem(t, shop.Get("/v1/admin/inventory/NOPE", admin), 404, "not_found")
		testkit.ExpectProblem(t, shop.Post("/v1/admin/inventory/NOPE/adjustments", admin, map[string]any{"delta": 1, "reason": "x"}), 404, "not_found")
		testkit.ExpectProblem(t, shop.Get("/v1/admin/inventory/NOPE/adjustments", admin), 404, "not_found")

		// 201 with the adjustment and the level.
		var created struct {
			Adjustment struct {
				ID        string    `json:"id"`
				Delta     int64     `json:"delta"`
				Reason    string    `json:"reason"`
				Actor     string    `json:"actor"`
				CreatedAt time.Time `json:"created_at"`
			} `json:"adjustment"`
			Level api.Level `json:"level"`
		}
		testkit.Expect(t, shop.Post("/v1/admin/inventory/SKU-A/adjustments", admin, map[string]any{"delta": 7, "reason": " delivery "}), 201).JSON(t, &created)
		if created.Adjustment.ID == "" || created.Adjustment.Delta != 7 || created.Adjustment.Reason != "delivery" ||
			created.Adjustment.Actor != "admin-test" || !created.Adjustment.CreatedAt.Equal(t0) ||
			created.Level != (api.Level{SKU: "SKU-A", OnHand: 7, Available: 7}) {
			t.Fatalf("created = %+v", created)
		}
		var lvl api.Level
		testkit.Expect(t, shop.Get("/v1/admin/inventory/SKU-A", admin), 200).JSON(t, &lvl)
		if lvl != (api.Level{SKU: "SKU-A", OnHand: 7, Available: 7}) {
			t.Fatalf("level = %+v", lvl)
		}

		// 409 below reserved or below zero.
		if _, err := e.inv.Reserve(ctx, "r1", lines("SKU-A", 5), 0); err != nil {
			t.Fatal(err)
		}
		testkit.ExpectProblem(t, shop.Post("/v1/admin/inventory/SKU-A/adjustments", admin, map[string]any{"delta": -3, "reason": "damaged"}), 409, "conflict")
		testkit.ExpectProblem(t, shop.Post("/v1/admin/inventory/SKU-B/adjustments", admin, map[string]any{"delta": -1, "reason": "damaged"}), 409, "conflict")
		testkit.Expect(t, shop.Post("/v1/admin/inventory/SKU-A/adjustments", admin, map[string]any{"delta": -2, "reason": "damaged"}), 201)

		// 422, 400, 415.
		for _, body := range []map[string]any{
			{"delta": 0, "reason": "x"}, {"delta": 1_000_001, "reason": "x"}, {"delta": 1, "reason": ""},
			{"delta": 1, "reason": strings.Repeat("x", 201)}, {"reason": "x"},
		} {
			testkit.ExpectProblem(t, shop.Post("/v1/admin/inventory/SKU-A/adjustments", admin, body), 422, "validation_failed")
		}
		testkit.ExpectProblem(t, shop.Post("/v1/admin/inventory/SKU-A/adjustments", admin, map[string]any{"delta": 1, "reason": "x", "extra": 1}), 400, "bad_request")
		testkit.ExpectProblem(t, shop.Post("/v1/admin/inventory/SKU-A/adjustments", admin, map[string]any{"delta": "1", "reason": "x"}), 400, "bad_request")
		testkit.ExpectProblem(t, shop.Do(testkit.Req{Method: "POST", Path: "/v1/admin/inventory/SKU-A/adjustments", Token: admin, Body: `{"delta":1,"reason":"x"}`, NoCType: true}), 415, "unsupported_media_type")

		// The list pages by SKU; the ledger pages newest first.
		var page struct {
			Items      []api.Level `json:"items"`
			NextCursor *string     `json:"next_cursor"`
		}
		testkit.Expect(t, shop.Get("/v1/admin/inventory?limit=2", admin), 200).JSON(t, &page)
		if len(page.Items) != 2 || page.Items[0].SKU != "SKU-A" || page.Items[1].SKU != "SKU-B" || page.NextCursor == nil {
			t.Fatalf("first page = %+v", page)
		}
		e.announce(t, "SKU-0") // sorts before the cursor: must not shift the next page
		cur := *page.NextCursor
		page.NextCursor = nil
		testkit.Expect(t, shop.Get("/v1/admin/inventory?limit=2&cursor="+url.QueryEscape(cur), admin), 200).JSON(t, &page)
		if len(page.Items) != 1 || page.Items[0].SKU != "SKU-C" || page.NextCursor != nil {
			t.Fatalf("second page = %+v", page)
		}
		testkit.ExpectProblem(t, shop.Get("/v1/admin/inventory?limit=0", admin), 422, "validation_failed")
		testkit.ExpectProblem(t, shop.Get("/v1/admin/inventory?cursor=!!!", admin), 422, "validation_failed")

		var ledger struct {
			Items []struct {
				Delta         int64  `json:"delta"`
				ReservedDelta int64  `json:"reserved_delta"`
				Reason        string `json:"reason"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		testkit.Expect(t, shop.Get("/v1/admin/inventory/SKU-A/adjustments?limit=2", admin), 200).JSON(t, &ledger)
		if len(ledger.Items) != 2 || ledger.Items[0].Reason != "damaged" || ledger.Items[1].Reason != "reserve" || ledger.Items[1].ReservedDelta != 5 || ledger.NextCursor == nil {
			t.Fatalf("ledger page 1 = %+v", ledger)
		}
		cur = *ledger.NextCursor
		ledger.NextCursor = nil
		testkit.Expect(t, shop.Get("/v1/admin/inventory/SKU-A/adjustments?limit=2&cursor="+url.QueryEscape(cur), admin), 200).JSON(t, &ledger)
		if len(ledger.Items) != 1 || ledger.Items[0].Reason != "delivery" || ledger.Items[0].Delta != 7 || ledger.NextCursor != nil {
			t.Fatalf("ledger page 2 = %+v", ledger)
		}
		testkit.ExpectProblem(t, shop.Get("/v1/admin/inventory/SKU-A/adjustments?cursor=eA", admin), 422, "validation_failed")

		// With an Idempotency-Key, the same request again changes nothing
		// and answers the first adjustment; the key with another delta is a
		// 422; a malformed key is a 422 that changes nothing either.
		keyed := func(key string, delta int) testkit.Response {
			return shop.Do(testkit.Req{Method: "POST", Path: "/v1/admin/inventory/SKU-A/adjustments", Token: admin,
				Body: map[string]any{"delta": delta, "reason": "delivery"}, Header: map[string]string{"Idempotency-Key": key}})
		}
		var first, again struct {
			Adjustment struct {
				ID string `json:"id"`
			} `json:"adjustment"`
			Level api.Level `json:"level"`
		}
		testkit.Expect(t, keyed("po-981", 4), 201).JSON(t, &first)
		testkit.Expect(t, keyed("po-981", 4), 201).JSON(t, &again)
		if again.Adjustment.ID != first.Adjustment.ID || again.Level != first.Level || first.Level.OnHand != 9 {
			t.Fatalf("first %+v, again %+v (want on_hand 9 both times)", first, again)
		}
		testkit.ExpectProblem(t, keyed("po-981", 5), 422, "idempotency_key_reused")
		testkit.ExpectProblem(t, keyed("po 981", 4), 422, "validation_failed")
		testkit.Expect(t, shop.Get("/v1/admin/inventory/SKU-A", admin), 200).JSON(t, &lvl)
		if lvl.OnHand != 9 {
			t.Fatalf("on_hand %d after the keyed adjustment and its repeats, want 9", lvl.OnHand)
		}
		testkit.Expect(t, shop.Get("/v1/admin/inventory/SKU-A/adjustments?limit=10", admin), 200).JSON(t, &ledger)
		if len(ledger.Items) != 4 || ledger.Items[0].Delta != 4 || ledger.Items[1].Reason != "damaged" {
			t.Fatalf("ledger after the keyed adjustment = %+v (want one entry of 4 on top)", ledger)
		}
	})
}
