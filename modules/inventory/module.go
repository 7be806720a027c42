// Package inventory is the stock module. This is its stand-in until the
// inventory issue: the api exists so catalog and cart can be written against
// it, and the stand-in reports no stock for any SKU.
package inventory

import (
	"context"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "inventory"

// Module wires the inventory module.
var Module = fx.Module(Name,
	modkit.Describe(modkit.Descriptor{
		Name:      Name,
		Summary:   "stock levels (stand-in: reports no stock until the inventory module is built)",
		Publishes: []string{api.EventStockChanged},
	}),
	fx.Provide(func() api.Inventory { return standIn{} }),
)

type standIn struct{}

func (standIn) Availability(context.Context, []string) (map[string]api.Level, error) {
	return map[string]api.Level{}, nil
}
