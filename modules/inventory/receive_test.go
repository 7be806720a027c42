package inventory_test

import (
	"context"
	"testing"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/catalog"
	catalogapi "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/testkit"
)

// Receive runs against the real catalog: it books stock for SKUs the catalog
// knows, whether or not their variant_created event has arrived yet, and
// refuses the rest without changing anything.
func TestReceiveBooksStockForKnownSKUs(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		var (
			products catalogapi.Admin
			inv      api.Inventory
			adm      api.Admin
		)
		testkit.Start(t, []app.Module{{Name: inventory.Name, Local: inventory.Module}, {Name: catalog.Name, Local: catalog.Module}},
			testkit.Options{DB: &db, Extra: []fx.Option{fx.Populate(&products, &inv, &adm)}})
		ctx := context.Background()
		_, err := products.CreateProduct(ctx, catalogapi.NewProduct{Slug: "mug", Title: "Mug", Status: catalogapi.StatusPublished,
			Variants: []catalogapi.NewVariant{{SKU: "MUG-1", Title: "Blue", Price: 1200}, {SKU: "MUG-2", Title: "Red", Price: 1200}}})
		if err != nil {
			t.Fatal(err)
		}

		n, err := adm.Receive(ctx, []api.Receipt{{SKU: "MUG-1", Quantity: 5}, {SKU: "MUG-2", Quantity: 2}, {SKU: "MUG-1", Quantity: 1}}, "delivery 1", "test")
		if err != nil || n != 2 {
			t.Fatalf("Receive = %d, %v; want 2 SKUs", n, err)
		}
		if _, err := adm.Receive(ctx, []api.Receipt{{SKU: "MUG-2", Quantity: 3}}, "delivery 2", "test"); err != nil {
			t.Fatal(err)
		}
		levels, err := inv.Availability(ctx, []string{"MUG-1", "MUG-2"})
		if err != nil {
			t.Fatal(err)
		}
		if levels["MUG-1"].OnHand != 6 || levels["MUG-2"].OnHand != 5 {
			t.Fatalf("levels = %+v, want MUG-1 6 and MUG-2 5 on hand", levels)
		}

		_, err = adm.Receive(ctx, []api.Receipt{{SKU: "MUG-1", Quantity: 1}, {SKU: "NOPE", Quantity: 1}}, "delivery 3", "test")
		if !errs.HasCode(err, "not_found") {
			t.Fatalf("unknown SKU: err = %v, want not_found", err)
		}
		_, err = adm.Receive(ctx, []api.Receipt{{SKU: "MUG-1", Quantity: 0}}, "delivery 4", "test")
		if !errs.HasCode(err, "validation_failed") {
			t.Fatalf("zero quantity: err = %v, want validation_failed", err)
		}
		if levels, _ = inv.Availability(ctx, []string{"MUG-1", "NOPE"}); levels["MUG-1"].OnHand != 6 || len(levels) != 1 {
			t.Fatalf("a refused Receive changed stock: %+v", levels)
		}
	})
}
