package api

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/modshop/modshop/platform/errs"
)

// Address field limits, in characters.
const (
	MaxNameLength       = 200
	MaxPostalCodeLength = 20
	MaxPhoneLength      = 32
)

// NormalizeAddress trims every field of a postal address, upper-cases the
// country and validates the result: name, line1, city and postal code are
// required, the country is an assigned ISO 3166-1 alpha-2 code, the phone
// is optional. The error is a 422 naming each invalid field. The id is
// kept as it is. It is the one rule for addresses in the shop: the address
// book uses it, and so does a checkout's shipping address.
func NormalizeAddress(a Address) (Address, error) {
	var fe errs.Fields
	out := Address{
		ID:         a.ID,
		Name:       CleanText(a.Name, "name", true, MaxNameLength, &fe),
		Line1:      CleanText(a.Line1, "line1", true, MaxNameLength, &fe),
		Line2:      CleanText(a.Line2, "line2", false, MaxNameLength, &fe),
		City:       CleanText(a.City, "city", true, MaxNameLength, &fe),
		PostalCode: CleanText(a.PostalCode, "postal_code", true, MaxPostalCodeLength, &fe),
		Country:    strings.ToUpper(strings.TrimSpace(a.Country)),
		Phone:      CleanText(a.Phone, "phone", false, MaxPhoneLength, &fe),
	}
	if out.PostalCode != "" && !plausiblePostalCode(out.PostalCode) {
		fe.Add("postal_code", "may hold only letters, digits, spaces and hyphens")
	}
	switch {
	case out.Country == "":
		fe.Add("country", "is required")
	case !IsCountry(out.Country):
		fe.Add("country", "must be an ISO 3166-1 alpha-2 country code such as DE or US")
	}
	if out.Phone != "" && !plausiblePhone(out.Phone) {
		fe.Add("phone", "must be a phone number of 5 to 15 digits, optionally starting with + and grouped by spaces, hyphens, dots or parentheses")
	}
	return out, fe.Err()
}

// CleanText trims a free-text field and checks presence, length and that it
// holds no control characters (a newline in a name ends up in e-mails and
// labels). Field errors go to fe.
func CleanText(raw, field string, required bool, maxLen int, fe *errs.Fields) string {
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

func plausiblePostalCode(s string) bool {
	for _, r := range s {
		if ok := unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || r == '-'; !ok {
			return false
		}
	}
	return true
}

// plausiblePhone accepts what people write for a phone number (E.164 with
// or without +, or a national form with separators) and nothing else: 5 to
// 15 digits (E.164's maximum), separators between them, + only in front.
func plausiblePhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" -.()", r):
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 15 && s[0] != ' '
}
