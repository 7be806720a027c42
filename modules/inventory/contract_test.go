package inventory_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.Inventory and api.Admin, run twice: against the
// module itself, and through its HTTP client (remote.go) against a real
// server. Both runs assert the same outcomes, so any difference between the
// two implementations fails one of them.
func TestContract(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db)
			contract(t, e, e.inv, e.admin)
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			c := inventory.NewClient(remote.NewClient(inventory.Name, e.shop.URL, internalToken))
			contract(t, e, c, c)
		})
	})
}

func contract(t *testing.T, e *env, inv api.Inventory, admin api.Admin) {
	e.announce(t, "C-1", "C-2")
	if _, lvl, err := admin.Adjust(ctx, "C-1", 5, "delivery", "contract", ""); err != nil || lvl.OnHand != 5 || lvl.Available != 5 {
		t.Fatalf("adjust: %+v %v", lvl, err)
	}
	if _, _, err := admin.Adjust(ctx, "C-2", 2, "delivery", "contract", ""); err != nil {
		t.Fatalf("adjust C-2: %v", err)
	}
	// Receive checks SKUs with the catalog, which this test runs without.
	wantErr(t, "receive without a catalog", second(admin.Receive(ctx, []api.Receipt{{SKU: "C-2", Quantity: 2}}, "delivery", "contract")),
		errs.Unavailable(""), 503)
	wantErr(t, "adjust below zero", third(admin.Adjust(ctx, "C-1", -6, "shrink", "contract", "")), api.ErrBelowReserved, 409)
	wantErr(t, "adjust unknown SKU", third(admin.Adjust(ctx, "NOPE", 1, "x", "contract", "")), api.ErrUnknownSKU, 404)
	wantErr(t, "adjust by 0", third(admin.Adjust(ctx, "C-1", 0, "x", "contract", "")), errs.Invalid(), 422)

	// With an Idempotency-Key, an adjustment happens once per SKU, actor
	// and key; the key with another delta is refused, another actor's key
	// is its own.
	e.announce(t, "C-K")
	first, lvl, err := admin.Adjust(ctx, "C-K", 7, "delivery", "contract", "delivery-0042")
	if err != nil || lvl.OnHand != 7 || first.Delta != 7 {
		t.Fatalf("adjust with a key: %+v %+v %v", first, lvl, err)
	}
	replayed, lvl, err := admin.Adjust(ctx, "C-K", 7, "delivery", "contract", "delivery-0042")
	if err != nil || replayed.ID != first.ID || !replayed.CreatedAt.Equal(first.CreatedAt) || lvl.OnHand != 7 {
		t.Fatalf("the same keyed adjustment again: %+v (first %+v) %+v %v", replayed, first, lvl, err)
	}
	wantErr(t, "key with another delta", third(admin.Adjust(ctx, "C-K", 8, "delivery", "contract", "delivery-0042")), api.ErrIdempotencyKeyReused, 422)
	wantErr(t, "key with another reason", third(admin.Adjust(ctx, "C-K", 7, "recount", "contract", "delivery-0042")), api.ErrIdempotencyKeyReused, 422)
	wantErr(t, "key with a space", third(admin.Adjust(ctx, "C-K", 1, "x", "contract", "bad key")), errs.Invalid(), 422)
	if _, lvl, err := admin.Adjust(ctx, "C-K", 7, "delivery", "other-admin", "delivery-0042"); err != nil || lvl.OnHand != 14 {
		t.Fatalf("another actor's key: %+v %v", lvl, err)
	}

	lv, err := inv.Availability(ctx, []string{"C-1", "C-2", "NOPE"})
	if err != nil || len(lv) != 2 || lv["C-1"] != (api.Level{SKU: "C-1", OnHand: 5, Available: 5}) || lv["C-2"].OnHand != 2 {
		t.Fatalf("availability: %+v %v", lv, err)
	}

	r, err := inv.Reserve(ctx, "res-1", []api.Line{{SKU: "C-2", Quantity: 1}, {SKU: "C-1", Quantity: 2}}, time.Minute)
	if err != nil || r.ID != "res-1" || r.Status != api.StatusActive || len(r.Lines) != 2 || r.Lines[0].SKU != "C-1" {
		t.Fatalf("reserve: %+v %v", r, err)
	}
	again, err := inv.Reserve(ctx, "res-1", []api.Line{{SKU: "C-1", Quantity: 2}, {SKU: "C-2", Quantity: 1}}, time.Minute)
	if err != nil || !again.ExpiresAt.Equal(r.ExpiresAt) || !reflect.DeepEqual(again.Lines, r.Lines) {
		t.Fatalf("reserve again: %+v %v (first %+v)", again, err, r)
	}
	wantErr(t, "reserve mismatch", second(inv.Reserve(ctx, "res-1", []api.Line{{SKU: "C-1", Quantity: 1}}, time.Minute)), api.ErrReservationMismatch, 409)
	_, err = inv.Reserve(ctx, "res-2", []api.Line{{SKU: "C-1", Quantity: 4}}, time.Minute)
	wantErr(t, "out of stock", err, api.ErrOutOfStock, 409)
	var short []api.Unavailable
	roundTrip(t, errs.As(err).Extra["unavailable"], &short)
	if len(short) != 1 || short[0] != (api.Unavailable{SKU: "C-1", Requested: 4, Available: 3}) {
		t.Fatalf("unavailable: %+v", short)
	}
	wantErr(t, "reserve bad quantity", second(inv.Reserve(ctx, "res-3", []api.Line{{SKU: "C-1", Quantity: 0}}, time.Minute)), errs.Invalid(), 422)

	if err := inv.Commit(ctx, "res-1"); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := inv.Commit(ctx, "res-1"); err != nil {
		t.Fatalf("commit again: %v", err)
	}
	wantErr(t, "release committed", inv.Release(ctx, "res-1"), api.ErrInvalidState, 409)
	wantErr(t, "commit unknown", inv.Commit(ctx, "res-nope"), api.ErrReservationNotFound, 404)

	if _, err := inv.Reserve(ctx, "res-4", []api.Line{{SKU: "C-1", Quantity: 1}}, time.Minute); err != nil {
		t.Fatalf("reserve res-4: %v", err)
	}
	if err := inv.Release(ctx, "res-4"); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := inv.Release(ctx, "res-4"); err != nil {
		t.Fatalf("release again: %v", err)
	}
	wantErr(t, "commit released", inv.Commit(ctx, "res-4"), api.ErrReservationExpired, 409)

	if err := inv.Restock(ctx, "rs-1", []api.Line{{SKU: "C-1", Quantity: 2}}); err != nil {
		t.Fatalf("restock: %v", err)
	}
	if err := inv.Restock(ctx, "rs-1", []api.Line{{SKU: "C-1", Quantity: 2}}); err != nil {
		t.Fatalf("restock again: %v", err)
	}
	wantErr(t, "restock mismatch", inv.Restock(ctx, "rs-1", []api.Line{{SKU: "C-1", Quantity: 3}}), api.ErrReservationMismatch, 409)
	lv, err = inv.Availability(ctx, []string{"C-1"})
	if err != nil || lv["C-1"] != (api.Level{SKU: "C-1", OnHand: 5, Available: 5}) {
		t.Fatalf("C-1 at the end: %+v %v (5 - 2 sold + 2 restocked)", lv, err)
	}
}

func second[T any](_ T, err error) error { return err }

func third[A, B any](_ A, _ B, err error) error { return err }

// wantErr checks an error's code and HTTP status: what survives the wire.
func wantErr(t *testing.T, what string, err error, want *errs.Error, status int) {
	t.Helper()
	e := errs.As(err)
	if e == nil || !errors.Is(err, want) || e.Kind.Status() != status {
		t.Fatalf("%s: got %v, want %s (%d)", what, err, want.Code, status)
	}
	if status == http.StatusUnprocessableEntity && len(e.Fields) == 0 {
		t.Fatalf("%s: a validation error names its fields", what)
	}
}

func roundTrip(t *testing.T, v, into any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, into)
	}
	if err != nil {
		t.Fatalf("round trip %T: %v", v, err)
	}
}
