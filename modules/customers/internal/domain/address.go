package domain

import (
	"strings"
	"unicode"

	"github.com/modshop/modshop/platform/errs"
)

// Address field limits, in characters.
const (
	MaxPostalCodeLength = 20
	MaxPhoneLength      = 32
)

// AddressFields is the content of an address-book entry.
type AddressFields struct {
	Name, Line1, Line2, City, PostalCode, Country, Phone string
}

// AddressPatch changes some fields of an address; nil leaves a field as it is.
type AddressPatch struct {
	Name, Line1, Line2, City, PostalCode, Country, Phone *string
}

// Apply returns a with the patch's fields set.
func (p AddressPatch) Apply(a AddressFields) AddressFields {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&a.Name, p.Name)
	set(&a.Line1, p.Line1)
	set(&a.Line2, p.Line2)
	set(&a.City, p.City)
	set(&a.PostalCode, p.PostalCode)
	set(&a.Country, p.Country)
	set(&a.Phone, p.Phone)
	return a
}

// NormalizeAddress trims every field, upper-cases the country and validates
// the result; the error is a 422 naming each invalid field.
func NormalizeAddress(a AddressFields) (AddressFields, error) {
	var fe errs.Fields
	out := AddressFields{
		Name:       text(a.Name, "name", true, MaxNameLength, &fe),
		Line1:      text(a.Line1, "line1", true, MaxNameLength, &fe),
		Line2:      text(a.Line2, "line2", false, MaxNameLength, &fe),
		City:       text(a.City, "city", true, MaxNameLength, &fe),
		PostalCode: text(a.PostalCode, "postal_code", true, MaxPostalCodeLength, &fe),
		Country:    strings.ToUpper(strings.TrimSpace(a.Country)),
		Phone:      text(a.Phone, "phone", false, MaxPhoneLength, &fe),
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
