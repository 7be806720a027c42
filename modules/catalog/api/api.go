// Package api is the catalog module's public face: what other modules may
// ask of it and the events it publishes. It imports no gorm, echo, fx or
// Watermill, so it can be served in-process or over HTTP alike.
package api

import (
	"context"
	"time"

	"github.com/modshop/modshop/platform/errs"
)

// Catalog answers other modules' questions about products and variants.
type Catalog interface {
	// VariantsBySKU returns the variants with these SKUs, in one call, keyed
	// by SKU. Unknown SKUs are absent from the map (no error).
	VariantsBySKU(ctx context.Context, skus []string) (map[string]VariantInfo, error)
	// Product returns one product with its variants, whatever its status;
	// ErrProductNotFound when there is none.
	Product(ctx context.Context, id string) (Product, error)
	// Products pages through products of every status in id order, for
	// consumers that rebuild a read model (search reindex). Cursor "" starts.
	Products(ctx context.Context, cursor string, limit int) (page []Product, next string, err error)
	// Categories returns the whole category tree, flat.
	Categories(ctx context.Context) ([]Category, error)
}

// Admin is the catalog's write side, used by the seed command and admin
// tooling. Each call validates and publishes its events like the HTTP API.
type Admin interface {
	CreateCategory(ctx context.Context, in NewCategory) (Category, error)
	CreateProduct(ctx context.Context, in NewProduct) (Product, error)
	// ImportProducts creates, in one transaction, the products whose slugs
	// are not taken yet, and skips the others, so an import can be re-run.
	// Each product is validated as CreateProduct validates it (field names
	// prefixed with its index: "[3].variants[0].sku") and publishes the same
	// events. It returns how many products it created. At most
	// MaxImportBatch products per call.
	ImportProducts(ctx context.Context, in []NewProduct) (created int, err error)
}

// MaxImportBatch is the most products one ImportProducts call takes: one
// transaction of about 40,000 rows and 35,000 events.
const MaxImportBatch = 10_000

// Status of a product.
type Status string

const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
	StatusArchived  Status = "archived"
)

// Money is an amount in minor units of a currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Category is a node of the category tree.
type Category struct {
	ID       string  `json:"id"`
	Slug     string  `json:"slug"`
	Name     string  `json:"name"`
	ParentID *string `json:"parent_id"`
}

// Product is a product with its variants.
type Product struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	CategoryID  *string   `json:"category_id"`
	Status      Status    `json:"status"`
	Variants    []Variant `json:"variants"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int64     `json:"version"` // grows with every change, as in ProductSnapshot
}

// Variant is a purchasable version of a product.
type Variant struct {
	ID         string            `json:"id"`
	SKU        string            `json:"sku"`
	Title      string            `json:"title"`
	Price      Money             `json:"price"`
	Attributes map[string]string `json:"attributes"`
}

// VariantInfo is what other modules need to sell a variant.
type VariantInfo struct {
	VariantID     string `json:"variant_id"`
	SKU           string `json:"sku"`
	Title         string `json:"title"` // variant title
	ProductID     string `json:"product_id"`
	ProductTitle  string `json:"product_title"`
	ProductStatus Status `json:"product_status"`
	Price         Money  `json:"price"`
}

// Sellable reports whether the variant can be put in a cart.
func (v VariantInfo) Sellable() bool { return v.ProductStatus == StatusPublished }

// NewCategory is the input of CreateCategory.
type NewCategory struct {
	Slug     string  `json:"slug"`
	Name     string  `json:"name"`
	ParentID *string `json:"parent_id,omitempty"` // nil for a root category
}

// NewProduct is the input of CreateProduct.
type NewProduct struct {
	Slug        string       `json:"slug"`
	Title       string       `json:"title"`
	Description string       `json:"description,omitempty"`
	CategoryID  *string      `json:"category_id,omitempty"`
	Status      Status       `json:"status,omitempty"` // draft (the default) or published
	Variants    []NewVariant `json:"variants"`
}

// NewVariant is a variant of NewProduct.
type NewVariant struct {
	SKU        string            `json:"sku"`
	Title      string            `json:"title"`
	Price      int64             `json:"price"` // minor units of the store currency
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Errors the catalog returns.
var (
	ErrProductNotFound  = errs.Define("catalog.product_not_found", errs.KindNotFound, "not_found", "no such product")
	ErrCategoryNotFound = errs.Define("catalog.category_not_found", errs.KindNotFound, "not_found", "no such category")
	ErrVariantNotFound  = errs.Define("catalog.variant_not_found", errs.KindNotFound, "not_found", "no such variant")
	ErrSlugTaken        = errs.Define("catalog.slug_taken", errs.KindConflict, "slug_taken", "the slug is already taken")
	ErrSKUTaken         = errs.Define("catalog.sku_taken", errs.KindConflict, "sku_taken", "the SKU is already taken")
)
