// Package idempotency holds what the modules that accept an Idempotency-Key
// header share about it: its name and what a valid key is.
package idempotency

import (
	"fmt"

	"github.com/modshop/modshop/platform/errs"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// MaxLen is the longest key accepted.
const MaxLen = 255

// Check validates a key that was given (the caller decides whether one is
// required): at most MaxLen characters of printable ASCII, no spaces.
func Check(key string) error {
	if len(key) > MaxLen {
		return errs.Invalid(errs.FieldError{Field: Header, Message: fmt.Sprintf("must be at most %d characters", MaxLen)})
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return errs.Invalid(errs.FieldError{Field: Header, Message: "must be printable ASCII without spaces"})
		}
	}
	return nil
}
