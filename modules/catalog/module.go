// Package catalog is the product catalog module: categories, products with
// variants and prices, their lifecycle (draft, published, archived) and the
// events that tell other modules about them. This file is its wiring; the
// rest is internal.
package catalog

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/httpapi"
	"github.com/modshop/modshop/modules/catalog/internal/service"
	"github.com/modshop/modshop/modules/catalog/internal/store"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/httpx"
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
	fx.Provide(func(cfg config.Config) httpapi.CacheConfig {
		cc := httpapi.DefaultCacheConfig
		if cfg.ReadCacheMiB > 0 { // MODSHOP_READ_CACHE_MIB
			cc.MaxBytes = int64(cfg.ReadCacheMiB) << 20
		}
		return cc
	}),
	// The public reads and their cache, shared by the routes and
	// api.Storefront.
	fx.Provide(fx.Private, func(s *service.Service, cc httpapi.CacheConfig, reg prometheus.Registerer) *httpapi.Reads {
		return httpapi.NewReads(s, cc, reg)
	}),
	modkit.Routes(func(r *httpapi.Reads) httpx.RouteSet { return r.Routes() }),
	modkit.Routes(internalRoutes),
	modkit.Workers(func(s *service.Service, log *slog.Logger) modkit.Worker {
		return modkit.NewPeriodic("catalog.watcher", service.WatchEvery, s.Watch(),
			modkit.RunOnStart(), modkit.WithLogger(log.With("module", Name))).Worker()
	}),
	fx.Provide(
		func(s *service.Service, r *httpapi.Reads) api.Catalog { return Local(s, r) },
		func(s *service.Service, r *httpapi.Reads) api.Admin { return Local(s, r) },
		func(s *service.Service, r *httpapi.Reads) api.Storefront { return Local(s, r) },
		func(s *service.Service, r *httpapi.Reads) api.BackOffice { return Local(s, r) },
	),
)
