// Package api is the cart module's public face: what the orders module asks
// of a cart at checkout (Carts), and what a storefront does with a shopper's
// cart (Shopping, shopping.go).
package api

import (
	"context"
	"time"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

// Carts answers questions about carts for other modules.
type Carts interface {
	// Cart returns a cart with its lines priced at the catalog's current
	// prices; ErrCartNotFound when there is none.
	Cart(ctx context.Context, id string) (Cart, error)
	// CartFor is Cart for a caller: customerID is the signed-in customer, or
	// "" for a guest. A cart owned by another customer (or any owned cart,
	// for a guest) is ErrCartNotFound, so its existence is never revealed.
	CartFor(ctx context.Context, id, customerID string) (Cart, error)
}

// Status is where a cart is in its life.
type Status string

const (
	StatusActive     Status = "active"      // open for changes
	StatusCheckedOut Status = "checked_out" // became an order
	StatusMerged     Status = "merged"      // a guest cart merged into a customer's
)

// Cart is a cart as shoppers and checkout see it.
type Cart struct {
	ID         string        `json:"id"`
	CustomerID *string       `json:"customer_id"`
	Status     Status        `json:"status"`
	Items      []Item        `json:"items"`
	ItemCount  int64         `json:"item_count" doc:"sum of the quantities of all lines"`
	Subtotal   catalog.Money `json:"subtotal" doc:"sum of the line totals of available lines"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// AccessibleBy reports whether a caller (a customer id, or "" for a guest)
// may see the cart: a guest cart's id is its capability, an owned cart
// belongs to its owner alone.
func (c Cart) AccessibleBy(customerID string) bool {
	return c.CustomerID == nil || (customerID != "" && *c.CustomerID == customerID)
}

// Item is one line of a cart. Title and prices are read from the catalog
// when the cart is read, so a price change shows at once.
type Item struct {
	ID        string        `json:"id"`
	SKU       string        `json:"sku"`
	VariantID string        `json:"variant_id"`
	ProductID string        `json:"product_id"`
	Title     string        `json:"title"`
	Quantity  int64         `json:"quantity"`
	UnitPrice catalog.Money `json:"unit_price"`
	LineTotal catalog.Money `json:"line_total" doc:"0 for an unavailable line"`
	// Available is false for a line whose variant can no longer be bought
	// (its product was archived or unpublished, or the SKU is gone); such a
	// line stays in the cart, flagged, and counts for nothing in the subtotal.
	Available         bool   `json:"available"`
	UnavailableReason string `json:"unavailable_reason,omitempty" doc:"archived | unpublished | unknown"`
}

// Why a line is unavailable.
const (
	ReasonArchived    = "archived"
	ReasonUnpublished = "unpublished"
	ReasonUnknown     = "unknown"
)

// Limits of a line.
const (
	MinQuantity = 1
	MaxQuantity = 100
)

// Errors of the cart.
var (
	ErrCartNotFound = errs.Define("cart.cart_not_found", errs.KindNotFound, "not_found", "no such cart")
	ErrItemNotFound = errs.Define("cart.item_not_found", errs.KindNotFound, "not_found", "no such item in this cart")
	ErrUnknownSKU   = errs.Define("cart.unknown_sku", errs.KindNotFound, "unknown_sku", "no published product has this SKU")
	ErrNotActive    = errs.Define("cart.not_active", errs.KindConflict, "conflict", "the cart is no longer active")
)
