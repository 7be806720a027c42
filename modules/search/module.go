// Package search is the search module: its own read model, fed only by
// catalog and inventory events, and a full-text index (bleve) built from it.
package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/modules/search/internal/engine"
	"github.com/modshop/modshop/modules/search/internal/httpapi"
	"github.com/modshop/modshop/modules/search/internal/indexer"
	"github.com/modshop/modshop/modules/search/internal/service"
	"github.com/modshop/modshop/modules/search/internal/store"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/fsmode"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "search"

// Descriptor is what `modshop modules` shows of the module, here or remote.
var Descriptor = modkit.Descriptor{
	Name:    Name,
	Summary: "full-text product search over a read model built from events",
	Calls:   []string{"catalog (categories, reindex)", "inventory (reindex)"},
	Consumes: []string{catalog.EventProductPublished, catalog.EventProductUpdated, catalog.EventProductArchived,
		inventory.EventStockChanged},
}

// Module wires the search module.
var Module = fx.Module(Name,
	modkit.Storage(Name),
	modkit.Migrations(store.Migrations),
	modkit.Describe(Descriptor),
	fx.Provide(
		fx.Private,
		newEngine,
		store.New,
		func(st *store.Store, e engine.Engine, reg prometheus.Registerer, log *slog.Logger) *indexer.Indexer {
			return indexer.New(st, e, reg, log.With("module", Name))
		},
		service.New,
	),
	// The search route's handler and its cache, shared with api.Searcher.
	fx.Provide(fx.Private, func(s *service.Service, cfg config.Config, cc httpapi.CacheConfig, reg prometheus.Registerer) *httpapi.Handler {
		return httpapi.NewHandler(s, cfg.Currency, cc, reg)
	}),
	fx.Provide(
		func(s *service.Service, h *httpapi.Handler) api.Search { return Local(s, h) },
		func(s *service.Service, h *httpapi.Handler) api.Searcher { return Local(s, h) },
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
	modkit.Consumer(func(s *service.Service, ob *events.Outbox) events.Consumer { return s.Consumer(ob) }),
	modkit.Routes(func(s *service.Service, h *httpapi.Handler, log *slog.Logger) httpx.RouteSet {
		set := h.Routes()
		set.Routes = append(set.Routes, httpapi.AdminRoutes(s, log)...)
		return set
	}),
	modkit.Routes(internalRoutes),
	modkit.Workers(func(ix *indexer.Indexer) modkit.Worker { return ix.Worker() }),
	// A replica whose index is behind the read model (a new replica, an
	// emptied data folder) is not ready until it has caught up.
	modkit.Check(func(ix *indexer.Indexer) httpx.Check {
		return httpx.Check{Name: "search_index", Fn: ix.Ready, ShowReason: true}
	}),
)

// routes are the module's public routes (as Module serves them). Building
// them calls nothing on s, so Remote builds the same table with no service
// to forward it.
func routes(s *service.Service, currency string, cc httpapi.CacheConfig, reg prometheus.Registerer, log *slog.Logger) httpx.RouteSet {
	set := httpapi.Routes(s, currency, cc, reg)
	set.Routes = append(set.Routes, httpapi.AdminRoutes(s, log)...)
	return set
}

// lateEngine opens the index when the process starts, not when the graph is
// built, so `modshop modules` or `migrate` never touch (or lock) it.
type lateEngine struct{ engine.Engine }

// Compact merges the index's segments after a bulk load, when the engine can.
func (e *lateEngine) Compact(ctx context.Context) error {
	if c, ok := e.Engine.(interface{ Compact(context.Context) error }); ok {
		return c.Compact(ctx)
	}
	return nil
}

func newEngine(lc fx.Lifecycle, cfg config.Config, log *slog.Logger) engine.Engine {
	e := &lateEngine{}
	path := filepath.Join(cfg.DataDir, "search.bleve")
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			// The index is the shop's data: private to its user (fsmode).
			if err := fsmode.Dir(cfg.DataDir); err != nil {
				return err
			}
			b, err := engine.OpenBleve(path)
			if errors.Is(err, engine.ErrSchemaMismatch) {
				log.Warn("search index was built by another version; rebuilding", "module", Name, "path", path)
				if err = os.RemoveAll(path); err == nil {
					b, err = engine.OpenBleve(path)
				}
			}
			if err != nil {
				return fmt.Errorf("open search index %s: %w", path, err)
			}
			e.Engine = b
			return nil
		},
		OnStop: func(context.Context) error {
			if e.Engine == nil {
				return nil
			}
			return e.Close()
		},
	})
	return e
}
