// Package errs holds the typed errors every module returns across its api.
//
// An Error carries a Kind (what went wrong, which decides the HTTP status) and
// a Code (the stable machine word of the public contract). The HTTP layer maps
// them to RFC 9457 problem documents in one place; a remote client maps them
// back, so a typed error survives the wire. The package imports nothing but
// the standard library, so api packages may use it.
package errs

import (
	"errors"
	"fmt"
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
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.cause }

// Is makes errors.Is(err, errs.NotFound("")) style checks unnecessary: compare codes.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
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

// New makes an error of a kind with a contract code.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

func BadRequest(message string) *Error { return New(KindBadRequest, "bad_request", message) }
func NotFound(message string) *Error   { return New(KindNotFound, "not_found", message) }
func Conflict(code, message string) *Error {
	return New(KindConflict, code, message)
}
func Unauthorized(message string) *Error { return New(KindUnauthorized, "unauthorized", message) }
func Forbidden(message string) *Error    { return New(KindForbidden, "forbidden", message) }
func Unavailable(message string) *Error  { return New(KindUnavailable, "unavailable", message) }
func Internal(err error) *Error {
	return (&Error{Kind: KindInternal, Code: "internal", Message: "internal error"}).WithCause(err)
}

// Invalid is a 422 validation_failed with field errors.
func Invalid(fields ...FieldError) *Error {
	return &Error{Kind: KindValidation, Code: "validation_failed", Message: "the request has invalid fields", Fields: fields}
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
