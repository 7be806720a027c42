// Package api is the inventory module's public face: stock levels per SKU,
// reservations that hold stock for a checkout, and the events that tell
// other modules when stock changes.
//
// Every call that changes stock is idempotent by the id the caller gives it,
// so a caller that timed out can simply call again.
package api

import (
	"context"
	"time"

	"github.com/modshop/modshop/platform/errs"
)

// Inventory is what other modules ask of the inventory.
type Inventory interface {
	// Availability returns the stock level of each SKU in one call; a SKU the
	// inventory does not know is absent from the map.
	Availability(ctx context.Context, skus []string) (map[string]Level, error)

	// Reserve holds stock for every line, all or nothing, until ttl passes
	// (ttl <= 0 means the configured MODSHOP_RESERVATION_TTL). It fails with
	// ErrOutOfStock, listing the lines that cannot be held. Calling it again
	// with the same id and lines returns the same reservation; the same id
	// with other lines is ErrReservationMismatch.
	Reserve(ctx context.Context, reservationID string, lines []Line, ttl time.Duration) (Reservation, error)

	// Commit turns a reservation into a sale: on_hand and reserved drop.
	// Committing a committed reservation does nothing; a released or expired
	// one is ErrReservationExpired; an unknown one ErrReservationNotFound.
	Commit(ctx context.Context, reservationID string) error

	// Release gives the held stock back. Releasing a released or expired
	// reservation does nothing; a committed one is ErrInvalidState.
	Release(ctx context.Context, reservationID string) error

	// Restock puts sold stock back on hand (a cancelled order). The same id
	// again does nothing; the same id with other lines is
	// ErrReservationMismatch.
	Restock(ctx context.Context, restockID string, lines []Line) error
}

// Admin changes stock by hand: the admin HTTP API and the seed command.
type Admin interface {
	// Adjust adds delta (negative to remove) to the SKU's on_hand and records
	// who did it and why. ErrUnknownSKU for a SKU the inventory does not
	// know; ErrBelowReserved when on_hand would drop below zero or below what
	// is reserved; a 422 for a delta of 0 or beyond ±MaxAdjustment, or a
	// reason that is empty or longer than MaxReasonLen.
	//
	// A non-empty key (an Idempotency-Key, scoped to the SKU and the actor)
	// makes the adjustment happen once: asked again with the key, Adjust
	// changes nothing and returns the adjustment made the first time with
	// the level as it is now; ErrIdempotencyKeyReused when the delta or the
	// reason differ from the first request's.
	Adjust(ctx context.Context, sku string, delta int64, reason, actor, key string) (Adjustment, Level, error)
	// Receive books goods received for many SKUs at once (a delivery, the
	// demo seed): each SKU must be one the catalog knows; its level is
	// created if the catalog's variant_created event has not arrived yet.
	// Quantities are 1..MaxAdjustment. It records one ledger entry and
	// publishes one stock_changed event per SKU and returns how many SKUs it
	// booked.
	Receive(ctx context.Context, receipts []Receipt, reason, actor string) (int, error)
}

// Receipt is a quantity of a SKU received into stock.
type Receipt struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// Limits of an adjustment.
const (
	MaxAdjustment = 1_000_000
	MaxReasonLen  = 200
)

// Level is the stock of one SKU: available = on_hand - reserved, never
// below zero.
type Level struct {
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
}

// Line is a quantity of one SKU.
type Line struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// ReservationStatus is where a reservation is in its life.
type ReservationStatus string

const (
	StatusActive    ReservationStatus = "active"    // holds stock until ExpiresAt
	StatusCommitted ReservationStatus = "committed" // became a sale
	StatusReleased  ReservationStatus = "released"  // given back by the caller
	StatusExpired   ReservationStatus = "expired"   // given back by the sweeper
)

// Reservation is stock held for a checkout.
type Reservation struct {
	ID        string            `json:"id"`
	Status    ReservationStatus `json:"status"`
	Lines     []Line            `json:"lines"` // one per SKU, sorted by SKU
	ExpiresAt time.Time         `json:"expires_at"`
	CreatedAt time.Time         `json:"created_at"`
}

// Adjustment is one entry of a SKU's ledger. Every change of a level has
// one: admin adjustments, and the reservations, sales, releases and restocks
// that other modules cause.
type Adjustment struct {
	ID            string    `json:"id"`
	SKU           string    `json:"sku"`
	Delta         int64     `json:"delta"`          // change of on_hand
	ReservedDelta int64     `json:"reserved_delta"` // change of reserved
	Reason        string    `json:"reason"`
	Actor         string    `json:"actor"`
	Reference     string    `json:"reference,omitempty"` // reservation or restock id
	CreatedAt     time.Time `json:"created_at"`
}

// Unavailable is a line that cannot be served: the problem member
// "unavailable" of ErrOutOfStock lists them.
type Unavailable struct {
	SKU       string `json:"sku"`
	Requested int64  `json:"requested"`
	Available int64  `json:"available"`
}

// Errors of the inventory. Compare with errors.Is; each is itself (not
// another error of its code), across the wire too.
var (
	ErrOutOfStock          = errs.Define("inventory.out_of_stock", errs.KindConflict, "out_of_stock", "not enough stock")
	ErrReservationExpired  = errs.Define("inventory.reservation_expired", errs.KindConflict, "checkout_expired", "the reservation has expired or was released")
	ErrInvalidState        = errs.Define("inventory.invalid_state", errs.KindConflict, "invalid_state", "the reservation's state does not allow this")
	ErrReservationMismatch = errs.Define("inventory.reservation_mismatch", errs.KindConflict, "conflict", "the id was already used with other lines")
	ErrBelowReserved       = errs.Define("inventory.below_reserved", errs.KindConflict, "conflict", "on_hand would drop below zero or below what is reserved")
	ErrReservationNotFound = errs.Define("inventory.reservation_not_found", errs.KindNotFound, "not_found", "no such reservation")
	ErrUnknownSKU          = errs.Define("inventory.unknown_sku", errs.KindNotFound, "not_found", "no stock level for this SKU")
	// ErrIdempotencyKeyReused: the key was used for an adjustment of this
	// SKU by this actor with another delta or reason.
	ErrIdempotencyKeyReused = errs.Define("inventory.idempotency_key_reused", errs.KindValidation, "idempotency_key_reused", "this Idempotency-Key was used with another request body").
				WithFields(errs.FieldError{Field: "Idempotency-Key", Message: "was used for this SKU with another delta or reason"})
)

// OutOfStock is ErrOutOfStock naming the lines that cannot be served.
func OutOfStock(lines []Unavailable) *errs.Error {
	return ErrOutOfStock.With("unavailable", lines)
}

// Event names of the inventory.
const (
	EventStockChanged       = "inventory.stock_changed.v1"
	EventReservationExpired = "inventory.reservation_expired.v1"
)

// StockChanged: a SKU's level changed. Version grows by one with every
// change of that SKU, so a consumer can drop events that arrive late.
type StockChanged struct {
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
	Version   int64  `json:"version"`
}

// ReservationExpired: a reservation outlived its TTL and its stock was
// given back (a checkout reacts by expiring).
type ReservationExpired struct {
	ReservationID string    `json:"reservation_id"`
	Lines         []Line    `json:"lines"`
	ExpiredAt     time.Time `json:"expired_at"`
}

func (StockChanged) EventName() string        { return EventStockChanged }
func (e StockChanged) EventKey() string       { return e.SKU }
func (ReservationExpired) EventName() string  { return EventReservationExpired }
func (e ReservationExpired) EventKey() string { return e.ReservationID }
