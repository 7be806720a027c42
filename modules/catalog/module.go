// Package catalog is the product catalog module: categories, products with
// variants and prices, their lifecycle (draft, published, archived) and the
// events that tell other modules about them. This file is its wiring; the
// rest is internal.
package catalog

import (
	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/httpapi"
	"github.com/modshop/modshop/modules/catalog/internal/service"
	"github.com/modshop/modshop/modules/catalog/internal/store"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "catalog"

// Descriptor is what `modshop modules` shows of the module, here or remote.
var Descriptor = modkit.Descriptor{
	Name:    Name,
	Summary: "categories, products, variants and prices; admin writes, public reads of published products",
	Calls:   []string{"inventory"}, // availability of a page's variants, one call per page
	Publishes: []string{
		api.EventProductPublished, api.EventProductUpdated, api.EventProductArchived,
		api.EventVariantCreated, api.EventVariantPriceChanged,
	},
}

// Module wires the catalog: its database and outbox, migrations, service,
// routes, the watcher that makes other processes' writes show in this
// one's read cache, and the api.Catalog and api.Admin other modules and the
// seed command use.
var Module = fx.Module(Name,
	modkit.Storage(Name),
	modkit.Describe(Descriptor),
	modkit.Migrations(store.Migrations()),
	fx.Provide(fx.Private,
		store.New,
		service.New,
		func(inv inventory.Inventory) service.Availability { return inv },
	),
	// Not private, so that a test can fx.Decorate it; no other module can
	// name the type.
	fx.Provide(func() httpapi.CacheConfig { return httpapi.DefaultCacheConfig }),
	modkit.Routes(httpapi.Routes),
	modkit.Routes(internalRoutes),
	modkit.Workers(func(s *service.Service) modkit.Worker {
		w := s.Watcher(service.WatchEvery)
		return modkit.Worker{Name: "catalog.watcher", Start: w.Start, Stop: w.Stop}
	}),
	fx.Provide(
		func(s *service.Service) api.Catalog { return s },
		func(s *service.Service) api.Admin { return s },
	),
)
