// Package domain holds the payments module's rules, in plain Go: what a
// valid authorization request is, which status a payment may move to, and
// what each call means for a payment in a given status.
package domain

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/errs"
)

// Limits of an authorization request.
const (
	MaxIDLen        = 100
	MaxReferenceLen = 200
	MaxMethodLen    = 200
)

// Statuses are every status a payment can have.
var Statuses = []api.Status{
	api.StatusPending, api.StatusAuthorized, api.StatusCaptured,
	api.StatusVoided, api.StatusRefunded, api.StatusFailed,
}

// transitions is a payment's life: the statuses each status may move to.
// Every other move is refused, by this table and by the conditional UPDATE
// that applies it.
var transitions = map[api.Status][]api.Status{
	api.StatusPending:    {api.StatusAuthorized, api.StatusFailed},
	api.StatusAuthorized: {api.StatusCaptured, api.StatusVoided},
	api.StatusCaptured:   {api.StatusRefunded},
}

// CanMove reports whether a payment may move from one status to another.
func CanMove(from, to api.Status) bool { return slices.Contains(transitions[from], to) }

// Command is what a caller asks of an authorized payment.
type Command string

const (
	Capture Command = "capture"
	Void    Command = "void"
	Refund  Command = "refund"
)

// Commands are every command.
var Commands = []Command{Capture, Void, Refund}

// Target is the status the command moves a payment to.
func (c Command) Target() api.Status {
	switch c {
	case Capture:
		return api.StatusCaptured
	case Void:
		return api.StatusVoided
	case Refund:
		return api.StatusRefunded
	}
	panic(fmt.Sprintf("payments: unknown command %q", string(c))) // a bug: the commands are the constants above
}

// Step is what a call means for a payment in its current status.
type Step int

const (
	// Apply: ask the provider, then move the payment.
	Apply Step = iota + 1
	// Done: the payment is where the call would take it; answer it as it is.
	Done
	// Refuse: the payment's status does not allow the call.
	Refuse
	// Resolve: the authorization's outcome is not known yet; finish it, then
	// decide again on the status it ends in.
	Resolve
)

func (s Step) String() string {
	switch s {
	case Apply:
		return "apply"
	case Done:
		return "done"
	case Refuse:
		return "refuse"
	case Resolve:
		return "resolve"
	}
	return fmt.Sprintf("Step(%d)", int(s))
}

// Decide is what command c means for a payment in status s. A pending
// payment is resolved first when the authorization, once approved, could
// take the command: a caller that voids a payment whose authorization it
// never heard back from must not leave an authorization behind.
func Decide(s api.Status, c Command) Step {
	target := c.Target()
	switch {
	case s == target:
		return Done
	case CanMove(s, target):
		return Apply
	case s == api.StatusPending && slices.ContainsFunc(transitions[s], func(next api.Status) bool { return CanMove(next, target) }):
		return Resolve
	default:
		return Refuse
	}
}

// Reauthorize is what an Authorize with the id of an existing payment (and
// the same request) means: Resolve a pending one, Refuse (the decline again)
// a failed one, and answer any other as it is (Done).
func Reauthorize(s api.Status) Step {
	switch s {
	case api.StatusPending:
		return Resolve
	case api.StatusFailed:
		return Refuse
	default:
		return Done
	}
}

// CheckAuthorize validates an authorization request; whether the provider
// knows the method is the provider's to say.
func CheckAuthorize(req api.AuthorizeRequest) error {
	var fe errs.Fields
	fe.Check(validID(req.ID), "id", fmt.Sprintf("must be 1 to %d characters of A-Z, a-z, 0-9, _ and -", MaxIDLen))
	fe.Check(utf8.ValidString(req.Reference) && utf8.RuneCountInString(req.Reference) <= MaxReferenceLen,
		"reference", fmt.Sprintf("must be at most %d characters", MaxReferenceLen))
	fe.Check(req.Amount > 0, "amount", "must be a positive amount in minor units")
	fe.Check(validCurrency(req.Currency), "currency", "must be an ISO 4217 code in upper case")
	fe.Check(req.Method != "" && len(req.Method) <= MaxMethodLen, "payment_method", "must name a payment method")
	return fe.Err()
}

func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validCurrency(c string) bool {
	return len(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] >= 'A' && c[2] <= 'Z'
}

// SameRequest reports whether an existing payment was authorized with the
// request: a retry, as opposed to a reuse of its id.
func SameRequest(p api.Payment, req api.AuthorizeRequest) bool {
	return p.Reference == req.Reference && p.Amount == req.Amount && p.Currency == req.Currency && p.Method == req.Method
}

// UnknownMethod is the 422 of a method the provider does not know.
func UnknownMethod() error {
	return errs.Invalid(errs.FieldError{Field: "payment_method", Message: "is not a payment method the provider knows"})
}
