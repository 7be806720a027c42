// Package errs holds the typed errors every module returns across its api.
//
// An Error carries a Kind (what went wrong, which decides the HTTP status), a
// Code (the stable machine word of the public contract, shared by many
// errors: not_found, conflict) and an identity: the error it was made from.
// errors.Is compares identities, never codes, so catalog.ErrProductNotFound
// is not payments.ErrNotFound although both are not_found. An api error is
// declared once with Define, under a module-qualified id
// ("payments.not_found") that is registered here, so an error read back
// from the wire or from storage is restored as the very api error it was
// (Restore); an error without a known id stays an error of its code and
// kind that is no api error. The HTTP layer maps errors to RFC 9457 problem
// documents in one place. The package imports nothing but the standard
// library, so api packages may use it.
package errs

import (
	"errors"
	"fmt"
	"sync"
)

// Kind classifies an error; each kind has one HTTP status.
type Kind int

const (
	KindInternal         Kind = iota // 500: a bug or an unexpected failure
	KindBadRequest                   // 400: malformed input
	KindValidation                   // 422: well-formed but invalid values
	KindUnauthorized                 // 401: no or bad credentials
	KindForbidden                    // 403: wrong role
	KindNotFound                     // 404
	KindConflict                     // 409: state forbids it
	KindPaymentRequired              // 402: payment declined
	KindTooLarge                     // 413
	KindUnsupportedMedia             // 415
	KindRateLimited                  // 429
	KindUnavailable                  // 503: a dependency is down
)

// Status is the HTTP status of the kind.
func (k Kind) Status() int {
	switch k {
	case KindBadRequest:
		return 400
	case KindValidation:
		return 422
	case KindUnauthorized:
		return 401
	case KindForbidden:
		return 403
	case KindNotFound:
		return 404
	case KindConflict:
		return 409
	case KindPaymentRequired:
		return 402
	case KindTooLarge:
		return 413
	case KindUnsupportedMedia:
		return 415
	case KindRateLimited:
		return 429
	case KindUnavailable:
		return 503
	default:
		return 500
	}
}

// KindForStatus is the inverse of Status, for clients that read problems back.
func KindForStatus(status int) Kind {
	for k := KindInternal; k <= KindUnavailable; k++ {
		if k.Status() == status {
			return k
		}
	}
	return KindInternal
}

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type that crosses module boundaries.
type Error struct {
	Kind    Kind
	Code    string         // contract code, e.g. "sku_taken"
	Message string         // safe to show to a client
	Fields  []FieldError   // for KindValidation
	Extra   map[string]any // extra problem members, e.g. "unavailable" for out_of_stock
	cause   error
	def     *Error // the error this one was made from (itself for New and Define); nil: none
	id      string // set on a definition only: its registered id
	parent  *Error // the definition a Specific one is a form of
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.cause }

// Is reports whether e was made from target's definition (or from a
// Specific form of it): an error copied with With or WithCause, or restored
// from the wire, is still its definition. Two errors of one code are not
// each other.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.def == nil {
		return false
	}
	for d := e.def; d != nil; d = d.parent {
		if d == t.def {
			return true
		}
	}
	return false
}

// ID is the registered id of the error's definition ("payments.not_found"),
// or "" for an error that was not made from a Define.
func (e *Error) ID() string {
	if e.def == nil {
		return ""
	}
	return e.def.id
}

var registry = struct {
	sync.RWMutex
	byID map[string]*Error
}{byID: map[string]*Error{}}

// Define declares an api error: id is its identity, module-qualified and
// stable ("catalog.product_not_found"), which internal answers carry so the
// error is restored as itself; code is the public contract word clients
// see. An id defined twice panics: ids are declared once, at package init.
func Define(id string, kind Kind, code, message string) *Error {
	return register(&Error{Kind: kind, Code: code, Message: message, id: id})
}

// Specific declares a more specific form of e under its own id, with e's
// kind and code: errors.Is matches it against e and against itself, but e
// is not it (customers.ErrAddressNotFound is a customers.ErrNotFound).
func (e *Error) Specific(id, message string) *Error {
	return register(&Error{Kind: e.Kind, Code: e.Code, Message: message, id: id, parent: e.def})
}

func register(d *Error) *Error {
	if d.id == "" {
		panic("errs: a defined error needs an id")
	}
	d.def = d
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byID[d.id]; dup {
		panic("errs: error id " + d.id + " is defined twice")
	}
	registry.byID[d.id] = d
	return d
}

// Restore gives e, read back from a problem answer or from storage, the
// identity of the error defined as id, when that definition has e's kind
// and code; otherwise (no id, an id this build does not define, or one that
// names another kind of error) e is returned as it is, an error of its code
// that is no api error.
func Restore(id string, e *Error) *Error {
	if id == "" {
		return e
	}
	registry.RLock()
	d := registry.byID[id]
	registry.RUnlock()
	if d == nil || d.Kind != e.Kind || d.Code != e.Code {
		return e
	}
	c := *e
	c.def = d
	return &c
}

// WithCause keeps an underlying error for logs; it never reaches a client.
func (e *Error) WithCause(err error) *Error { c := *e; c.cause = err; return &c }

// With adds an extra member to the problem document.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extra = make(map[string]any, len(e.Extra)+1)
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[key] = value
	return &c
}

// WithFields adds field errors (a copy, as With makes).
func (e *Error) WithFields(fields ...FieldError) *Error {
	c := *e
	c.Fields = append(append([]FieldError(nil), e.Fields...), fields...)
	return &c
}

// New makes an error of a kind with a contract code and an identity of its
// own that no other New shares; api errors are declared with Define.
func New(kind Kind, code, message string) *Error {
	e := &Error{Kind: kind, Code: code, Message: message}
	e.def = e
	return e
}

// The generic errors: each constructor's errors share one identity, whatever
// their message, so errors.Is(err, errs.Unavailable("")) asks "is a
// dependency down?". None of them is any module's api error.
var (
	badRequest   = Define("errs.bad_request", KindBadRequest, "bad_request", "bad request")
	notFound     = Define("errs.not_found", KindNotFound, "not_found", "not found")
	unauthorized = Define("errs.unauthorized", KindUnauthorized, "unauthorized", "unauthorized")
	forbidden    = Define("errs.forbidden", KindForbidden, "forbidden", "forbidden")
	unavailable  = Define("errs.unavailable", KindUnavailable, "unavailable", "unavailable")
)

func generic(d *Error, message string) *Error { e := *d; e.Message = message; return &e }

func BadRequest(message string) *Error   { return generic(badRequest, message) }
func NotFound(message string) *Error     { return generic(notFound, message) }
func Unauthorized(message string) *Error { return generic(unauthorized, message) }
func Forbidden(message string) *Error    { return generic(forbidden, message) }
func Unavailable(message string) *Error  { return generic(unavailable, message) }

// Conflict is an error of KindConflict with a code of its own.
func Conflict(code, message string) *Error { return New(KindConflict, code, message) }
func Internal(err error) *Error {
	return New(KindInternal, "internal", "internal error").WithCause(err)
}

// invalid is the one definition of every validation error: they differ by
// their fields only, so errors.Is(err, errs.Invalid()) asks "was the input
// invalid?".
var invalid = Define("errs.validation_failed", KindValidation, "validation_failed", "the request has invalid fields")

// Invalid is a 422 validation_failed with field errors.
func Invalid(fields ...FieldError) *Error {
	e := *invalid
	e.Fields = fields
	return &e
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// HasCode reports whether err carries the contract code.
func HasCode(err error, code string) bool {
	e := As(err)
	return e != nil && e.Code == code
}

// Fields collects field errors while validating; Err returns nil when none.
type Fields []FieldError

// Add records a field error.
func (f *Fields) Add(field, message string) {
	*f = append(*f, FieldError{Field: field, Message: message})
}

// Check records a field error when ok is false.
func (f *Fields) Check(ok bool, field, message string) {
	if !ok {
		f.Add(field, message)
	}
}

// Err is the 422 error for the collected fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f...)
}
