// Package inventory is the stock module: a level per SKU (created when the
// catalog announces a variant), a ledger of every change, reservations that
// hold stock for a checkout and expire on their own, and the admin API.
package inventory

import (
	"context"
	"log/slog"
	"time"

	"go.uber.org/fx"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/httpapi"
	"github.com/modshop/modshop/modules/inventory/internal/service"
	"github.com/modshop/modshop/modules/inventory/internal/store"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "inventory"

// SweepInterval is how often expired reservations are given back; an
// expired reservation holds its stock at most this much longer than its TTL.
const SweepInterval = time.Second

// Descriptor is what `modshop modules` shows of the module, here or remote.
var Descriptor = modkit.Descriptor{
	Name:      Name,
	Summary:   "stock levels, ledger and reservations per SKU",
	Publishes: []string{api.EventStockChanged, api.EventReservationExpired},
	Calls:     []string{"catalog (Receive: does the SKU exist)"},
	Consumes:  []string{catalog.EventVariantCreated},
}

// Module wires the inventory module.
var Module = fx.Module(Name,
	modkit.Storage(Name),
	modkit.Migrations(store.Migrations),
	modkit.Describe(Descriptor),
	modkit.Settings(ReadSettings),
	// The service is in the graph for the module's own tests; other modules
	// cannot name its internal type and see only the api interfaces.
	fx.Provide(newService),
	fx.Provide(
		func(s *service.Service) api.Inventory { return Local(s) },
		func(s *service.Service) api.Admin { return Local(s) },
		func(s *service.Service) api.BackOffice { return Local(s) },
	),
	// Receive checks SKUs with the catalog, which in turn asks inventory for
	// availability: bind it once both exist. Optional, so inventory still
	// runs alone (its own tests) without a catalog.
	fx.Invoke(func(in struct {
		fx.In
		Service *service.Service
		Catalog catalog.Catalog `optional:"true"`
	}) {
		in.Service.UseCatalog(in.Catalog)
	}),
	modkit.Consumer(func(s *service.Service, ob *events.Outbox) events.Consumer { return s.Consumer(ob) }),
	modkit.Routes(func(s *service.Service) httpx.RouteSet { return httpapi.Routes(s) }),
	modkit.Routes(internalRoutes),
	modkit.Workers(func(s *service.Service, log *slog.Logger) modkit.Worker {
		sweep := func(ctx context.Context) error { _, err := s.ExpireDue(ctx); return err }
		return modkit.NewPeriodic("inventory.sweeper", SweepInterval, sweep, modkit.WithLogger(log.With("module", Name))).Worker()
	}),
)

type serviceIn struct {
	fx.In
	Outbox   *events.Outbox
	Settings Settings
	Log      *slog.Logger
	Clock    clock.Clock `optional:"true"` // tests supply a fake one
}

func newService(in serviceIn) *service.Service {
	return service.New(in.Outbox, in.Clock, in.Settings.ReservationTTL, in.Log.With("module", Name))
}
