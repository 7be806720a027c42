// Package store keeps the catalog in its own tables (catalog_*): gorm rows,
// the queries, keyset pagination and the migrations. A Store is made once
// and held by the service: its reads take a context, and InTx runs a use
// case's writes in one transaction, through a *Tx that also publishes the
// catalog's events into the outbox of that transaction, so a change and its
// events commit together. Only this package touches gorm.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
)

// Store reads and writes the catalog's tables.
type Store struct {
	events.Transactions[*Tx]
	h *database.Handle
}

// New makes a store over the catalog's outbox (and its database).
func New(ob *events.Outbox) *Store {
	s := &Store{h: ob.Handle()}
	s.Transactions = events.NewTransactions(ob, func(tx *events.Tx) *Tx { return &Tx{s: s, db: tx.DB, events: tx} })
	return s
}

// Tx is one transaction of the catalog: the store's writes, and the events
// published with them, which are written to the outbox before it commits.
type Tx struct {
	s      *Store
	db     *gorm.DB
	events *events.Tx
}

// Publish adds events to the outbox in this transaction.
func (t *Tx) Publish(evts ...events.Event) error { return t.events.Publish(evts...) }

// maxVars keeps one statement under SQLite's limit of 32,766 bound
// parameters (PostgreSQL allows 65,535).
const maxVars = 30_000

// Columns of the rows below, in the order the inserts write them.
const (
	categoryCols = "id, slug, name, parent_id, path, created_at"
	productCols  = "id, slug, title, title_key, description, category_id, status, price_from, version, created_at, updated_at"
	variantCols  = "id, product_id, position, sku, title, price, attributes, created_at, updated_at"
	listingCols  = "category_id, product_id, price_from, created_at, title_key"
)

type categoryRow struct {
	ID       string  `gorm:"column:id"`
	Slug     string  `gorm:"column:slug"`
	Name     string  `gorm:"column:name"`
	ParentID *string `gorm:"column:parent_id"`
	Path     string  `gorm:"column:path"`
}

func (r categoryRow) domain() domain.Category {
	return domain.Category{ID: r.ID, Slug: r.Slug, Name: r.Name, ParentID: r.ParentID, Path: splitPath(r.Path)}
}

// A category's path is stored as its ids joined by "/", root first.
func joinPath(ids []string) string { return strings.Join(ids, "/") }
func splitPath(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "/")
}

type productRow struct {
	ID          string  `gorm:"column:id"`
	Slug        string  `gorm:"column:slug"`
	Title       string  `gorm:"column:title"`
	Description string  `gorm:"column:description"`
	CategoryID  *string `gorm:"column:category_id"`
	Status      string  `gorm:"column:status"`
	PriceFrom   int64   `gorm:"column:price_from"`
	TitleKey    string  `gorm:"column:title_key"`
	Version     int64   `gorm:"column:version"`
	CreatedUS   int64   `gorm:"column:created_at"`
	UpdatedUS   int64   `gorm:"column:updated_at"`
}

// productSelect is productRow's columns, qualified with alias p.
const productSelect = "p.id, p.slug, p.title, p.description, p.category_id, p.status, p.price_from, p.title_key, p.version, p.created_at, p.updated_at"

func (r productRow) domain(vs []domain.Variant) domain.Product {
	return domain.Product{
		ID: r.ID, Slug: r.Slug, Title: r.Title, Description: r.Description, CategoryID: r.CategoryID,
		Status: api.Status(r.Status), Version: r.Version, Variants: vs,
		CreatedAt: fromMicros(r.CreatedUS), UpdatedAt: fromMicros(r.UpdatedUS),
	}
}

type variantRow struct {
	ID         string `gorm:"column:id"`
	ProductID  string `gorm:"column:product_id"`
	SKU        string `gorm:"column:sku"`
	Title      string `gorm:"column:title"`
	Price      int64  `gorm:"column:price"`
	Attributes string `gorm:"column:attributes"`
}

const variantSelect = "v.id, v.product_id, v.sku, v.title, v.price, v.attributes"

func (r variantRow) domain() (domain.Variant, error) {
	attrs := map[string]string{}
	if err := json.Unmarshal([]byte(r.Attributes), &attrs); err != nil {
		return domain.Variant{}, fmt.Errorf("variant %s attributes: %w", r.ID, err)
	}
	return domain.Variant{ID: r.ID, SKU: r.SKU, Title: r.Title, Price: r.Price, Attributes: attrs}, nil
}

// Times are stored as unix microseconds: exact ordering on every engine.
func micros(t time.Time) int64      { return t.UnixMicro() }
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Categories returns every category in tree order: ordered by path, a
// category comes right before its subtree, and siblings in the order they
// were created (ids are time-ordered).
func (s *Store) Categories(ctx context.Context) ([]domain.Category, error) {
	var rows []categoryRow
	if err := s.h.Conn(ctx).Raw("SELECT " + categoryCols + " FROM catalog_categories ORDER BY path").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	out := make([]domain.Category, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Category finds a category by id or slug; api.ErrCategoryNotFound if none.
func (s *Store) Category(ctx context.Context, ref string) (domain.Category, error) {
	var rows []categoryRow
	// An id that happens to equal another category's slug resolves as the id.
	err := s.h.Conn(ctx).Raw("SELECT "+categoryCols+" FROM catalog_categories WHERE id = ? OR slug = ?", ref, ref).Scan(&rows).Error
	if err != nil {
		return domain.Category{}, fmt.Errorf("find category %q: %w", ref, err)
	}
	for _, r := range rows {
		if r.ID == ref {
			return r.domain(), nil
		}
	}
	if len(rows) == 0 {
		return domain.Category{}, api.ErrCategoryNotFound
	}
	return rows[0].domain(), nil
}

// CategoriesByID returns the categories with these ids that exist.
func (t *Tx) CategoriesByID(ids []string) (map[string]domain.Category, error) {
	out := make(map[string]domain.Category, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []categoryRow
	if err := t.db.Raw("SELECT "+categoryCols+" FROM catalog_categories WHERE id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("find categories: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.domain()
	}
	return out, nil
}

// InsertCategory stores a new category; a taken slug is api.ErrSlugTaken,
// caught by the unique constraint so that two concurrent creates cannot both
// succeed.
func (t *Tx) InsertCategory(c domain.Category, now time.Time) error {
	err := t.db.Exec("INSERT INTO catalog_categories ("+categoryCols+") VALUES (?, ?, ?, ?, ?, ?)",
		c.ID, c.Slug, c.Name, c.ParentID, joinPath(c.Path), micros(now)).Error
	switch {
	case err == nil:
		return nil
	case database.IsDuplicate(err):
		return domain.SlugTaken(c.Slug)
	default:
		return fmt.Errorf("insert category %s: %w", c.Slug, err)
	}
}

// Product returns a product of any status with its variants;
// api.ErrProductNotFound if there is none.
func (s *Store) Product(ctx context.Context, id string) (domain.Product, error) {
	return s.loadProduct(s.h.Conn(ctx), "p.id = ?", []any{id}, false)
}

// PublishedProduct finds a published product by id or slug.
func (s *Store) PublishedProduct(ctx context.Context, ref string) (domain.Product, error) {
	db := s.h.Conn(ctx)
	var rows []productRow
	err := db.Raw("SELECT "+productSelect+" FROM catalog_products p WHERE (p.id = ? OR p.slug = ?) AND p.status = ?",
		ref, ref, api.StatusPublished).Scan(&rows).Error
	if err != nil {
		return domain.Product{}, fmt.Errorf("find product %q: %w", ref, err)
	}
	if len(rows) == 0 {
		return domain.Product{}, api.ErrProductNotFound
	}
	row := rows[0]
	for _, r := range rows {
		if r.ID == ref { // an id wins over an equal slug
			row = r
		}
	}
	ps, err := s.withVariants(db, []productRow{row})
	if err != nil {
		return domain.Product{}, err
	}
	return ps[0], nil
}

// LockProduct loads a product for a change in tx; on PostgreSQL the row is
// locked until the transaction ends, so concurrent changes queue instead of
// losing one another's update (SQLite transactions are serialised anyway).
func (t *Tx) LockProduct(id string) (domain.Product, error) {
	return t.s.loadProduct(t.db, "p.id = ?", []any{id}, true)
}

// LockProductOfVariant is LockProduct for the product that owns a variant;
// api.ErrVariantNotFound if there is no such variant.
func (t *Tx) LockProductOfVariant(variantID string) (domain.Product, error) {
	var ids []string
	if err := t.db.Raw("SELECT product_id FROM catalog_variants WHERE id = ?", variantID).Scan(&ids).Error; err != nil {
		return domain.Product{}, fmt.Errorf("find variant %s: %w", variantID, err)
	}
	if len(ids) == 0 {
		return domain.Product{}, api.ErrVariantNotFound
	}
	return t.LockProduct(ids[0])
}

func (s *Store) loadProduct(db *gorm.DB, where string, args []any, lock bool) (domain.Product, error) {
	q := "SELECT " + productSelect + " FROM catalog_products p WHERE " + where
	if lock && s.h.Dialect == database.Postgres {
		q += " FOR UPDATE"
	}
	var rows []productRow
	if err := db.Raw(q, args...).Scan(&rows).Error; err != nil {
		return domain.Product{}, fmt.Errorf("load product: %w", err)
	}
	if len(rows) == 0 {
		return domain.Product{}, api.ErrProductNotFound
	}
	ps, err := s.withVariants(db, rows)
	if err != nil {
		return domain.Product{}, err
	}
	return ps[0], nil
}

// withVariants loads the variants of every product in one query.
func (s *Store) withVariants(db *gorm.DB, rows []productRow) ([]domain.Product, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var vrows []variantRow
	err := db.Raw("SELECT "+variantSelect+" FROM catalog_variants v WHERE v.product_id IN ? ORDER BY v.product_id, v.position", ids).
		Scan(&vrows).Error
	if err != nil {
		return nil, fmt.Errorf("load variants: %w", err)
	}
	byProduct := make(map[string][]domain.Variant, len(rows))
	for _, vr := range vrows {
		v, err := vr.domain()
		if err != nil {
			return nil, err
		}
		byProduct[vr.ProductID] = append(byProduct[vr.ProductID], v)
	}
	out := make([]domain.Product, len(rows))
	for i, r := range rows {
		out[i] = r.domain(byProduct[r.ID])
	}
	return out, nil
}

// VariantInfo is a variant with what other modules need of its product.
type VariantInfo struct {
	Variant       domain.Variant
	ProductID     string
	ProductTitle  string
	ProductStatus api.Status
}

// variantInfoRow repeats variantRow's fields: gorm does not read into an
// unexported embedded struct.
type variantInfoRow struct {
	ID            string `gorm:"column:id"`
	ProductID     string `gorm:"column:product_id"`
	SKU           string `gorm:"column:sku"`
	Title         string `gorm:"column:title"`
	Price         int64  `gorm:"column:price"`
	Attributes    string `gorm:"column:attributes"`
	ProductTitle  string `gorm:"column:product_title"`
	ProductStatus string `gorm:"column:product_status"`
}

// VariantsBySKU finds variants by SKU with their products, in one query.
func (s *Store) VariantsBySKU(ctx context.Context, skus []string) ([]VariantInfo, error) {
	if len(skus) == 0 {
		return nil, nil
	}
	var rows []variantInfoRow
	err := s.h.Conn(ctx).Raw("SELECT "+variantSelect+", p.title AS product_title, p.status AS product_status"+
		" FROM catalog_variants v JOIN catalog_products p ON p.id = v.product_id WHERE v.sku IN ?", skus).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find variants by SKU: %w", err)
	}
	out := make([]VariantInfo, 0, len(rows))
	for _, r := range rows {
		v, err := variantRow{ID: r.ID, ProductID: r.ProductID, SKU: r.SKU, Title: r.Title, Price: r.Price, Attributes: r.Attributes}.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, VariantInfo{Variant: v, ProductID: r.ProductID, ProductTitle: r.ProductTitle, ProductStatus: api.Status(r.ProductStatus)})
	}
	return out, nil
}

// ExistingSlugs reports which of the product slugs are taken.
func (t *Tx) ExistingSlugs(slugs []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(slugs); start += maxVars {
		var taken []string
		chunk := slugs[start:min(start+maxVars, len(slugs))]
		if err := t.db.Raw("SELECT slug FROM catalog_products WHERE slug IN ?", chunk).Scan(&taken).Error; err != nil {
			return nil, fmt.Errorf("find taken slugs: %w", err)
		}
		for _, sl := range taken {
			out[sl] = true
		}
	}
	return out, nil
}

// NewProduct is a product to insert with its category's path (nil without a
// category).
type NewProduct struct {
	Product      domain.Product
	CategoryPath []string
}

// InsertProducts stores new products with their variants and listing rows,
// a few statements for the whole batch. A taken slug or SKU, found by the
// unique constraints, is api.ErrSlugTaken or api.ErrSKUTaken.
func (t *Tx) InsertProducts(ps []NewProduct) error {
	products := make([][]any, 0, len(ps))
	var variants, listing [][]any
	for _, np := range ps {
		p := np.Product
		products = append(products, productValues(p))
		for i, v := range p.Variants {
			vals, err := variantValues(p, i, v)
			if err != nil {
				return err
			}
			variants = append(variants, vals)
		}
		listing = append(listing, listingValues(p, np.CategoryPath)...)
	}
	if err := insertRows(t.db, "catalog_products", productCols, products); err != nil {
		if database.IsDuplicate(err) {
			if len(ps) == 1 {
				return domain.SlugTaken(ps[0].Product.Slug)
			}
			return api.ErrSlugTaken
		}
		return fmt.Errorf("insert products: %w", err)
	}
	if err := insertRows(t.db, "catalog_variants", variantCols, variants); err != nil {
		if database.IsDuplicate(err) {
			return api.ErrSKUTaken
		}
		return fmt.Errorf("insert variants: %w", err)
	}
	if err := insertRows(t.db, "catalog_category_listing", listingCols, listing); err != nil {
		return fmt.Errorf("insert listing: %w", err)
	}
	return nil
}

// SaveProduct writes a changed product's own row and re-lists it under its
// categories; its variants are written by InsertVariant and UpdateVariant.
func (t *Tx) SaveProduct(p domain.Product, categoryPath []string) error {
	err := t.db.Exec(`UPDATE catalog_products SET slug = ?, title = ?, title_key = ?, description = ?, category_id = ?,
		status = ?, price_from = ?, version = ?, updated_at = ? WHERE id = ?`,
		p.Slug, p.Title, domain.TitleKey(p.Title), p.Description, p.CategoryID,
		string(p.Status), p.PriceFrom(), p.Version, micros(p.UpdatedAt), p.ID).Error
	switch {
	case database.IsDuplicate(err):
		return domain.SlugTaken(p.Slug)
	case err != nil:
		return fmt.Errorf("update product %s: %w", p.ID, err)
	}
	if err := t.db.Exec("DELETE FROM catalog_category_listing WHERE product_id = ?", p.ID).Error; err != nil {
		return fmt.Errorf("unlist product %s: %w", p.ID, err)
	}
	if err := insertRows(t.db, "catalog_category_listing", listingCols, listingValues(p, categoryPath)); err != nil {
		return fmt.Errorf("list product %s: %w", p.ID, err)
	}
	return nil
}

// InsertVariant stores the product's variant at index i; a taken SKU is
// api.ErrSKUTaken.
func (t *Tx) InsertVariant(p domain.Product, i int) error {
	vals, err := variantValues(p, i, p.Variants[i])
	if err != nil {
		return err
	}
	err = insertRows(t.db, "catalog_variants", variantCols, [][]any{vals})
	switch {
	case database.IsDuplicate(err):
		return domain.SKUTaken(p.Variants[i].SKU)
	case err != nil:
		return fmt.Errorf("insert variant %s: %w", p.Variants[i].SKU, err)
	}
	return nil
}

// UpdateVariant writes a variant's changeable fields.
func (t *Tx) UpdateVariant(v domain.Variant, now time.Time) error {
	attrs, err := json.Marshal(v.Attributes)
	if err != nil {
		return fmt.Errorf("encode attributes of %s: %w", v.SKU, err)
	}
	if err := t.db.Exec("UPDATE catalog_variants SET title = ?, price = ?, attributes = ?, updated_at = ? WHERE id = ?",
		v.Title, v.Price, string(attrs), micros(now), v.ID).Error; err != nil {
		return fmt.Errorf("update variant %s: %w", v.SKU, err)
	}
	return nil
}

func productValues(p domain.Product) []any {
	return []any{p.ID, p.Slug, p.Title, domain.TitleKey(p.Title), p.Description, nullable(p.CategoryID),
		string(p.Status), p.PriceFrom(), p.Version, micros(p.CreatedAt), micros(p.UpdatedAt)}
}

func variantValues(p domain.Product, i int, v domain.Variant) ([]any, error) {
	attrs, err := json.Marshal(v.Attributes)
	if err != nil {
		return nil, fmt.Errorf("encode attributes of %s: %w", v.SKU, err)
	}
	return []any{v.ID, p.ID, i, v.SKU, v.Title, v.Price, string(attrs), micros(p.UpdatedAt), micros(p.UpdatedAt)}, nil
}

// listingValues are the listing rows of a product: one per category on its
// path while it is published, none otherwise.
func listingValues(p domain.Product, path []string) [][]any {
	if p.Status != api.StatusPublished {
		return nil
	}
	rows := make([][]any, len(path))
	for i, c := range path {
		rows[i] = []any{c, p.ID, p.PriceFrom(), micros(p.CreatedAt), domain.TitleKey(p.Title)}
	}
	return rows
}

func nullable(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// insertRows inserts rows with multi-row INSERTs of at most maxVars values.
func insertRows(db *gorm.DB, table, cols string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows[0])
	per := maxVars / n
	tuple := "(" + strings.Repeat("?, ", n-1) + "?)"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.Grow(len(table) + len(cols) + 32 + len(chunk)*(len(tuple)+2))
		b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
		args := make([]any, 0, len(chunk)*n)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
			args = append(args, r...)
		}
		if err := db.Exec(b.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// errNotPublishedList guards the listing table, which holds published
// products only.
var errNotPublishedList = errors.New("store: a category filter lists published products only")
