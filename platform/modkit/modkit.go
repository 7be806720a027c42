// Package modkit is how a module plugs into the process: it declares what it
// is (Descriptor), gets its own database handle and outbox, and contributes
// routes, migrations, event consumers, readiness checks and background
// workers through fx groups. A module never reaches into another module.
package modkit

import (
	"context"

	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
)

// Descriptor says what a module is and how it relates to others; `modshop
// modules` prints it.
type Descriptor struct {
	Name      string
	Summary   string
	Calls     []string // modules whose api it calls
	Publishes []string // event names
	Consumes  []string // event names
	Remote    string   // where the module runs when not here (MODSHOP_REMOTE_<NAME>)
}

// Worker is a background job a module runs while the process is ready
// (reservation sweeper, search indexer, cart cleanup).
type Worker struct {
	Name  string
	Start func(ctx context.Context) error
	Stop  func(ctx context.Context) error
}

// fx group names.
const (
	GroupRoutes     = `group:"routes"`
	GroupMigrations = `group:"migrations"`
	GroupConsumers  = `group:"consumers"`
	GroupModules    = `group:"modules"`
	GroupChecks     = `group:"checks"`
	GroupWorkers    = `group:"workers"`
)

// Storage gives the module named name its database handle and outbox,
// privately, and registers the platform tables (outbox, inbox, dead letters,
// and the lease a running process holds on the module's tables) in the
// module's migrations.
func Storage(name string) fx.Option {
	return fx.Options(
		fx.Provide(fx.Private, func(r *database.Registry, b *events.Bus) (*database.Handle, *events.Outbox, error) {
			h, err := r.For(name)
			if err != nil {
				return nil, nil, err
			}
			return h, b.Outbox(h), nil
		}),
		Migrations(events.Migrations(name)),
		Migrations(database.LeaseMigrations(name)),
	)
}

// Settings gives the module's constructors its settings T, which read
// takes from the process's MODSHOP_* variables (config.Config.Env): a
// module's ReadSettings (modules/inventory/settings.go). A bad variable
// fails the start; cmd/modshop has already reported every one of them
// before anything started (app.Module.Settings).
func Settings[T any](read func(*config.Env) T) fx.Option {
	return fx.Provide(fx.Private, func(cfg config.Config) (T, error) {
		env := cfg.Env()
		s := read(env)
		return s, env.Err()
	})
}

// Migrations contributes a migration set.
func Migrations(set database.MigrationSet) fx.Option {
	return fx.Supply(fx.Annotate(set, fx.ResultTags(GroupMigrations)))
}

// Describe contributes the module's descriptor: a Descriptor, or a
// constructor of one.
func Describe(d any) fx.Option {
	if dd, ok := d.(Descriptor); ok {
		return fx.Supply(fx.Annotate(dd, fx.ResultTags(GroupModules)))
	}
	return fx.Provide(fx.Annotate(d, fx.ResultTags(GroupModules)))
}

// Routes contributes the routes built by ctor.
func Routes(ctor any) fx.Option {
	return fx.Provide(fx.Annotate(ctor, fx.ResultTags(GroupRoutes)))
}

// Consumer contributes an event consumer built by ctor.
func Consumer(ctor any) fx.Option {
	return fx.Provide(fx.Annotate(ctor, fx.ResultTags(GroupConsumers)))
}

// Workers contributes a background worker built by ctor.
func Workers(ctor any) fx.Option {
	return fx.Provide(fx.Annotate(ctor, fx.ResultTags(GroupWorkers)))
}

// Check contributes a readiness check built by ctor.
func Check(ctor any) fx.Option {
	return fx.Provide(fx.Annotate(ctor, fx.ResultTags(GroupChecks)))
}

// RouteSet is a convenience for route constructors.
func RouteSet(module string, routes ...httpx.Route) httpx.RouteSet {
	return httpx.RouteSet{Module: module, Routes: routes}
}
