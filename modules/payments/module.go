// Package payments is the payments module: authorizations, captures, voids
// and refunds through a payment provider, each idempotent by the payment id
// its caller chooses, the history of every payment, and the admin API.
package payments

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/modules/payments/internal/httpapi"
	"github.com/modshop/modshop/modules/payments/internal/provider"
	"github.com/modshop/modshop/modules/payments/internal/service"
	"github.com/modshop/modshop/modules/payments/internal/store"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "payments"

// Descriptor is what `modshop modules` shows of the module, here or remote.
var Descriptor = modkit.Descriptor{
	Name:    Name,
	Summary: "payment authorizations, captures, voids and refunds through a provider",
	Publishes: []string{api.EventPaymentAuthorized, api.EventPaymentCaptured, api.EventPaymentVoided,
		api.EventPaymentRefunded, api.EventPaymentFailed},
}

// Module wires the payments module.
var Module = fx.Module(Name,
	modkit.Storage(Name),
	modkit.Migrations(store.Migrations),
	modkit.Describe(Descriptor),
	// The test provider is the only one built in; a real provider's adapter
	// replaces it here, and the module's tests decorate it to fail on cue.
	fx.Provide(provider.NewTest),
	// The service is in the graph for the module's own tests; other modules
	// cannot name its internal type and see only api.Payments.
	fx.Provide(newService),
	fx.Provide(func(s *service.Service) api.Payments { return Local(s) }),
	modkit.Routes(func(s *service.Service) httpx.RouteSet { return httpapi.Routes(s) }),
	modkit.Routes(internalRoutes),
)

type serviceIn struct {
	fx.In
	Outbox   *events.Outbox
	Provider provider.Provider
	Log      *slog.Logger
	Clock    clock.Clock `optional:"true"` // tests supply a fake one
}

func newService(in serviceIn) *service.Service {
	return service.New(in.Outbox, in.Provider, in.Clock, in.Log.With("module", Name))
}
