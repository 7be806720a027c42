// Package engine is the full-text product search engine of the search
// module. Callers talk to the Engine interface; Bleve is the implementation,
// built on github.com/blevesearch/bleve/v2 with the scorch index (pure Go).
//
// Matching rules for Query.Text, in short:
//
//   - The text is split into words the same way product text is indexed
//     (Unicode word boundaries, lower-cased). At most MaxQueryWords words are
//     used, each cut to MaxWordBytes bytes. The text is never handed to a
//     query-string parser, so operators such as + - : ^ ~ * ? " ( ) AND OR NOT
//     are plain characters.
//   - Every word must match (AND across words). A word matches when it is
//     found in the title or the description, either exactly or by English
//     stem ("shoes" finds "shoe"), with typos, or, for the last word only, as
//     the prefix of a longer word (search-as-you-type: "runn" finds
//     "Running").
//   - Typos: Levenshtein distance 1 for words of 3–4 characters, 2 for 5 or
//     more; the first character must be right. Not for words with digits,
//     words over 20 characters, beyond the 4th typo-matched word of a query,
//     or for words found in more than 1% of the catalog (and in more than 10
//     products): those are taken as spelled as intended, so "shirt" does not
//     also find "short".
//   - English stop words ("the", "for", ...) are ignored unless the query has
//     nothing else.
//   - Scoring (TF-IDF): a title match adds 4 times the weight of a
//     description match; typo and prefix matches score below exact and stem
//     matches.
//
// See Bleve for the implementation and its performance notes.
package engine

import (
	"context"
	"errors"
	"time"
)

// Sort orders accepted in Query.Sort.
const (
	SortRelevance = "relevance" // score desc, then product id asc (default)
	SortPriceAsc  = "price_asc" // PriceFrom asc, then product id asc
	SortPriceDesc = "price_desc"
	SortNewest    = "newest" // CreatedAt desc, then product id asc
)

// Limits applied to queries.
const (
	DefaultLimit = 20
	MaxLimit     = 100

	// MaxQueryWords is the number of words of Query.Text that are used; the
	// rest is ignored.
	MaxQueryWords = 10
	// MaxWordBytes is the length a query word is cut to (at a rune boundary).
	MaxWordBytes = 64
	// MaxQueryTextBytes bounds how much of Query.Text is even looked at.
	MaxQueryTextBytes = 2048
	// MaxCategoryFilter bounds len(Query.CategoryIDs); extra ids are ignored.
	MaxCategoryFilter = 100
	// MaxCategoryFacets is the number of category facet values returned (the
	// most frequent ones).
	MaxCategoryFacets = 100
	// SnippetChars is the approximate length of Hit.Snippet in characters.
	SnippetChars = 160
	// MaxProductIDBytes bounds Document.ProductID.
	MaxProductIDBytes = 512
)

var (
	// ErrBadCursor is returned by Search for a cursor that does not decode or
	// was issued for another sort order.
	ErrBadCursor = errors.New("engine: bad cursor")
	// ErrBadQuery is returned by Search for a query that is invalid for
	// reasons other than the cursor (an unknown sort order).
	ErrBadQuery = errors.New("engine: bad query")
	// ErrBadDocument is returned by Upsert for a document whose ProductID is
	// empty, longer than MaxProductIDBytes or not valid UTF-8.
	ErrBadDocument = errors.New("engine: bad document")
	// ErrClosed is returned by every method once Close has been called.
	ErrClosed = errors.New("engine: closed")
	// ErrSchemaMismatch is returned by OpenBleve when the index at path was
	// built by an incompatible version of this package; delete the directory
	// and reindex.
	ErrSchemaMismatch = errors.New("engine: index schema version mismatch")
)

// Document is one product as search sees it.
type Document struct {
	ProductID   string
	Slug        string
	Title       string
	Description string
	CategoryID  string // leaf category
	// CategoryPath holds the ids from the root down to and including
	// CategoryID; a category filter on any of them matches. If it is empty,
	// CategoryID alone is used.
	CategoryPath []string
	PriceFrom    int64 // lowest variant price, minor units; |PriceFrom| < 2^53
	InStock      bool
	CreatedAt    time.Time
}

// Query is one search request.
type Query struct {
	// Text is free text from the user; it may be empty, in which case every
	// document that passes the filters matches.
	Text string
	// CategoryIDs matches documents whose CategoryPath contains any of the
	// ids; empty means no filter. Empty ids are ignored, and only the first
	// MaxCategoryFilter distinct ids are used.
	CategoryIDs []string
	// MinPrice and MaxPrice bound PriceFrom, both inclusive; nil means open.
	MinPrice, MaxPrice *int64
	// InStock, when set, keeps only documents with that InStock value.
	InStock *bool
	// Sort is one of the Sort* constants; "" means SortRelevance.
	Sort string
	// Limit is the page size, 1..MaxLimit; 0 means DefaultLimit, larger values
	// are clamped to MaxLimit.
	Limit int
	// Cursor is Result.NextCursor of the previous page; "" for the first page.
	Cursor string
}

// Hit is one matching product.
type Hit struct {
	ProductID string
	Slug      string
	Title     string
	// Snippet is HTML: a short fragment of the description (or of the title
	// when only the title matched), HTML-escaped, with matched words wrapped
	// in <mark>…</mark>. Without query text it is the start of the
	// description.
	Snippet   string
	PriceFrom int64
	InStock   bool
	// Score is the relevance score; it is 0 unless the query has text and is
	// sorted by relevance.
	Score float64
}

// ValueCount is one value of a term facet.
type ValueCount struct {
	Value string
	Count int
}

// PriceBand is one bucket of the price facet: From <= PriceFrom < To. The
// last band is open-ended and has To == -1.
type PriceBand struct {
	From, To int64
	Count    int
}

// Facets holds counts over all documents matching the query (text and
// filters), not only the returned page.
type Facets struct {
	// Category counts leaf category ids (Document.CategoryID), most frequent
	// first, at most MaxCategoryFacets values; values with no match are
	// omitted.
	Category []ValueCount
	// Price always holds the five bands [0,2500) [2500,5000) [5000,10000)
	// [10000,25000) [25000,∞) (To == -1), in this order, including bands
	// with Count 0.
	Price []PriceBand
	// InStock has the values "true" and "false", those with a zero count
	// omitted, "true" first.
	InStock []ValueCount
}

// Result is one page of matches.
type Result struct {
	Items []Hit
	// Total is the number of all documents matching the query (all pages).
	Total  int
	Facets Facets
	// NextCursor fetches the next page; "" when this is the last page.
	NextCursor string
}

// Changes are writes that Apply makes together with a checkpoint.
type Changes struct {
	Upsert []Document
	Delete []string // product ids; unknown ids are ignored
	// Checkpoint is what the writer wants to remember about the index's
	// source once these changes are in: Checkpoint returns it. Apply stores
	// it in the same write as the documents, so the two never disagree,
	// even after a crash.
	Checkpoint []byte
}

// Engine is a product search index. Implementations are safe for concurrent
// use.
type Engine interface {
	// Upsert indexes docs, replacing documents with the same ProductID.
	Upsert(ctx context.Context, docs ...Document) error
	// Delete removes documents; unknown ids are ignored.
	Delete(ctx context.Context, productIDs ...string) error
	// Apply writes c as one atomic change: all of it, checkpoint included,
	// or none of it. Documents must be valid as for Upsert; a product id
	// both upserted and deleted ends deleted.
	Apply(ctx context.Context, c Changes) error
	// Checkpoint is the checkpoint of the last Apply, nil if none.
	Checkpoint() ([]byte, error)
	// Reset empties the index: no documents, no checkpoint.
	Reset() error
	// Search runs q. Any Text is accepted; errors are ErrBadCursor,
	// ErrBadQuery, context errors and internal failures.
	Search(ctx context.Context, q Query) (Result, error)
	// Count returns the number of indexed documents.
	Count() (uint64, error)
	// Close releases the index. Further calls return ErrClosed.
	Close() error
}

// priceBandStarts are the boundaries of the price facet, in minor units.
// Each entry is the From of a band; the band ends where the next one starts,
// and the last band is open-ended: [0,2500) [2500,5000) [5000,10000)
// [10000,25000) [25000,∞). Negative prices fall in no band.
var priceBandStarts = [...]int64{0, 2500, 5000, 10000, 25000}
