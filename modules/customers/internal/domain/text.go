package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/modshop/modshop/platform/errs"
)

// MaxNameLength bounds a person's name and each address line, in characters.
const MaxNameLength = 200

// CleanName trims a customer's display name and checks it: 1..200
// characters, no control characters. Field errors go to fe.
func CleanName(raw string, fe *errs.Fields) string {
	return text(raw, "name", true, MaxNameLength, fe)
}

// text trims a free-text field and checks presence, length and that it holds
// no control characters (a newline in a name ends up in e-mails and labels).
func text(raw, field string, required bool, maxLen int, fe *errs.Fields) string {
	s := strings.TrimSpace(raw)
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && required:
		fe.Add(field, "is required")
	case n > maxLen:
		fe.Add(field, fmt.Sprintf("must be at most %d characters", maxLen))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		fe.Add(field, "must not contain control characters")
	}
	return s
}
