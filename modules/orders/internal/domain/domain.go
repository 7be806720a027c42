// Package domain is the orders module's rules in plain Go: prices and
// shipping of a checkout, the order's state machine and the side effects
// each transition asks for, order numbers, ids, tokens and request hashes.
package domain

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/idempotency"
)

// Shipping is the shipping fee for a subtotal: a flat fee, free from
// api.FreeShippingFrom.
func Shipping(subtotal int64) int64 {
	if subtotal >= api.FreeShippingFrom {
		return 0
	}
	return api.ShippingFee
}

// Totals adds up lines: subtotal, shipping and total.
func Totals(lines []api.Line) (subtotal, shipping, total int64) {
	for _, l := range lines {
		subtotal += l.LineTotal.Amount
	}
	shipping = Shipping(subtotal)
	return subtotal, shipping, subtotal + shipping
}

// Command is what a shopper or an admin asks of an order.
type Command string

const (
	Ship    Command = "ship"
	Deliver Command = "deliver"
	Cancel  Command = "cancel"
	Refund  Command = "refund"
)

// Commands and Statuses are every command and every status, for the
// exhaustive table test.
var (
	Commands = []Command{Ship, Deliver, Cancel, Refund}
	Statuses = []api.Status{api.StatusPlaced, api.StatusShipped, api.StatusDelivered, api.StatusCancelled, api.StatusRefunded}
)

// Effect is a side effect a transition asks of other modules. Effects run
// after the transition committed, in this order, each idempotent, until
// done (see service.effects).
type Effect string

const (
	EffectCapture Effect = "capture" // payments: take the authorized amount
	EffectVoid    Effect = "void"    // payments: give the authorization up
	EffectRestock Effect = "restock" // inventory: put the sold units back on hand
	EffectRefund  Effect = "refund"  // payments: pay the captured amount back
)

// Transition is one edge of the state machine.
type Transition struct {
	From    api.Status
	To      api.Status
	Effects []Effect
}

// machine is the whole state machine: placed → shipped → delivered,
// placed → cancelled, shipped|delivered → refunded.
var machine = map[api.Status]map[Command]Transition{
	api.StatusPlaced: {
		Ship:   {api.StatusPlaced, api.StatusShipped, []Effect{EffectCapture}},
		Cancel: {api.StatusPlaced, api.StatusCancelled, []Effect{EffectVoid, EffectRestock}},
	},
	api.StatusShipped: {
		Deliver: {api.StatusShipped, api.StatusDelivered, nil},
		Refund:  {api.StatusShipped, api.StatusRefunded, []Effect{EffectRefund}},
	},
	api.StatusDelivered: {
		Refund: {api.StatusDelivered, api.StatusRefunded, []Effect{EffectRefund}},
	},
}

// Next is the transition of command c from status s, or api.ErrInvalidState.
func Next(s api.Status, c Command) (Transition, error) {
	t, ok := machine[s][c]
	if !ok {
		return Transition{}, api.ErrInvalidState.With("status", s)
	}
	return t, nil
}

// Number is the human-friendly order number of the order's sequence value.
func Number(seq int64) string { return fmt.Sprintf("MS-%06d", seq) }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID is a random id with a prefix: 128 bits, so a guest checkout's id
// can be its capability.
func NewID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// NewGuestToken is a guest order's capability: 256 random bits.
func NewGuestToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// GuestToken is a guest order's capability (256 bits): an HMAC-SHA256 of
// the order id under a key only the shop's processes know (derived from
// MODSHOP_JWT_SECRET), so the shop can give it again on a replay without
// storing it; the order keeps only its hash (HashToken).
func GuestToken(key []byte, orderID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(orderID))
	return strings.ToLower(idEncoding.EncodeToString(m.Sum(nil)))
}

// HashToken is what is stored of a guest token: reading the table does not
// give access to the orders.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// TokenMatches compares a presented token with a stored hash in constant
// time.
func TokenMatches(token, hash string) bool {
	got := HashToken(token)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// RequestHash identifies an order request's body, so the same
// Idempotency-Key with another body is caught. It hashes the parsed fields,
// so formatting and field order do not matter.
func RequestHash(checkoutID, paymentMethod string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s|%d:%s", len(checkoutID), checkoutID, len(paymentMethod), paymentMethod)
	return hex.EncodeToString(h.Sum(nil))
}

// Email limits.
const MaxEmailLength = 254

// NormalizeEmail trims and lower-cases an e-mail address and checks that it
// is one plain address (no display name).
func NormalizeEmail(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	a, err := mail.ParseAddress(s)
	if s == "" || err != nil || a.Address != s || len(s) > MaxEmailLength || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "", errs.Invalid(errs.FieldError{Field: "email", Message: "must be an e-mail address such as ann@example.com"})
	}
	return s, nil
}

// CheckKey validates an Idempotency-Key header value: required here.
func CheckKey(key string) error {
	if key == "" {
		return api.ErrIdempotencyKeyMissing
	}
	return idempotency.Check(key)
}
