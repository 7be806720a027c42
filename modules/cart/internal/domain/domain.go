// Package domain holds the cart's rules in plain Go: ids, quantities,
// merging, and pricing a cart's lines from the catalog's current variants.
package domain

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"

	"github.com/modshop/modshop/modules/cart/api"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewCartID makes a cart id of 128 random bits. A guest cart's id is the
// guest's only credential, so it must not be guessable.
func NewCartID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// CheckQuantity validates a line's quantity; zero is allowed only where it
// means "remove the line".
func CheckQuantity(q *int64, zeroRemoves bool) error {
	lowest := int64(api.MinQuantity)
	if zeroRemoves {
		lowest = 0
	}
	switch {
	case q == nil:
		return errs.Invalid(errs.FieldError{Field: "quantity", Message: "is required"})
	case *q < lowest || *q > api.MaxQuantity:
		return errs.Invalid(errs.FieldError{Field: "quantity", Message: fmt.Sprintf("must be from %d to %d", lowest, api.MaxQuantity)})
	}
	return nil
}

// ErrLineTooLarge is a line that would hold more than MaxQuantity.
var ErrLineTooLarge = errs.Invalid(errs.FieldError{Field: "quantity",
	Message: fmt.Sprintf("the line would hold more than %d", api.MaxQuantity)})

// MergedQuantity is a line's quantity after a guest's quantity is merged
// into the customer's: they add up, capped at MaxQuantity and at what is
// available, but a merge never takes away what the customer already had.
// known is false when the inventory was not asked about the SKU (it came in
// meanwhile), and then only MaxQuantity caps it.
func MergedQuantity(mine, theirs, available int64, known bool) int64 {
	q := min(mine+theirs, api.MaxQuantity)
	if known {
		q = min(q, available)
	}
	return max(q, mine)
}

// Line is a stored cart line.
type Line struct {
	ID       string
	SKU      string
	Quantity int64
}

// Price turns stored lines into cart items at the catalog's current prices
// (a SKU the catalog does not know has the zero VariantInfo). A line whose
// variant cannot be bought is kept, flagged, and counts 0 in the subtotal.
// It returns the items, the sum of all quantities and the subtotal.
func Price(lines []Line, variants map[string]catalog.VariantInfo, currency string) ([]api.Item, int64, catalog.Money) {
	items := make([]api.Item, len(lines))
	var count int64
	subtotal := catalog.Money{Currency: currency}
	for i, l := range lines {
		it := api.Item{ID: l.ID, SKU: l.SKU, Quantity: l.Quantity, Available: true,
			UnitPrice: catalog.Money{Currency: currency}, LineTotal: catalog.Money{Currency: currency}}
		v := variants[l.SKU]
		known := v.VariantID != ""
		if known {
			it.VariantID, it.ProductID, it.Title, it.UnitPrice = v.VariantID, v.ProductID, Title(v), v.Price
		}
		if reason := Unavailable(v, known); reason != "" {
			it.Available, it.UnavailableReason = false, reason
		} else {
			it.LineTotal = catalog.Money{Amount: v.Price.Amount * l.Quantity, Currency: v.Price.Currency}
			subtotal.Amount += it.LineTotal.Amount
		}
		count += l.Quantity
		items[i] = it
	}
	return items, count, subtotal
}

// Unavailable says why a variant cannot be bought, or "" when it can.
func Unavailable(v catalog.VariantInfo, known bool) string {
	switch {
	case !known:
		return api.ReasonUnknown
	case v.ProductStatus == catalog.StatusArchived:
		return api.ReasonArchived
	case !v.Sellable():
		return api.ReasonUnpublished
	}
	return ""
}

// Title is what a line is called: the product, and the variant when it has
// a name of its own.
func Title(v catalog.VariantInfo) string {
	if v.Title == "" || v.Title == v.ProductTitle {
		return v.ProductTitle
	}
	return v.ProductTitle + " – " + v.Title
}
