package domain

import (
	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/platform/errs"
)

// MaxNameLength bounds a person's name and each address line, in characters.
const MaxNameLength = api.MaxNameLength

// CleanName trims a customer's display name and checks it: 1..200
// characters, no control characters. Field errors go to fe.
func CleanName(raw string, fe *errs.Fields) string {
	return api.CleanText(raw, "name", true, MaxNameLength, fe)
}
