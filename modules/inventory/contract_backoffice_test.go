package inventory_test

import (
	"net/http"
	"testing"

	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// The contract of api.BackOffice, in process (Local, as fx provides it)
// and through the HTTP client.
func TestContractBackOffice(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		t.Run("local", func(t *testing.T) {
			e := start(t, db)
			backOfficeContract(t, e, inventory.Local(e.svc))
		})
		t.Run("http", func(t *testing.T) {
			e := start(t, testkit.Fresh(t, db))
			backOfficeContract(t, e, inventory.NewClient(remote.NewClient(inventory.Name, e.shop.URL, internalToken)))
		})
	})
}

func backOfficeContract(t *testing.T, e *env, bo api.BackOffice) {
	e.announce(t, "BO-A", "BO-B", "BO-C")
	for _, a := range []struct {
		sku   string
		delta int64
	}{{"BO-A", 5}, {"BO-A", -2}, {"BO-A", 4}, {"BO-B", 1}} {
		if _, _, err := e.admin.Adjust(ctx, a.sku, a.delta, "count", "contract", ""); err != nil {
			t.Fatalf("adjust %s: %v", a.sku, err)
		}
	}
	if _, err := e.inv.Reserve(ctx, "bo-res", []api.Line{{SKU: "BO-A", Quantity: 3}}, 0); err != nil {
		t.Fatalf("reserve: %v", err)
	}

	lvl, err := bo.Level(ctx, "BO-A")
	if err != nil || lvl != (api.Level{SKU: "BO-A", OnHand: 7, Reserved: 3, Available: 4}) {
		t.Fatalf("level: %+v %v", lvl, err)
	}
	wantErr(t, "level of an unknown SKU", second(bo.Level(ctx, "NOPE")), api.ErrUnknownSKU, http.StatusNotFound)

	// Levels: SKU order, after the SKU given, the limit honoured.
	page, err := bo.Levels(ctx, "", 2)
	if err != nil || len(page) != 2 || page[0].SKU != "BO-A" || page[1].SKU != "BO-B" || page[0].Reserved != 3 {
		t.Fatalf("first page of levels: %+v %v", page, err)
	}
	page, err = bo.Levels(ctx, "BO-B", 2)
	if err != nil || len(page) != 1 || page[0] != (api.Level{SKU: "BO-C"}) {
		t.Fatalf("levels after BO-B: %+v %v", page, err)
	}
	if page, err = bo.Levels(ctx, "", 0); err != nil || len(page) != 3 {
		t.Fatalf("levels with limit 0 (the default): %+v %v", page, err)
	}

	// Ledger: newest first, before the id given.
	l, err := bo.Ledger(ctx, "BO-A", "", 2)
	if err != nil || len(l) != 2 || l[0].ReservedDelta != 3 || l[0].Reference != "bo-res" || l[1].Delta != 4 || l[1].Actor != "contract" {
		t.Fatalf("ledger: %+v %v", l, err)
	}
	rest, err := bo.Ledger(ctx, "BO-A", l[1].ID, 10)
	if err != nil || len(rest) != 2 || rest[0].Delta != -2 || rest[1].Delta != 5 || rest[1].Reason != "count" {
		t.Fatalf("ledger before %s: %+v %v", l[1].ID, rest, err)
	}
	if none, err := bo.Ledger(ctx, "BO-C", "", 10); err != nil || len(none) != 0 {
		t.Fatalf("ledger of a SKU without changes: %+v %v", none, err)
	}
	wantErr(t, "ledger of an unknown SKU", second(bo.Ledger(ctx, "NOPE", "", 10)), api.ErrUnknownSKU, http.StatusNotFound)
	wantErr(t, "ledger before a bad id", second(bo.Ledger(ctx, "BO-A", "x", 10)), errs.Invalid(), http.StatusUnprocessableEntity)
}
