// Package store keeps the search module's read model: one row per product
// (search_documents) and one per SKU (search_variants), fed only by events,
// and shared by every replica of the module.
//
// Each replica keeps a full-text index of its own, so what an index has
// applied cannot be a column of these shared rows. Instead every change to a
// document carries a change number (change_seq) from a one-row clock
// (search_clock), given to all the rows a transaction changed just before it
// commits (Stamp): the clock's row lock makes change numbers grow in commit
// order, so a reader that has applied every change up to a position has
// missed nothing below it. An index keeps the position it has applied inside
// itself; see Changes.
//
// A Store is made once and held by the service and the indexer: its reads
// take a context, and InTx (or Join, in an event consumer's transaction)
// gives a *Tx whose methods write the read model. Only this package
// touches gorm.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
)

// Store reads and writes the search module's read model.
type Store struct {
	events.Transactions[*Tx]
	h *database.Handle
}

// New makes the store over the module's outbox (and its database).
func New(ob *events.Outbox) *Store {
	s := &Store{h: ob.Handle()}
	s.Transactions = events.NewTransactions(ob, func(tx *events.Tx) *Tx { return &Tx{db: tx.DB, events: tx} })
	return s
}

// Tx is one transaction of the search module's database.
type Tx struct {
	db     *gorm.DB
	events *events.Tx
}

// ApplySnapshots stores product snapshots (see applySnapshots); run Stamp
// before the commit, or StampBeforeCommit.
func (t *Tx) ApplySnapshots(snaps []catalog.ProductSnapshot) error {
	return applySnapshots(t.db, snaps)
}

// ApplyStock stores stock changes (see applyStock) and reports whether a
// document changed; run Stamp before the commit, or StampBeforeCommit.
func (t *Tx) ApplyStock(changes []StockChange) (bool, error) { return applyStock(t.db, changes) }

// SetStock stores a SKU's quantity during a reindex, whatever its version.
func (t *Tx) SetStock(sku, productID string, available int64) error {
	return setStock(t.db, sku, productID, available)
}

// Stamp gives the documents this transaction changed their change number;
// run it last (see stampChanges).
func (t *Tx) Stamp() error { return stampChanges(t.db) }

// StampBeforeCommit runs Stamp once, after everything else the transaction
// does, however many times it is asked for (events.Tx.BeforeCommit).
func (t *Tx) StampBeforeCommit() { t.events.BeforeCommit("search.stamp", stampChanges) }

// AfterCommit runs fn once the transaction has committed.
func (t *Tx) AfterCommit(fn func()) { t.events.AfterCommit(fn) }

// ChangeAll gives every document a new change number (see changeAll).
func (t *Tx) ChangeAll() error { return changeAll(t.db) }

// Head is the read model's identity and its latest change number (see
// readHead).
func (s *Store) Head(ctx context.Context) (modelID string, seq int64, err error) {
	return readHead(ctx, s.h.Gorm)
}

// Changes returns up to limit documents changed after p, in change order.
func (s *Store) Changes(ctx context.Context, p Position, limit int) ([]Doc, error) {
	return readChanges(ctx, s.h.Gorm, p, limit)
}

// InStock returns which of the products have a SKU with stock.
func (s *Store) InStock(ctx context.Context, productIDs []string) (map[string]bool, error) {
	return inStock(ctx, s.h.Gorm, productIDs)
}

// CountIndexable counts the published products, which the index should hold.
func (s *Store) CountIndexable(ctx context.Context) (int64, error) {
	return countIndexable(ctx, s.h.Gorm)
}

// Migrations are the search module's tables.
var Migrations = database.MigrationSet{Module: "search", Component: "module", Migrations: []database.Migration{{
	Version: 1, Name: "read_model",
	SQL: `
CREATE TABLE search_documents (
	product_id TEXT PRIMARY KEY,
	slug TEXT NOT NULL,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	category_id TEXT NOT NULL,
	category_path TEXT NOT NULL,
	status TEXT NOT NULL,
	price_from BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	version BIGINT NOT NULL,
	dirty_gen BIGINT NOT NULL DEFAULT 1,
	indexed_gen BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX search_documents_dirty ON search_documents (product_id) WHERE dirty_gen <> indexed_gen;
CREATE TABLE search_variants (
	sku TEXT PRIMARY KEY,
	product_id TEXT NOT NULL,
	available BIGINT NOT NULL DEFAULT 0,
	stock_version BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX search_variants_product ON search_variants (product_id);
`}, changeLog(2, "change_log",
	"md5(random()::text || clock_timestamp()::text)", "lower(hex(randomblob(16)))")}}

// changeLog replaces the per-row "indexed" generation, which one replica's
// indexer set for all, with change numbers every index reads on its own.
// Existing rows get change 1, so every existing index applies them again.
func changeLog(version int, name, pgRandom, sqliteRandom string) database.Migration {
	sql := func(random string) string {
		return `
DROP INDEX search_documents_dirty;
ALTER TABLE search_documents DROP COLUMN dirty_gen;
ALTER TABLE search_documents DROP COLUMN indexed_gen;
ALTER TABLE search_documents ADD COLUMN change_seq BIGINT;
UPDATE search_documents SET change_seq = 1;
CREATE INDEX search_documents_changes ON search_documents (change_seq, product_id);
CREATE TABLE search_clock (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	model_id TEXT NOT NULL,
	seq BIGINT NOT NULL
);
INSERT INTO search_clock (id, model_id, seq) VALUES (1, ` + random + `, 1);
`
	}
	return database.Migration{Version: version, Name: name, SQL: sql(pgRandom), Postgres: sql(pgRandom), SQLite: sql(sqliteRandom)}
}

// Doc is a row of search_documents.
type Doc struct {
	ProductID    string    `gorm:"column:product_id;primaryKey"`
	Slug         string    `gorm:"column:slug"`
	Title        string    `gorm:"column:title"`
	Description  string    `gorm:"column:description"`
	CategoryID   string    `gorm:"column:category_id"`
	CategoryPath string    `gorm:"column:category_path"` // JSON array of ids
	Status       string    `gorm:"column:status"`
	PriceFrom    int64     `gorm:"column:price_from"`
	CreatedAt    time.Time `gorm:"column:created_at"`
	Version      int64     `gorm:"column:version"`
	ChangeSeq    int64     `gorm:"column:change_seq"`
}

// Path decodes CategoryPath.
func (d Doc) Path() []string {
	var p []string
	_ = json.Unmarshal([]byte(d.CategoryPath), &p)
	return p
}

// DocFromSnapshot turns a catalog snapshot into a row.
func DocFromSnapshot(s catalog.ProductSnapshot) Doc {
	path, _ := json.Marshal(s.CategoryPath)
	if s.CategoryPath == nil {
		path = []byte("[]")
	}
	cat := ""
	if s.CategoryID != nil {
		cat = *s.CategoryID
	}
	price := int64(0)
	for i, v := range s.Variants {
		if i == 0 || v.Price.Amount < price {
			price = v.Price.Amount
		}
	}
	return Doc{ProductID: s.ProductID, Slug: s.Slug, Title: s.Title, Description: s.Description, CategoryID: cat,
		CategoryPath: string(path), Status: string(s.Status), PriceFrom: price, CreatedAt: s.CreatedAt.UTC(), Version: s.Version}
}

// rowsPerStatement bounds the rows of one multi-row statement, well below
// what either database takes in parameters.
const rowsPerStatement = 500

// applySnapshots stores product snapshots, each unless a newer one of its
// product is stored, maps their SKUs to their products, and leaves the
// documents it stored changed (change_seq NULL) for Stamp, which the
// transaction must run before it commits. Snapshots are applied as if one
// by one, in order: of several of one product, the newest wins. It writes a
// statement per few hundred snapshots, not per snapshot: a bulk load of the
// catalog sends them by the thousand.
func applySnapshots(tx *gorm.DB, snaps []catalog.ProductSnapshot) error {
	// The last snapshot of the highest version of each product, and the
	// last product of each SKU; sorted, so that concurrent writers lock rows
	// in one order.
	docs := map[string]Doc{}
	skus := map[string]string{}
	for _, s := range snaps {
		if d, ok := docs[s.ProductID]; !ok || d.Version <= s.Version {
			docs[s.ProductID] = DocFromSnapshot(s)
		}
		for _, v := range s.Variants {
			skus[v.SKU] = s.ProductID
		}
	}
	// SKUs first, as ApplyStock locks them before documents.
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(skus)), rowsPerStatement) {
		sql, args := database.Values("INSERT INTO search_variants (sku, product_id)", len(chunk), 2,
			func(i int) []any { return []any{chunk[i], skus[chunk[i]]} })
		if err := tx.Exec(sql+" ON CONFLICT (sku) DO UPDATE SET product_id = excluded.product_id", args...).Error; err != nil {
			return fmt.Errorf("map %d skus: %w", len(chunk), err)
		}
	}
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(docs)), rowsPerStatement) {
		sql, args := database.Values(`INSERT INTO search_documents (product_id, slug, title, description, category_id, category_path,
			status, price_from, created_at, version, change_seq)`, len(chunk), 11, func(i int) []any {
			d := docs[chunk[i]]
			return []any{d.ProductID, d.Slug, d.Title, d.Description, d.CategoryID, d.CategoryPath, d.Status, d.PriceFrom, d.CreatedAt, d.Version, nil}
		})
		// An older snapshot, arriving late, changes nothing.
		err := tx.Exec(sql+` ON CONFLICT (product_id) DO UPDATE SET slug = excluded.slug, title = excluded.title, description = excluded.description,
			category_id = excluded.category_id, category_path = excluded.category_path, status = excluded.status,
			price_from = excluded.price_from, created_at = excluded.created_at, version = excluded.version,
			change_seq = NULL
		WHERE search_documents.version <= excluded.version`, args...).Error
		if err != nil {
			return fmt.Errorf("store %d products: %w", len(chunk), err)
		}
	}
	return nil
}

// StockChange is a SKU's available quantity at a version of its stock.
type StockChange struct {
	SKU       string
	Available int64
	Version   int64
}

// applyStock stores SKUs' available quantities, each unless a newer one is
// stored, as if one by one in order, and leaves a product changed (for
// Stamp) when one of its SKUs ran out or came back. The index holds whether
// a product is in stock, not how much (and no answer shows a quantity), so
// a change that leaves the SKU in stock (a unit sold of many) leaves the
// index as it is: indexing the product again for every unit sold was the
// largest part of the search process's work. It reports whether it
// changed a product.
func applyStock(tx *gorm.DB, changes []StockChange) (changed bool, err error) {
	type level struct {
		SKU       string `gorm:"column:sku"`
		Available int64  `gorm:"column:available"`
		Version   int64  `gorm:"column:stock_version"`
		known     bool   // a row was stored before
		touched   bool   // a change applies
	}
	levels := map[string]*level{}
	for _, c := range changes {
		levels[c.SKU] = &level{SKU: c.SKU}
	}
	skus := slices.Sorted(maps.Keys(levels))
	read := "SELECT sku, available, stock_version FROM search_variants WHERE sku IN ? ORDER BY sku"
	if tx.Dialector.Name() == "postgres" {
		// A concurrent change of these SKUs waits for this one, so that the
		// quantities it finds before its own are the ones this one stored.
		read += " FOR UPDATE"
	}
	before := map[string]int64{}
	for chunk := range slices.Chunk(skus, rowsPerStatement) {
		var rows []level
		if err := tx.Raw(read, chunk).Scan(&rows).Error; err != nil {
			return false, fmt.Errorf("read stock of %d skus: %w", len(chunk), err)
		}
		for _, r := range rows {
			l := levels[r.SKU]
			l.Available, l.Version, l.known = r.Available, r.Version, true
			before[r.SKU] = r.Available
		}
	}
	for _, c := range changes {
		if l := levels[c.SKU]; !(l.known || l.touched) || l.Version <= c.Version {
			l.Available, l.Version, l.touched = c.Available, c.Version, true
		}
	}
	var write, flipped []string
	for _, sku := range skus {
		l := levels[sku]
		if !l.touched {
			continue
		}
		write = append(write, sku)
		// A SKU without a row was out of stock as far as the index knows.
		if before[sku] > 0 != (l.Available > 0) {
			flipped = append(flipped, sku)
		}
	}
	for chunk := range slices.Chunk(write, rowsPerStatement) {
		sql, args := database.Values("INSERT INTO search_variants (sku, product_id, available, stock_version)", len(chunk), 4,
			func(i int) []any { l := levels[chunk[i]]; return []any{l.SKU, "", l.Available, l.Version} })
		err := tx.Exec(sql+` ON CONFLICT (sku) DO UPDATE SET available = excluded.available, stock_version = excluded.stock_version
			WHERE search_variants.stock_version <= excluded.stock_version`, args...).Error
		if err != nil {
			return false, fmt.Errorf("store stock of %d skus: %w", len(chunk), err)
		}
	}
	for chunk := range slices.Chunk(flipped, rowsPerStatement) {
		res := tx.Exec(`UPDATE search_documents SET change_seq = NULL
			WHERE product_id IN (SELECT product_id FROM search_variants WHERE sku IN ?)`, chunk)
		if res.Error != nil {
			return false, fmt.Errorf("change the products of %d skus: %w", len(chunk), res.Error)
		}
		changed = changed || res.RowsAffected > 0
	}
	return changed, nil
}

// stampChanges gives every row this transaction changed the next change number.
// Run it last in every transaction that called ApplySnapshots or ApplyStock
// (events.Tx.BeforeCommit): the clock row it updates stays locked until the
// commit, so a transaction that commits later always gets a larger number,
// and a reader never sees change n+1 without change n. Rows changed by other
// transactions still in progress are invisible to its UPDATE and keep
// waiting for their own Stamp.
func stampChanges(tx *gorm.DB) error {
	var seq int64
	if err := tx.Raw("UPDATE search_clock SET seq = seq + 1 WHERE id = 1 RETURNING seq").Scan(&seq).Error; err != nil {
		return fmt.Errorf("advance the change clock: %w", err)
	}
	if seq == 0 {
		return errors.New("advance the change clock: search_clock has no row")
	}
	if err := tx.Exec("UPDATE search_documents SET change_seq = ? WHERE change_seq IS NULL", seq).Error; err != nil {
		return fmt.Errorf("stamp change %d: %w", seq, err)
	}
	return nil
}

// Position is a place in the change log: every change up to and including
// (Seq, ProductID) has been applied. The zero Position is before the first.
type Position struct {
	Seq       int64
	ProductID string
}

// readHead is the read model's identity and its latest change number. ModelID
// is drawn when the tables are made: an index built from another database's
// read model (a data folder moved, a database restored or recreated) has
// another, and must start over.
func readHead(ctx context.Context, db *gorm.DB) (modelID string, seq int64, err error) {
	var row struct {
		ModelID string `gorm:"column:model_id"`
		Seq     int64  `gorm:"column:seq"`
	}
	if err := db.WithContext(ctx).Raw("SELECT model_id, seq FROM search_clock WHERE id = 1").Scan(&row).Error; err != nil {
		return "", 0, fmt.Errorf("read the change clock: %w", err)
	}
	if row.ModelID == "" {
		return "", 0, errors.New("read the change clock: search_clock has no row")
	}
	return row.ModelID, row.Seq, nil
}

// readChanges returns up to limit documents changed after p, in change order.
func readChanges(ctx context.Context, db *gorm.DB, p Position, limit int) ([]Doc, error) {
	var docs []Doc
	err := db.WithContext(ctx).Raw(`SELECT * FROM search_documents
		WHERE change_seq > ? OR (change_seq = ? AND product_id > ?)
		ORDER BY change_seq, product_id LIMIT ?`, p.Seq, p.Seq, p.ProductID, limit).Scan(&docs).Error
	return docs, err
}

// inStock returns which of the products have a SKU with stock.
func inStock(ctx context.Context, db *gorm.DB, productIDs []string) (map[string]bool, error) {
	var ids []string
	err := db.WithContext(ctx).Table("search_variants").Distinct("product_id").
		Where("product_id IN ? AND available > 0", productIDs).Pluck("product_id", &ids).Error
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// changeAll gives every document a new change number, so every replica's
// index applies each of them again (after a rebuild of the read model).
func changeAll(tx *gorm.DB) error {
	if err := tx.Exec("UPDATE search_documents SET change_seq = NULL").Error; err != nil {
		return fmt.Errorf("change every document: %w", err)
	}
	return stampChanges(tx)
}

// countIndexable counts the published products, which the index should hold.
func countIndexable(ctx context.Context, db *gorm.DB) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Table("search_documents").Where("status = ?", string(catalog.StatusPublished)).Count(&n).Error
	return n, err
}

// setStock stores a SKU's quantity during a reindex, whatever its version.
func setStock(tx *gorm.DB, sku, productID string, available int64) error {
	return tx.Exec(`INSERT INTO search_variants (sku, product_id, available) VALUES (?, ?, ?)
		ON CONFLICT (sku) DO UPDATE SET product_id = excluded.product_id, available = excluded.available`, sku, productID, available).Error
}
