// Package service is the orders module's use cases: checkouts that freeze a
// cart and hold its stock, the order placement saga, the order's life and
// the workers that finish what a crash interrupted.
//
// Calls to other modules (cart, inventory, payments) never run inside a
// database transaction of this module: each step's outcome is recorded in
// a short transaction of its own, so a crash between two steps leaves a
// record that says where to go on.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	cart "github.com/modshop/modshop/modules/cart/api"
	customers "github.com/modshop/modshop/modules/customers/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/store"
	payments "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
)

// Deps are the other modules the orders module calls.
type Deps struct {
	Carts     cart.Carts
	Customers customers.Customers // nil: a checkout needs an e-mail from every caller
	Inventory inventory.Inventory
	Payments  payments.Payments
}

// Options tune the service.
type Options struct {
	// GuestTokenKey derives guest tokens (domain.GuestToken); every
	// process of a shop has the same one.
	GuestTokenKey []byte
	Currency      string
	// ReservationTTL is how long a checkout holds its stock; 0 leaves it to
	// the inventory module (MODSHOP_RESERVATION_TTL).
	ReservationTTL time.Duration
	// Lease is how long a placement belongs to the request running it;
	// after that, a retry or the recovery worker may finish it. It bounds
	// how long a crashed placement waits.
	Lease time.Duration
	// KeyTTL is how long an Idempotency-Key and its answer are kept.
	KeyTTL time.Duration
	// AfterStep, when set, is called after each step of a placement and
	// of an order's command (tests crash the process there).
	AfterStep func(step string)
}

// Steps AfterStep is called with.
const (
	AfterClaim      = "claimed"     // the checkout is held, nothing else done
	AfterAuthorize  = "authorized"  // the payment is authorized
	AfterCommit     = "committed"   // the stock is sold, no order yet
	AfterOrderSaved = "order_saved" // the order and the answer are stored, not yet sent
	AfterResume     = "resumed"     // a retry or the recovery worker took over an unfinished placement
	AfterTransition = "transition"  // an order's command is committed, its side effects not run yet
)

// Service is the orders module.
type Service struct {
	store *store.Store
	deps  Deps
	clock clock.Clock
	opt   Options
	log   *slog.Logger
}

var _ api.Orders = (*Service)(nil)

// New makes the service.
func New(ob *events.Outbox, deps Deps, c clock.Clock, opt Options, log *slog.Logger) *Service {
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.KeyTTL <= 0 {
		opt.KeyTTL = 24 * time.Hour
	}
	return &Service{store: store.New(ob), deps: deps, clock: clock.Or(c), opt: opt, log: log}
}

// now is the clock truncated to what PostgreSQL keeps, so a value read back
// equals the one written.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) step(name string) {
	if s.opt.AfterStep != nil {
		s.opt.AfterStep(name)
	}
}

// Consumer expires a checkout when the inventory expired its reservation.
func (s *Service) Consumer(ob *events.Outbox) events.Consumer {
	return ob.Consumer("checkout_expiry", events.On(func(ctx context.Context, tx *events.Tx, e inventory.ReservationExpired) error {
		return s.store.Join(tx).ExpireByReservation(e.ReservationID, s.now())
	}))
}

// Order returns one order (api.Orders).
func (s *Service) Order(ctx context.Context, id string) (api.Order, error) {
	row, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Order{}, api.ErrOrderNotFound
	}
	if err != nil {
		return api.Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	return row.API()
}

// transient reports whether an error from another module may go away by
// itself (that module or the network is down), so the step is retried
// rather than compensated.
func transient(err error) bool {
	e := errs.As(err)
	return e == nil || e.Kind == errs.KindInternal || e.Kind == errs.KindUnavailable
}
