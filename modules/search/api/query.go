package api

import (
	"context"

	catalog "github.com/modshop/modshop/modules/catalog/api"
)

// Searcher is the product search a shop front (the web module) runs: what
// GET /v1/search answers, from the same cache.
type Searcher interface {
	// Query searches published products: typo-tolerant, ranked, with facets
	// over every match. Invalid input is a validation error naming the field
	// (min_price, max_price, sort, limit, cursor, category: an unknown
	// category is a field error too).
	Query(ctx context.Context, q Query) (Result, error)
}

// Sort orders of Query.
const (
	SortRelevance = "relevance" // the default
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
	SortNewest    = "newest"
)

// Query is one search.
type Query struct {
	Text     string `json:"q,omitempty"`         // free text; "" matches everything the filters let through
	Category string `json:"category,omitempty"`  // slug or id; includes its subcategories
	MinPrice *int64 `json:"min_price,omitempty"` // inclusive, minor units, on the lowest variant price
	MaxPrice *int64 `json:"max_price,omitempty"`
	InStock  *bool  `json:"in_stock,omitempty"` // only products with (true) or without (false) stock
	Sort     string `json:"sort,omitempty"`     // one of the Sort* constants; "" is relevance
	Limit    int    `json:"limit,omitempty"`    // 1..100; 0 is 20
	Cursor   string `json:"cursor,omitempty"`   // Result.Next of the page before, with the same query
}

// Result is a page of matches.
type Result struct {
	Items  []Hit  `json:"items"`
	Total  int    `json:"total"` // matches over all pages
	Facets Facets `json:"facets"`
	Next   string `json:"next"` // "" on the last page
}

// Hit is one matching product.
type Hit struct {
	ProductID string        `json:"product_id"`
	Slug      string        `json:"slug"`
	Title     string        `json:"title"`
	Snippet   string        `json:"snippet"` // HTML: an escaped fragment with the matches in <mark>
	PriceFrom catalog.Money `json:"price_from"`
	InStock   bool          `json:"in_stock"`
}

// Facets count all matches of the query, not only this page's.
type Facets struct {
	Category []CategoryCount `json:"category"` // most frequent first
	Price    []PriceBand     `json:"price"`    // fixed bands, in order, empty ones included
	InStock  []StockCount    `json:"in_stock"` // true first; a value with no match is left out
}

// CategoryCount counts matches in one category.
type CategoryCount struct {
	ID    string `json:"id"`
	Slug  string `json:"slug"` // "" when the category is not known (any more)
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// PriceBand counts matches with From <= lowest price < To; To is nil for
// the last band.
type PriceBand struct {
	From  int64  `json:"from"`
	To    *int64 `json:"to"`
	Count int    `json:"count"`
}

// StockCount counts matches in stock (InStock) or not.
type StockCount struct {
	InStock bool `json:"in_stock"`
	Count   int  `json:"count"`
}
