// Package api is the payments module's public face: authorizing, capturing,
// voiding and refunding a payment through a provider, the payment as other
// modules see it, its errors and its events.
//
// Every call is idempotent by the payment id the caller chooses: a caller
// that timed out, or crashed and restarted, simply calls again and gets the
// same outcome, and the provider is never asked to charge twice. No card
// data ever reaches this module: a payment method is a provider's token
// (the test provider's are "pm_card_visa" and friends).
package api

import (
	"context"
	"time"

	"github.com/modshop/modshop/platform/errs"
)

// Payments is what other modules ask of payments.
type Payments interface {
	// Authorize holds the amount on the payment method. The same id again
	// returns the same payment (or the same ErrDeclined) without a second
	// authorization; the same id with another amount, currency, method or
	// reference is ErrMismatch. A method the provider does not know is a
	// 422 naming the field "payment_method", and nothing is stored.
	Authorize(ctx context.Context, req AuthorizeRequest) (Payment, error)
	// Capture takes the authorized amount. Capturing a captured payment
	// does nothing; a voided, refunded or failed one is ErrInvalidState.
	Capture(ctx context.Context, id string) (Payment, error)
	// Void gives up an authorization. Voiding a voided payment does
	// nothing; a captured or refunded one is ErrInvalidState (refund it).
	Void(ctx context.Context, id string) (Payment, error)
	// Refund pays a captured amount back. Refunding a refunded payment does
	// nothing; any payment not captured is ErrInvalidState.
	Refund(ctx context.Context, id string) (Payment, error)
	// Payment returns one payment; ErrNotFound when there is none.
	Payment(ctx context.Context, id string) (Payment, error)
}

// AuthorizeRequest asks for an authorization.
type AuthorizeRequest struct {
	// ID is the payment's id, chosen by the caller, 1..100 characters of
	// [A-Za-z0-9_-]: it is the idempotency key of the authorization.
	ID string `json:"id"`
	// Reference says what the payment is for (a checkout or order id).
	Reference string `json:"reference"`
	Amount    int64  `json:"amount" doc:"minor units, > 0"`
	Currency  string `json:"currency" doc:"ISO 4217, upper case"`
	// Method is the provider's token of a payment method.
	Method string `json:"method"`
}

// Status is where a payment is in its life.
type Status string

const (
	// StatusPending: the provider was asked and has not answered yet (a
	// crash in between leaves it so; the next call with its id finishes it).
	StatusPending    Status = "pending"
	StatusAuthorized Status = "authorized"
	StatusCaptured   Status = "captured"
	StatusVoided     Status = "voided"
	StatusRefunded   Status = "refunded"
	StatusFailed     Status = "failed" // the authorization was declined
)

// Payment is a payment as other modules see it.
type Payment struct {
	ID          string `json:"id"`
	Reference   string `json:"reference"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Method      string `json:"method"`
	Brand       string `json:"brand" doc:"visa, mastercard, ... as the provider reports it"`
	Status      Status `json:"status"`
	Provider    string `json:"provider"`
	ProviderRef string `json:"provider_ref" doc:"the provider's id of the authorization"`
	// DeclineCode says why a failed authorization was declined
	// (card_declined, insufficient_funds).
	DeclineCode string         `json:"decline_code,omitempty"`
	History     []StatusChange `json:"history"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// StatusChange is one step of a payment's history.
type StatusChange struct {
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
}

// Errors of payments. Compare with errors.Is; each is itself (not
// another error of its code), across the wire too.
var (
	ErrDeclined     = errs.Define("payments.declined", errs.KindPaymentRequired, "payment_declined", "the payment was declined")
	ErrInvalidState = errs.Define("payments.invalid_state", errs.KindConflict, "invalid_state", "the payment's state does not allow this")
	ErrMismatch     = errs.Define("payments.mismatch", errs.KindConflict, "conflict", "the payment id was already used for another authorization")
	ErrNotFound     = errs.Define("payments.not_found", errs.KindNotFound, "not_found", "no such payment")
)

// Event names of payments.
const (
	EventPaymentAuthorized = "payments.payment_authorized.v1"
	EventPaymentCaptured   = "payments.payment_captured.v1"
	EventPaymentVoided     = "payments.payment_voided.v1"
	EventPaymentRefunded   = "payments.payment_refunded.v1"
	EventPaymentFailed     = "payments.payment_failed.v1"
)

// PaymentEvent is what every payment event carries: the payment after the
// change.
type PaymentEvent struct {
	PaymentID   string    `json:"payment_id"`
	Reference   string    `json:"reference"`
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	Brand       string    `json:"brand"`
	Status      Status    `json:"status"`
	DeclineCode string    `json:"decline_code,omitempty"`
	At          time.Time `json:"at"`
}

// The events, one type each so consumers can pick.
type (
	PaymentAuthorized struct{ PaymentEvent }
	PaymentCaptured   struct{ PaymentEvent }
	PaymentVoided     struct{ PaymentEvent }
	PaymentRefunded   struct{ PaymentEvent }
	PaymentFailed     struct{ PaymentEvent }
)

func (PaymentAuthorized) EventName() string { return EventPaymentAuthorized }
func (PaymentCaptured) EventName() string   { return EventPaymentCaptured }
func (PaymentVoided) EventName() string     { return EventPaymentVoided }
func (PaymentRefunded) EventName() string   { return EventPaymentRefunded }
func (PaymentFailed) EventName() string     { return EventPaymentFailed }

// EventKey orders a payment's events.
func (e PaymentEvent) EventKey() string { return e.PaymentID }
