// Package orders is the checkout and order module: a checkout freezes a
// cart and holds its stock; placing an order is a saga (authorize the
// payment, sell the stock, write the order) whose progress is recorded, so a
// crash is finished or undone at restart; an order then lives placed →
// shipped → delivered, or is cancelled or refunded.
package orders

import (
	"log/slog"
	"time"

	"go.uber.org/fx"

	cart "github.com/modshop/modshop/modules/cart/api"
	customers "github.com/modshop/modshop/modules/customers/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/httpapi"
	"github.com/modshop/modshop/modules/orders/internal/service"
	"github.com/modshop/modshop/modules/orders/internal/store"
	payments "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "orders"

// RecoveryInterval is how often unfinished placements and failed order
// effects are looked for.
const RecoveryInterval = time.Second

// Tuning changes the module's timings; tests supply it (short leases, a
// crash after a step). The zero value is production's.
type Tuning struct {
	Lease     time.Duration
	AfterStep func(step string)
}

// Descriptor is what `modshop modules` shows of the module, here or remote.
var Descriptor = modkit.Descriptor{
	Name:    Name,
	Summary: "checkout, the order placement saga and the order's life",
	Calls: []string{"cart (lines at checkout)", "customers (default e-mail)", "inventory (reserve, commit, release, restock)",
		"payments (authorize, capture, void, refund)"},
	Publishes: []string{api.EventOrderPlaced, api.EventOrderCancelled, api.EventOrderShipped, api.EventOrderDelivered, api.EventOrderRefunded},
	Consumes:  []string{inventory.EventReservationExpired},
}

// Module wires the orders module.
var Module = fx.Module(Name,
	modkit.Storage(Name),
	modkit.Migrations(store.Migrations),
	modkit.Describe(Descriptor),
	// The service is in the graph for the module's own tests; other modules
	// cannot name its internal type and see only api.Orders.
	fx.Provide(newService),
	fx.Provide(func(s *service.Service) api.Orders { return Local(s) }),
	fx.Provide(func(s *service.Service) api.History { return Local(s) }), // remote_history.go
	fx.Provide(func(s *service.Service) api.Shop { return Local(s) }),
	fx.Provide(func(s *service.Service) api.BackOffice { return Local(s) }), // back office (web admin)
	modkit.Consumer(func(s *service.Service, ob *events.Outbox) events.Consumer { return s.Consumer(ob) }),
	modkit.Routes(func(s *service.Service) httpx.RouteSet { return httpapi.Routes(s) }),
	modkit.Routes(internalRoutes),
	modkit.Workers(func(s *service.Service, log *slog.Logger) modkit.Worker {
		return modkit.NewPeriodic("orders.recovery", RecoveryInterval, s.Recovery().Run, modkit.WithLogger(log.With("module", Name))).Worker()
	}),
)

type serviceIn struct {
	fx.In
	Outbox    *events.Outbox
	Carts     cart.Carts
	Customers customers.Customers `optional:"true"`
	Inventory inventory.Inventory
	Payments  payments.Payments
	Config    config.Config
	Log       *slog.Logger
	Clock     clock.Clock `optional:"true"` // tests supply a fake one
	Tuning    *Tuning     `optional:"true"`
	Keys      *auth.Keys
}

func newService(in serviceIn) *service.Service {
	// The reservation's TTL is the inventory module's setting: a checkout
	// reserves with none.
	opt := service.Options{Currency: in.Config.Currency, GuestTokenKey: in.Keys.Derive("orders.guest-token")}
	if in.Tuning != nil {
		opt.Lease, opt.AfterStep = in.Tuning.Lease, in.Tuning.AfterStep
	}
	return service.New(in.Outbox, service.Deps{Carts: in.Carts, Customers: in.Customers, Inventory: in.Inventory, Payments: in.Payments},
		in.Clock, opt, in.Log.With("module", Name))
}
