package domain

import (
	"errors"
	"net/mail"
	"strings"
)

// MaxEmailLength is the longest address SMTP can carry (RFC 5321 path limit).
const MaxEmailLength = 254

// ErrInvalidEmail is any e-mail address NormalizeEmail refuses.
var ErrInvalidEmail = errors.New("must be an e-mail address such as name@example.com")

// NormalizeEmail trims and lower-cases an address and checks that it is a
// plain addr-spec with a dotted domain. The normalized form is what accounts
// are stored and compared by, so "Ann@Example.com " and "ann@example.com"
// are one account.
//
// Lower-casing the local part is a deliberate simplification: RFC 5321 lets
// it be case-sensitive, but no mail provider in use treats it so, and two
// accounts differing only in case would be a support and phishing hazard.
func NormalizeEmail(raw string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" || len(e) > MaxEmailLength {
		return "", ErrInvalidEmail
	}
	// net/mail also accepts "Name <a@b>" and comments; only a bare address
	// that parses back to itself is taken.
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Name != "" || addr.Address != e {
		return "", ErrInvalidEmail
	}
	local, domain, _ := strings.Cut(e, "@")
	if len(local) > 64 || !validDomain(domain) {
		return "", ErrInvalidEmail
	}
	return e, nil
}

// validDomain wants a host name of at least two labels (no bare "localhost",
// no IP literals): letters, digits and inner hyphens, 1..63 bytes each.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			// Non-ASCII runes are internationalized labels (before punycode).
			if ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r > 127; !ok {
				return false
			}
		}
	}
	return true
}
