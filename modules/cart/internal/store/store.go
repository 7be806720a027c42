// Package store keeps the cart's tables: carts and their lines (SKU and
// quantity only; titles and prices are the catalog's and are read when a
// cart is shown). A Store is made once and held by the service: its reads
// take a context, and InTx runs a use case's writes in one transaction,
// through a *Tx that also publishes events into the outbox of that
// transaction. Only this package touches gorm.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/domain"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
)

// Store reads and writes the cart's tables.
type Store struct {
	events.Transactions[*Tx]
	h *database.Handle
}

// New makes the store over the cart's outbox (and its database).
func New(ob *events.Outbox) *Store {
	s := &Store{h: ob.Handle()}
	s.Transactions = events.NewTransactions(ob, func(tx *events.Tx) *Tx {
		return &Tx{queries: queries{db: tx.DB, dialect: s.h.Dialect}, events: tx}
	})
	return s
}

// Tx is one transaction of the cart: every query of the store, and the
// events published with them, which are written to the outbox before it
// commits.
type Tx struct {
	queries
	events *events.Tx
}

// Publish adds events to the outbox in this transaction.
func (t *Tx) Publish(evts ...events.Event) error { return t.events.Publish(evts...) }

// queries are the statements of the store, on a transaction or a
// connection.
type queries struct {
	db      *gorm.DB
	dialect database.Dialect
}

// conn runs queries outside a transaction.
func (s *Store) conn(ctx context.Context) queries {
	return queries{db: s.h.Conn(ctx), dialect: s.h.Dialect}
}

// GetCart reads a cart.
func (s *Store) GetCart(ctx context.Context, id string) (Cart, error) { return s.conn(ctx).GetCart(id) }

// ActiveCartOf reads a customer's active cart.
func (s *Store) ActiveCartOf(ctx context.Context, customerID string) (Cart, error) {
	return s.conn(ctx).ActiveCartOf(customerID)
}

// Lines reads a cart's lines in the order they were added.
func (s *Store) Lines(ctx context.Context, cartID string) ([]domain.Line, error) {
	return s.conn(ctx).Lines(cartID)
}

// Migrations are the cart's tables. The partial unique index is what makes
// "one active cart per customer" hold under concurrent first visits.
var Migrations = database.MigrationSet{Module: "cart", Component: "module", Migrations: []database.Migration{{
	Version: 1, Name: "carts_items",
	SQL: `
CREATE TABLE cart_carts (
	id TEXT PRIMARY KEY,
	customer_id TEXT,
	status TEXT NOT NULL,
	merged_into TEXT,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT cart_carts_status_check CHECK (status IN ('active', 'checked_out', 'merged'))
);
CREATE UNIQUE INDEX cart_carts_one_active ON cart_carts (customer_id) WHERE status = 'active' AND customer_id IS NOT NULL;
CREATE INDEX cart_carts_updated ON cart_carts (updated_at);
CREATE TABLE cart_items (
	id TEXT PRIMARY KEY,
	cart_id TEXT NOT NULL REFERENCES cart_carts (id) ON DELETE CASCADE,
	sku TEXT NOT NULL,
	quantity INTEGER NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT cart_items_quantity_check CHECK (quantity BETWEEN 1 AND 100),
	CONSTRAINT cart_items_one_line_per_sku UNIQUE (cart_id, sku)
);
`}}}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Cart is a row of cart_carts.
type Cart struct {
	ID         string    `gorm:"column:id"`
	CustomerID *string   `gorm:"column:customer_id"`
	Status     string    `gorm:"column:status"`
	MergedInto *string   `gorm:"column:merged_into"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
}

// AccessibleBy applies api.Cart's access rule to a row.
func (c Cart) AccessibleBy(customerID string) bool {
	return api.Cart{CustomerID: c.CustomerID}.AccessibleBy(customerID)
}

const cartCols = "id, customer_id, status, merged_into, updated_at"

// CreateCart inserts a cart; inserted is false when the customer has an
// active cart already (the unique index refused it).
func (qs queries) CreateCart(id string, customerID *string, now time.Time) (bool, error) {
	res := qs.db.Exec(`INSERT INTO cart_carts (id, customer_id, status, created_at, updated_at) VALUES (?, ?, 'active', ?, ?)
		ON CONFLICT DO NOTHING`, id, customerID, now, now)
	return res.RowsAffected == 1, res.Error
}

func oneCart(db *gorm.DB, where string, arg any) (Cart, error) {
	var rows []Cart
	if err := db.Raw("SELECT "+cartCols+" FROM cart_carts WHERE "+where, arg).Scan(&rows).Error; err != nil {
		return Cart{}, err
	}
	if len(rows) == 0 {
		return Cart{}, ErrNotFound
	}
	return rows[0], nil
}

// GetCart reads a cart.
func (qs queries) GetCart(id string) (Cart, error) { return oneCart(qs.db, "id = ?", id) }

// ActiveCartOf reads a customer's active cart.
func (qs queries) ActiveCartOf(customerID string) (Cart, error) {
	return oneCart(qs.db, "customer_id = ? AND status = 'active'", customerID)
}

// Lines reads a cart's lines in the order they were added.
func (qs queries) Lines(cartID string) ([]domain.Line, error) {
	var rows []domain.Line
	err := qs.db.Raw("SELECT id, sku, quantity FROM cart_items WHERE cart_id = ? ORDER BY id", cartID).Scan(&rows).Error
	return rows, err
}

// Touch marks an active cart as changed now; ok is false when it is not
// active. On PostgreSQL its row lock orders concurrent writers of one cart.
func (qs queries) Touch(cartID string, now time.Time) (bool, error) {
	res := qs.db.Exec("UPDATE cart_carts SET updated_at = ? WHERE id = ? AND status = 'active'", now, cartID)
	return res.RowsAffected == 1, res.Error
}

// newItemID is time-ordered (UUIDv7), so ordering by id keeps the order
// in which lines were added.
func newItemID() string { return uuid.Must(uuid.NewV7()).String() }

// AddQuantity adds q to the cart's line of sku, creating it, unless the line
// would then hold more than MaxQuantity (ok false).
func (qs queries) AddQuantity(cartID, sku string, q int64, now time.Time) (bool, error) {
	res := qs.db.Exec(`INSERT INTO cart_items (id, cart_id, sku, quantity, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (cart_id, sku) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity
		WHERE cart_items.quantity + excluded.quantity <= ?`, newItemID(), cartID, sku, q, now, api.MaxQuantity)
	return res.RowsAffected == 1, res.Error
}

// SetQuantity sets the quantity of sku's line, creating it.
func (qs queries) SetQuantity(cartID, sku string, q int64, now time.Time) error {
	return qs.db.Exec(`INSERT INTO cart_items (id, cart_id, sku, quantity, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (cart_id, sku) DO UPDATE SET quantity = excluded.quantity`, newItemID(), cartID, sku, q, now).Error
}

// UpdateItem sets an item's quantity; ok is false when the cart has no such item.
func (qs queries) UpdateItem(cartID, itemID string, q int64) (bool, error) {
	res := qs.db.Exec("UPDATE cart_items SET quantity = ? WHERE id = ? AND cart_id = ?", q, itemID, cartID)
	return res.RowsAffected == 1, res.Error
}

// DeleteItem removes an item; ok is false when the cart has no such item.
func (qs queries) DeleteItem(cartID, itemID string) (bool, error) {
	res := qs.db.Exec("DELETE FROM cart_items WHERE id = ? AND cart_id = ?", itemID, cartID)
	return res.RowsAffected == 1, res.Error
}

// MarkMerged closes an active guest cart as merged into another; ok is false
// when it is not an active guest cart (any more).
func (qs queries) MarkMerged(guestID, into string, now time.Time) (bool, error) {
	res := qs.db.Exec(`UPDATE cart_carts SET status = 'merged', merged_into = ?, updated_at = ?
		WHERE id = ? AND status = 'active' AND customer_id IS NULL`, into, now, guestID)
	return res.RowsAffected == 1, res.Error
}

// CheckOut closes an active cart as checked out (a cart no longer active is
// left as it is).
func (qs queries) CheckOut(cartID string, now time.Time) error {
	return qs.db.Exec("UPDATE cart_carts SET status = 'checked_out', updated_at = ? WHERE id = ? AND status = 'active'", now, cartID).Error
}

// DeleteStale deletes up to limit carts (of any status) untouched since
// before, with their lines, and reports how many. On PostgreSQL the
// candidates are locked with SKIP LOCKED, so several processes clean
// disjoint sets and none waits for a cart that a shopper is changing.
func (qs queries) DeleteStale(before time.Time, limit int) (int, error) {
	lock := ""
	if qs.dialect == database.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var ids []string
	if err := qs.db.Raw("SELECT id FROM cart_carts WHERE updated_at < ? ORDER BY updated_at LIMIT ?"+lock, before, limit).Scan(&ids).Error; err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	// Lines first: SQLite enforces the foreign key only when asked to.
	if err := qs.db.Exec("DELETE FROM cart_items WHERE cart_id IN ?", ids).Error; err != nil {
		return 0, err
	}
	res := qs.db.Exec("DELETE FROM cart_carts WHERE id IN ?", ids)
	return int(res.RowsAffected), res.Error
}
