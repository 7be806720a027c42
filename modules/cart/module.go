// Package cart is the cart module: guest carts (their id is the guest's
// capability) and one active cart per customer, lines checked against the
// catalog and the inventory, priced at read time, closed when their order is
// placed and deleted after 30 days untouched.
package cart

import (
	"context"
	"log/slog"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/httpapi"
	"github.com/modshop/modshop/modules/cart/internal/service"
	"github.com/modshop/modshop/modules/cart/internal/store"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "cart"

// CleanupInterval is how often stale carts are looked for.
const CleanupInterval = time.Hour

// Descriptor is what `modshop modules` shows of the module, here or remote.
var Descriptor = modkit.Descriptor{
	Name:     Name,
	Summary:  "guest and customer carts, priced from the catalog at read time",
	Calls:    []string{"catalog (variants by SKU)", "inventory (availability)"},
	Consumes: []string{orders.EventOrderPlaced},
}

// Module wires the cart module.
var Module = fx.Module(Name,
	modkit.Storage(Name),
	modkit.Migrations(store.Migrations),
	modkit.Describe(Descriptor),
	// The service is in the graph for the module's own tests; other modules
	// cannot name its internal type and see only api.Carts.
	fx.Provide(newService),
	fx.Provide(func(s *service.Service) api.Carts { return Local(s) }),
	fx.Provide(func(s *service.Service) api.Merger { return Local(s) }), // remote_merge.go
	fx.Provide(func(s *service.Service) api.Shopping { return Local(s) }),
	modkit.Consumer(func(s *service.Service, ob *events.Outbox) events.Consumer { return s.Consumer(ob) }),
	modkit.Routes(func(s *service.Service) httpx.RouteSet { return httpapi.Routes(s) }),
	modkit.Routes(internalRoutes),
	modkit.Workers(func(s *service.Service, log *slog.Logger) modkit.Worker {
		log = log.With("module", Name)
		clean := func(ctx context.Context) error {
			n, err := s.DeleteStale(ctx)
			if n > 0 {
				log.Info("stale carts deleted", "count", n)
			}
			return err
		}
		return modkit.NewPeriodic("cart.cleanup", CleanupInterval, clean, modkit.WithLogger(log)).Worker()
	}),
)

type serviceIn struct {
	fx.In
	Outbox    *events.Outbox
	Catalog   catalog.Catalog
	Inventory inventory.Inventory
	Config    config.Config
	Log       *slog.Logger
	Clock     clock.Clock `optional:"true"` // tests supply a fake one
}

func newService(in serviceIn) *service.Service {
	return service.New(in.Outbox, in.Catalog, in.Inventory, in.Clock, in.Config.Currency, in.Log.With("module", Name))
}
