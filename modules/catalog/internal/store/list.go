package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/platform/database"
)

// Sort is an order of the product list.
type Sort string

const (
	SortNewest    Sort = "newest"
	SortPriceAsc  Sort = "price_asc"
	SortPriceDesc Sort = "price_desc"
	SortTitle     Sort = "title"
	// SortID is id order, for readers that walk every product (reindex).
	SortID Sort = "id"
)

// Sorts are the orders a shopper may ask for.
var Sorts = []Sort{SortNewest, SortPriceAsc, SortPriceDesc, SortTitle}

// sortSpec says how a sort reads: its key column (besides the id that breaks
// ties) and its direction.
type sortSpec struct {
	col  string // "" for SortID
	desc bool
	text bool // the key is a string (title_key), else an integer
}

var sortSpecs = map[Sort]sortSpec{
	SortNewest:    {col: "created_at", desc: true},
	SortPriceAsc:  {col: "price_from"},
	SortPriceDesc: {col: "price_from", desc: true},
	SortTitle:     {col: "title_key", text: true},
	SortID:        {},
}

// Key is a position in a sort order: the last product of a page.
type Key struct {
	Sort Sort
	N    int64  // created_at (µs) or price_from
	S    string // title_key
	ID   string
}

// keyOf is the row's position in sort order s, read from the stored sort
// columns, so it is exactly what the index holds.
func keyOf(s Sort, r productRow) Key {
	k := Key{Sort: s, ID: r.ID}
	switch s {
	case SortNewest:
		k.N = r.CreatedUS
	case SortPriceAsc, SortPriceDesc:
		k.N = r.PriceFrom
	case SortTitle:
		k.S = r.TitleKey
	}
	return k
}

// cursorJSON is a cursor's content before base64url (Key with short JSON
// names): the sort it belongs to, the sort key and the id of the last
// product seen.
type cursorJSON struct {
	Sort Sort   `json:"s"`
	N    int64  `json:"n,omitempty"`
	S    string `json:"t,omitempty"`
	ID   string `json:"i"`
}

// Encode is the opaque cursor of the key.
func (k Key) Encode() string {
	b, _ := json.Marshal(cursorJSON(k)) // cannot fail: plain fields
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is a cursor this store did not make, or made for another sort.
var ErrBadCursor = errors.New("invalid cursor")

// DecodeCursor reads a cursor made by Key.Encode for sort s.
func DecodeCursor(cursor string, s Sort) (Key, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) > 2048 {
		return Key{}, ErrBadCursor
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != s || c.ID == "" {
		return Key{}, ErrBadCursor
	}
	return Key(c), nil
}

// ListQuery selects a page of products.
type ListQuery struct {
	Status api.Status // "" for every status
	// CategoryID keeps products in the category or below it; it needs
	// Status published, the only products the category listing holds.
	CategoryID string
	MinPrice   *int64 // inclusive, on the lowest variant price
	MaxPrice   *int64 // inclusive
	Sort       Sort
	After      *Key // the previous page's last product
	Limit      int
}

// Page is a page of products with the key of the next one (nil at the end).
type Page struct {
	Products []domain.Product
	Next     *Key
}

// List returns a page in keyset order: two queries whatever the page size
// (the products, then their variants).
func (s *Store) List(ctx context.Context, q ListQuery) (Page, error) {
	db := s.h.Conn(ctx)
	sparse, err := s.sparsePrice(db, q)
	if err != nil {
		return Page{}, err
	}
	sqlText, args, err := listSQLWith(q, sparse, s.h.Dialect)
	if err != nil {
		return Page{}, err
	}
	var rows []productRow
	if err := db.Raw(sqlText, args...).Scan(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("list products: %w", err)
	}
	more := len(rows) > q.Limit
	if more {
		rows = rows[:q.Limit]
	}
	ps, err := s.withVariants(db, rows)
	if err != nil {
		return Page{}, err
	}
	page := Page{Products: ps}
	if more {
		k := keyOf(q.Sort, rows[len(rows)-1])
		page.Next = &k
	}
	return page, nil
}

// listSQL builds the page query. Each filter and sort is an index range read
// in order (see schemaV1): the products table with status first for the
// plain list, catalog_category_listing with category_id first for a
// category. The keyset condition is a row-value comparison, which both
// engines turn into the start of the index range.
func listSQL(q ListQuery) (string, []any, error) { return listSQLWith(q, false, database.Postgres) }

// sparseProbe is how many products in a price range make it dense: below,
// the range is read from the price index and sorted (at most this many
// rows); from it on, the sort's own index is read with the price as a
// filter, which finds a page after about Limit/density rows.
var sparseProbe = 1000 // a variable so tests can force either plan

// sparsePrice reports whether a price-filtered list under another sort has
// so few products in its range that reading the sort's index would step
// over most of the catalog to fill a page (a range that matches nothing
// would read every product). It costs one index range read of at most
// sparseProbe entries.
func (s *Store) sparsePrice(db *gorm.DB, q ListQuery) (bool, error) {
	spec, ok := sortSpecs[q.Sort]
	if !ok || spec.col == "price_from" || (q.MinPrice == nil && q.MaxPrice == nil) || (q.CategoryID == "" && q.Status == "") {
		return false, nil
	}
	var w where
	src := listSource(q, &w)
	col := src.t + ".price_from"
	if q.MinPrice != nil {
		w.add(col+" >= ?", *q.MinPrice)
	}
	if q.MaxPrice != nil {
		w.add(col+" <= ?", *q.MaxPrice)
	}
	var n int64
	err := db.Raw("SELECT COUNT(*) FROM (SELECT 1 FROM "+src.from+w.String()+" LIMIT ?) x", append(w.args, sparseProbe)...).Scan(&n).Error
	if err != nil {
		return false, fmt.Errorf("list products: price range: %w", err)
	}
	return n < int64(sparseProbe), nil
}

// listSQLWith is listSQL; sparse reads a price range from the price index
// (see sparsePrice), which SQLite is told with INDEXED BY.
func listSQLWith(q ListQuery, sparse bool, dialect database.Dialect) (string, []any, error) {
	spec, ok := sortSpecs[q.Sort]
	switch {
	case !ok:
		return "", nil, fmt.Errorf("store: unknown sort %q", q.Sort)
	case q.Limit < 1:
		return "", nil, fmt.Errorf("store: limit %d", q.Limit)
	case q.CategoryID != "" && (q.Status != api.StatusPublished || q.Sort == SortID):
		return "", nil, errNotPublishedList
	}
	var w where
	src := listSource(q, &w)
	if sparse {
		if dialect == database.SQLite {
			src.from = sparseFrom(q)
		}
		if q.MinPrice != nil {
			w.add(src.t+".price_from >= ?", *q.MinPrice)
		}
		if q.MaxPrice != nil {
			w.add(src.t+".price_from <= ?", *q.MaxPrice)
		}
	} else {
		priceFilters(q, spec, src, &w)
	}
	if q.After != nil {
		keyset(*q.After, spec, src, &w)
	}
	dir := "ASC"
	if spec.desc {
		dir = "DESC"
	}
	order := src.id + " " + dir
	if spec.col != "" {
		order = src.t + "." + spec.col + " " + dir + ", " + order
	}
	sqlText := "SELECT " + productSelect + " FROM " + src.from + w.String() + " ORDER BY " + order + " LIMIT ?"
	return sqlText, append(w.args, q.Limit+1), nil // one more tells whether a next page exists
}

// sparseFrom is listSource's FROM with the price index named (SQLite).
func sparseFrom(q ListQuery) string {
	if q.CategoryID != "" {
		return "catalog_category_listing l INDEXED BY catalog_category_listing_price JOIN catalog_products p ON p.id = l.product_id"
	}
	return "catalog_products p INDEXED BY catalog_products_status_price"
}

// source is where a list reads: its FROM, the alias whose columns filter and
// sort, and the id column that breaks ties.
type source struct{ from, t, id string }

func listSource(q ListQuery, w *where) source {
	if q.CategoryID != "" {
		w.add("l.category_id = ?", q.CategoryID)
		return source{from: "catalog_category_listing l JOIN catalog_products p ON p.id = l.product_id", t: "l", id: "l.product_id"}
	}
	if q.Status != "" {
		w.add("p.status = ?", string(q.Status))
	}
	return source{from: "catalog_products p", t: "p", id: "p.id"}
}

// priceFilters adds the inclusive price bounds. Under another sort they
// must not be an index range, or the planner would read the price index and
// sort the rows: the unary plus (valid SQL on both engines) keeps them
// filters of the sort's own index scan, which stops after a page of
// matches. Under a price sort, on a later page, the keyset condition
// starts the range, and a bound on the same side is dropped: SQLite would
// otherwise start at the bound and step over every earlier row again.
func priceFilters(q ListQuery, spec sortSpec, src source, w *where) {
	col := src.t + ".price_from"
	minP, maxP := q.MinPrice, q.MaxPrice
	if spec.col != "price_from" {
		col = "+" + col
	} else if k := q.After; k != nil {
		if !spec.desc && minP != nil && k.N >= *minP {
			minP = nil
		}
		if spec.desc && maxP != nil && k.N <= *maxP {
			maxP = nil
		}
	}
	if minP != nil {
		w.add(col+" >= ?", *minP)
	}
	if maxP != nil {
		w.add(col+" <= ?", *maxP)
	}
}

// keyset adds "after the previous page's last product" in sort order.
func keyset(k Key, spec sortSpec, src source, w *where) {
	op := ">"
	if spec.desc {
		op = "<"
	}
	switch {
	case spec.col == "":
		w.add(src.id+" "+op+" ?", k.ID)
	case spec.text:
		w.add("("+src.t+"."+spec.col+", "+src.id+") "+op+" (?, ?)", k.S, k.ID)
	default:
		w.add("("+src.t+"."+spec.col+", "+src.id+") "+op+" (?, ?)", k.N, k.ID)
	}
}

// where collects the conditions of a query and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
