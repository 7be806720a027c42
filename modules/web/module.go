// Package web is the storefront and the back office: HTML pages, rendered
// on the server from the other modules' apis, served by the same binary
// as the JSON API. It is a module like any other: it calls the others only
// through their api packages (in this process or over HTTP, by
// configuration), owns one table of its own (the sessions of signed-in
// visitors), and can run in a process of its own (MODSHOP_MODULES=web with
// MODSHOP_REMOTE_* for the rest).
package web

import (
	"context"
	"log/slog"
	"time"

	"go.uber.org/fx"

	cart "github.com/modshop/modshop/modules/cart/api"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	customers "github.com/modshop/modshop/modules/customers/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	payments "github.com/modshop/modshop/modules/payments/api"
	search "github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/modules/web/internal/site"
	"github.com/modshop/modshop/modules/web/internal/store"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "web"

// Needs are the modules whose apis the pages call.
var Needs = []string{"catalog", "search", "cart", "customers", "orders", "inventory", "payments"}

// SweepInterval is how often expired sessions are deleted.
const SweepInterval = time.Hour

// Descriptor is what `modshop modules` shows of the module.
var Descriptor = modkit.Descriptor{
	Name:    Name,
	Summary: "the storefront and back office: server-rendered pages over the other modules' apis",
	Calls:   Needs,
}

// Module wires the web module.
var Module = fx.Module(Name,
	modkit.Storage(Name),
	modkit.Migrations(store.Migrations),
	modkit.Describe(Descriptor),
	modkit.Settings(ReadSettings),
	fx.Provide(fx.Private, func(h *database.Handle) *store.Store { return store.New(h) }),
	fx.Provide(fx.Private, newSite),
	modkit.Routes(func(s *site.Site) httpx.RouteSet { return s.Routes() }),
	modkit.Workers(func(st *store.Store, log *slog.Logger) modkit.Worker {
		log = log.With("module", Name)
		sweep := func(ctx context.Context) error {
			n, err := st.DeleteExpired(ctx, time.Now())
			if n > 0 {
				log.Info("expired sessions deleted", "count", n)
			}
			return err
		}
		return modkit.NewPeriodic("web.sessions", SweepInterval, sweep, modkit.WithLogger(log)).Worker()
	}),
)

type siteIn struct {
	fx.In
	Catalog   catalog.Catalog
	Carts     cart.Carts
	Customers customers.Customers
	Orders    orders.Orders
	Inventory inventory.Inventory
	Payments  payments.Payments
	Sessions  *store.Store
	Bus       *events.Bus
	Keys      *auth.Keys
	Log       *slog.Logger
	Clock     clock.Clock `optional:"true"` // tests supply a fake one
	Settings  Settings

	// account pages (account.go): registration, sign-in, profile, address
	// book, order history, guest cart merge
	Accounts customers.Accounts
	Merger   cart.Merger
	History  orders.History

	// cart, checkout and orders pages (cart.go)
	Shopping cart.Shopping
	Shop     orders.Shop

	// back office (orders, customers): every order and its commands, every account
	OrderDesk        orders.BackOffice
	CustomerAccounts customers.BackOffice

	// storefront: the browsing pages (home, categories, search, products)
	Storefront catalog.Storefront
	Search     search.Searcher

	// Back office of products and stock (admin_catalog.go).
	CatalogAdmin        catalog.Admin
	CatalogBackOffice   catalog.BackOffice
	InventoryAdmin      inventory.Admin
	InventoryBackOffice inventory.BackOffice
	Config              config.Config
}

func newSite(in siteIn) (*site.Site, error) {
	return site.New(site.Deps{
		Catalog: in.Catalog, Carts: in.Carts, Customers: in.Customers, Orders: in.Orders,
		Inventory: in.Inventory, Payments: in.Payments, Sessions: in.Sessions, Bus: in.Bus,
		OrderDesk: in.OrderDesk, CustomerAccounts: in.CustomerAccounts, // back office (orders, customers)
		CSRFKey: in.Keys.Derive("web.csrf"), PageCacheBytes: in.Settings.PageCacheMiB << 20, Clock: in.Clock, Log: in.Log.With("module", Name),
		Accounts: in.Accounts, Merger: in.Merger, History: in.History, // account pages
		Shopping: in.Shopping, Shop: in.Shop, // cart, checkout and orders pages (cart.go)
		Storefront: in.Storefront, Search: in.Search, // storefront

		// Back office of products and stock (admin_catalog.go).
		CatalogAdmin: in.CatalogAdmin, CatalogBackOffice: in.CatalogBackOffice,
		InventoryAdmin: in.InventoryAdmin, InventoryBackOffice: in.InventoryBackOffice, Currency: in.Config.Currency,
	})
}
