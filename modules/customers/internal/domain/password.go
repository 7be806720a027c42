package domain

import (
	"fmt"
	"unicode/utf8"
)

// Password length bounds, in characters. The upper bound keeps hashing cheap
// to refuse: a megabyte "password" is rejected before argon2 ever sees it.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 256
)

// CheckNewPassword applies the policy to a password being set: 8 to 256
// characters. It returns a message for the client, or "".
func CheckNewPassword(p string) string {
	n := utf8.RuneCountInString(p)
	switch {
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLength)
	}
	return ""
}

// CheckPresentedPassword is the policy for a password offered at sign-in:
// present and not oversized. The minimum is not applied, so raising it later
// does not lock out accounts whose passwords predate it.
func CheckPresentedPassword(p string) string {
	switch {
	case p == "":
		return "is required"
	case utf8.RuneCountInString(p) > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLength)
	}
	return ""
}
