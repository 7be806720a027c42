package api

import "context"

// Storefront is what a shop front (the web module's pages) reads: published
// products only, with their availability, answered from the catalog's read
// cache (the one behind GET /v1/products), so a page costs no database
// query while the catalog has not changed.
type Storefront interface {
	// PublishedProduct is one published product by id or slug, with the
	// availability of each variant and its category (nil without one);
	// ErrProductNotFound when no published product has that id or slug.
	PublishedProduct(ctx context.Context, idOrSlug string) (ProductView, error)
	// Browse is a page of published products, as GET /v1/products lists
	// them. A category that does not exist is ErrCategoryNotFound; invalid
	// prices, sort, limit or cursor are a validation error naming the field
	// (min_price, max_price, sort, limit, cursor).
	Browse(ctx context.Context, q BrowseQuery) (ProductPage, error)
	// ShopCategories is the category tree, flat, parents first, as
	// Catalog.Categories, but from the read cache.
	ShopCategories(ctx context.Context) ([]Category, error)
}

// Sort orders of BrowseQuery.
const (
	SortNewest    = "newest" // the default
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
	SortTitle     = "title"
)

// BrowseQuery selects a page of published products.
type BrowseQuery struct {
	Category string `json:"category,omitempty"`  // slug or id; includes its subcategories
	MinPrice *int64 `json:"min_price,omitempty"` // inclusive, minor units, on the lowest variant price
	MaxPrice *int64 `json:"max_price,omitempty"`
	Sort     string `json:"sort,omitempty"`   // one of the Sort* constants; "" is newest
	Limit    int    `json:"limit,omitempty"`  // 1..100; 0 is 20
	Cursor   string `json:"cursor,omitempty"` // ProductPage.Next of the page before, with the same sort
}

// ProductPage is a page of Browse.
type ProductPage struct {
	Items    []ProductSummary `json:"items"`
	Category *Category        `json:"category"` // the query's category, nil without one
	Next     string           `json:"next"`     // "" on the last page
}

// ProductSummary is a product as a list shows it.
type ProductSummary struct {
	ID         string  `json:"id"`
	Slug       string  `json:"slug"`
	Title      string  `json:"title"`
	CategoryID *string `json:"category_id"`
	PriceFrom  Money   `json:"price_from"` // the lowest variant price
	PriceTo    Money   `json:"price_to"`   // the highest
	Available  int64   `json:"available"`  // units over all variants
}

// InStock reports whether some variant can be bought.
func (p ProductSummary) InStock() bool { return p.Available > 0 }

// ProductView is a published product as its page shows it.
type ProductView struct {
	Product
	Category     *Category `json:"category"`
	Availability []int64   `json:"availability"` // units available of each variant, in Variants' order
}

// Available is the number of units of variant i that can be bought.
func (p ProductView) Available(i int) int64 {
	if i < 0 || i >= len(p.Availability) {
		return 0
	}
	return p.Availability[i]
}
