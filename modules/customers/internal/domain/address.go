package domain

import "github.com/modshop/modshop/modules/customers/api"

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
// the result (the rules live in the api, so an order's shipping address is
// checked exactly like an address-book entry); the error is a 422 naming
// each invalid field.
func NormalizeAddress(a AddressFields) (AddressFields, error) {
	out, err := api.NormalizeAddress(api.Address{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City,
		PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone})
	return AddressFields{Name: out.Name, Line1: out.Line1, Line2: out.Line2, City: out.City,
		PostalCode: out.PostalCode, Country: out.Country, Phone: out.Phone}, err
}
