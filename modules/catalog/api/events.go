package api

import "time"

// Event names of the catalog.
const (
	EventProductPublished    = "catalog.product_published.v1"
	EventProductUpdated      = "catalog.product_updated.v1"
	EventProductArchived     = "catalog.product_archived.v1"
	EventVariantCreated      = "catalog.variant_created.v1"
	EventVariantPriceChanged = "catalog.variant_price_changed.v1"
)

// ProductSnapshot is the full state of a product as its events carry it, so
// consumers never call back for details.
type ProductSnapshot struct {
	ProductID    string           `json:"product_id"`
	Slug         string           `json:"slug"`
	Title        string           `json:"title"`
	Description  string           `json:"description"`
	CategoryID   *string          `json:"category_id"`
	CategoryPath []string         `json:"category_path"` // ids from the root to the product's category
	Status       Status           `json:"status"`
	Variants     []VariantPayload `json:"variants"`
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	Version      int64            `json:"version"` // grows with every change; consumers drop older snapshots
}

// VariantPayload is a variant inside a snapshot.
type VariantPayload struct {
	VariantID string `json:"variant_id"`
	SKU       string `json:"sku"`
	Title     string `json:"title"`
	Price     Money  `json:"price"`
}

// ProductPublished: a product became visible to shoppers.
type ProductPublished struct{ ProductSnapshot }

// ProductUpdated: a product changed (including a change of status other than
// publishing or archiving, e.g. back to draft).
type ProductUpdated struct{ ProductSnapshot }

// ProductArchived: a product is no longer for sale.
type ProductArchived struct{ ProductSnapshot }

// VariantCreated: a new SKU exists (inventory creates its stock level).
type VariantCreated struct {
	VariantID string `json:"variant_id"`
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	Title     string `json:"title"`
	Price     Money  `json:"price"`
}

// VariantPriceChanged: a variant's price changed.
type VariantPriceChanged struct {
	VariantID string `json:"variant_id"`
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	OldPrice  Money  `json:"old_price"`
	NewPrice  Money  `json:"new_price"`
}

func (ProductPublished) EventName() string    { return EventProductPublished }
func (ProductUpdated) EventName() string      { return EventProductUpdated }
func (ProductArchived) EventName() string     { return EventProductArchived }
func (VariantCreated) EventName() string      { return EventVariantCreated }
func (VariantPriceChanged) EventName() string { return EventVariantPriceChanged }

func (e ProductPublished) EventKey() string    { return e.ProductID }
func (e ProductUpdated) EventKey() string      { return e.ProductID }
func (e ProductArchived) EventKey() string     { return e.ProductID }
func (e VariantCreated) EventKey() string      { return e.ProductID }
func (e VariantPriceChanged) EventKey() string { return e.ProductID }
