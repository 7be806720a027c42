package api

import "context"

// BackOffice is what the shop's back office (the web module's admin pages)
// needs beyond Admin: the product list of every status, and the changes the
// admin HTTP API makes (PATCH /v1/admin/products/:id and its kin). Each call
// validates and publishes its events like that API.
type BackOffice interface {
	// AdminProducts pages through products of every status (or only
	// q.Status), newest first. q.Limit 0 means 20; above MaxAdminPage, or
	// an unknown status or a cursor of another list, is a 422.
	AdminProducts(ctx context.Context, q AdminProductQuery) (AdminProductPage, error)
	// UpdateProduct changes the fields the patch sets and returns the
	// product. A status change the lifecycle does not allow is a 409
	// invalid_state; a slug another product has is ErrSlugTaken.
	UpdateProduct(ctx context.Context, id string, patch ProductPatch) (Product, error)
	// ArchiveProduct archives a product (archiving an archived one changes
	// nothing): it leaves the storefront.
	ArchiveProduct(ctx context.Context, id string) error
	// AddVariant adds a variant to a product and returns the product;
	// ErrSKUTaken when any product has the SKU.
	AddVariant(ctx context.Context, productID string, in NewVariant) (Product, error)
	// UpdateVariant changes a variant's title, price or attributes and
	// returns it; ErrVariantNotFound for an unknown id.
	UpdateVariant(ctx context.Context, variantID string, patch VariantPatch) (Variant, error)
}

// MaxAdminPage is the most products one AdminProducts page holds.
const MaxAdminPage = 100

// AdminProductQuery is the input of AdminProducts.
type AdminProductQuery struct {
	Status Status `json:"status,omitempty"` // "" for every status
	Cursor string `json:"cursor,omitempty"` // the previous page's Next; "" starts
	Limit  int    `json:"limit,omitempty"`
}

// AdminProductPage is a page of products; Next is "" on the last page.
type AdminProductPage struct {
	Products []Product `json:"products"`
	Next     string    `json:"next,omitempty"`
}

// ProductPatch changes a product's own fields; a nil field stays as it is.
// The category changes only when SetCategory is true: to CategoryID, or to
// none when CategoryID is nil.
type ProductPatch struct {
	Slug        *string `json:"slug,omitempty"`
	Title       *string `json:"title,omitempty"`
	Description *string `json:"description,omitempty"`
	Status      *Status `json:"status,omitempty"`
	SetCategory bool    `json:"set_category,omitempty"`
	CategoryID  *string `json:"category_id,omitempty"`
}

// VariantPatch changes a variant; a nil field stays as it is.
type VariantPatch struct {
	Title      *string            `json:"title,omitempty"`
	Price      *int64             `json:"price,omitempty"` // minor units of the store currency
	Attributes *map[string]string `json:"attributes,omitempty"`
}
