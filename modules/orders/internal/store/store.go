// Package store keeps the orders module's tables: checkouts, placements
// (one per Idempotency-Key: the saga's progress and the stored answer),
// orders, and the side effects of order transitions still to run.
//
// Every state change is one conditional UPDATE (WHERE status = the expected
// one), so two requests racing for one checkout or one order cannot both
// win: the database decides.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/domain"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
)

// Migrations are the orders module's tables.
var Migrations = database.MigrationSet{Module: "orders", Component: "module", Migrations: []database.Migration{{
	Version: 1, Name: "checkouts_placements_orders_effects",
	SQL: `
CREATE TABLE orders_checkouts (
	id TEXT PRIMARY KEY,
	cart_id TEXT NOT NULL,
	customer_id TEXT,
	status TEXT NOT NULL,
	email TEXT NOT NULL,
	shipping_address TEXT NOT NULL,
	lines TEXT NOT NULL,
	subtotal BIGINT NOT NULL,
	shipping BIGINT NOT NULL,
	total BIGINT NOT NULL,
	currency TEXT NOT NULL,
	reservation_id TEXT NOT NULL UNIQUE,
	placing_id TEXT,
	order_id TEXT,
	expires_at TIMESTAMPTZ NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT orders_checkouts_status_check CHECK (status IN ('open', 'completed', 'expired')),
	CONSTRAINT orders_checkouts_total_check CHECK (total = subtotal + shipping AND subtotal >= 0 AND shipping >= 0)
);
CREATE UNIQUE INDEX orders_checkouts_open_cart ON orders_checkouts (cart_id) WHERE status = 'open';
CREATE TABLE orders_placements (
	id TEXT PRIMARY KEY,
	scope TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	checkout_id TEXT NOT NULL,
	method TEXT NOT NULL,
	customer_id TEXT,
	payment_id TEXT NOT NULL UNIQUE,
	order_id TEXT NOT NULL UNIQUE,
	step TEXT NOT NULL,
	lease_until TIMESTAMPTZ NOT NULL,
	response_status INTEGER NOT NULL DEFAULT 0,
	response_body TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT orders_placements_key UNIQUE (scope, idem_key),
	CONSTRAINT orders_placements_step_check CHECK (step IN ('new', 'authorized', 'done'))
);
CREATE INDEX orders_placements_unfinished ON orders_placements (lease_until) WHERE step <> 'done';
CREATE INDEX orders_placements_created ON orders_placements (created_at);
CREATE TABLE orders_orders (
	seq BIGSERIAL PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	checkout_id TEXT NOT NULL UNIQUE,
	cart_id TEXT NOT NULL,
	customer_id TEXT,
	status TEXT NOT NULL,
	email TEXT NOT NULL,
	shipping_address TEXT NOT NULL,
	lines TEXT NOT NULL,
	subtotal BIGINT NOT NULL,
	shipping BIGINT NOT NULL,
	total BIGINT NOT NULL,
	currency TEXT NOT NULL,
	reservation_id TEXT NOT NULL,
	payment_id TEXT NOT NULL UNIQUE,
	payment_status TEXT NOT NULL,
	payment_brand TEXT NOT NULL,
	guest_token_hash TEXT,
	tracking_number TEXT,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT orders_orders_status_check CHECK (status IN ('placed', 'shipped', 'delivered', 'cancelled', 'refunded')),
	CONSTRAINT orders_orders_payment_check CHECK (payment_status IN ('authorized', 'captured', 'voided', 'refunded'))
);
CREATE INDEX orders_orders_customer ON orders_orders (customer_id, seq);
CREATE INDEX orders_orders_status ON orders_orders (status, seq);
CREATE TABLE orders_effects (
	id BIGSERIAL PRIMARY KEY,
	order_id TEXT NOT NULL,
	effect TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	next_at TIMESTAMPTZ NOT NULL,
	done_at TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT orders_effects_once UNIQUE (order_id, effect)
);
CREATE INDEX orders_effects_due ON orders_effects (next_at) WHERE done_at IS NULL;
`}, {
	// A guest's Idempotency-Keys were one scope for every guest; they are
	// the checkout's now (service.PlaceOrder).
	Version: 2, Name: "guest_keys_scoped_to_the_checkout",
	SQL: `UPDATE orders_placements SET scope = 'guest:' || checkout_id WHERE scope = 'guest'`,
}}}

// Store is the orders module's tables behind methods: reads and
// one-statement writes on the Store, everything else on a Tx (InTx). The
// service holds one and never sees gorm.
type Store struct {
	events.Transactions[*Tx]
	h *database.Handle
}

// New makes the store of the module's outbox (and its database handle).
func New(ob *events.Outbox) *Store {
	s := &Store{h: ob.Handle()}
	s.Transactions = events.NewTransactions(ob, func(tx *events.Tx) *Tx { return &Tx{etx: tx, db: tx.DB} })
	return s
}

// Tx is one transaction of the orders module: its writes and the events it
// publishes commit together, or not at all.
type Tx struct {
	etx *events.Tx
	db  *gorm.DB
}

// Publish adds events to the transaction's outbox writes.
func (t *Tx) Publish(evts ...events.Event) error { return t.etx.Publish(evts...) }

// Reads outside a transaction, the one-statement checkout insert, and the
// two a transaction also needs.

// GetCheckout reads one checkout.
func (s *Store) GetCheckout(ctx context.Context, id string) (Checkout, error) {
	return getCheckout(s.h.Conn(ctx), id)
}

// GetCheckout in the transaction.
func (t *Tx) GetCheckout(id string) (Checkout, error) { return getCheckout(t.db, id) }

// InsertCheckout writes a new checkout.
func (s *Store) InsertCheckout(ctx context.Context, c Checkout) error {
	return insertCheckout(s.h.Conn(ctx), c)
}

// InsertCheckout in the transaction.
func (t *Tx) InsertCheckout(c Checkout) error { return insertCheckout(t.db, c) }

// HasOpenCheckout reports whether a cart has an open checkout.
func (s *Store) HasOpenCheckout(ctx context.Context, cartID string) (bool, error) {
	return hasOpenCheckout(s.h.Conn(ctx), cartID)
}

// GetPlacement reads one placement.
func (s *Store) GetPlacement(ctx context.Context, id string) (Placement, error) {
	return getPlacement(s.h.Conn(ctx), id)
}

// DuePlacements are unfinished placements whose lease ran out.
func (s *Store) DuePlacements(ctx context.Context, now time.Time, limit int) ([]Placement, error) {
	return duePlacements(s.h.Conn(ctx), now, limit)
}

// GetOrder reads one order.
func (s *Store) GetOrder(ctx context.Context, id string) (Order, error) {
	return getOrder(s.h.Conn(ctx), id)
}

// ListOrders pages through orders newest first, before the sequence number
// given (0: from the newest); customerID and status filter when not "".
func (s *Store) ListOrders(ctx context.Context, customerID, status string, before int64, limit int) ([]Order, error) {
	return listOrders(s.h.Conn(ctx), customerID, status, before, limit)
}

// PendingEffects are an order's effects not yet done, in order.
func (s *Store) PendingEffects(ctx context.Context, orderID string) ([]Effect, error) {
	return pendingEffects(s.h.Conn(ctx), orderID)
}

// DueEffectOrders are orders with an effect due for another try.
func (s *Store) DueEffectOrders(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return dueEffectOrders(s.h.Conn(ctx), now, limit)
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Checkout is a row of orders_checkouts.
type Checkout struct {
	ID              string    `gorm:"column:id"`
	CartID          string    `gorm:"column:cart_id"`
	CustomerID      *string   `gorm:"column:customer_id"`
	Status          string    `gorm:"column:status"`
	Email           string    `gorm:"column:email"`
	ShippingAddress string    `gorm:"column:shipping_address"`
	Lines           string    `gorm:"column:lines"`
	Subtotal        int64     `gorm:"column:subtotal"`
	Shipping        int64     `gorm:"column:shipping"`
	Total           int64     `gorm:"column:total"`
	Currency        string    `gorm:"column:currency"`
	ReservationID   string    `gorm:"column:reservation_id"`
	PlacingID       *string   `gorm:"column:placing_id"`
	OrderID         *string   `gorm:"column:order_id"`
	ExpiresAt       time.Time `gorm:"column:expires_at"`
	CreatedAt       time.Time `gorm:"column:created_at"`
	UpdatedAt       time.Time `gorm:"column:updated_at"`
}

// TableName is the checkouts table.
func (Checkout) TableName() string { return "orders_checkouts" }

// API is the checkout as shoppers see it at now: an open checkout past its
// expiry shows as expired even before the inventory's sweeper told us.
func (c Checkout) API(now time.Time) (api.Checkout, error) {
	out := api.Checkout{ID: c.ID, CartID: c.CartID, CustomerID: c.CustomerID, Status: api.CheckoutStatus(c.Status), Email: c.Email,
		Subtotal: money(c.Subtotal, c.Currency), Shipping: money(c.Shipping, c.Currency), Total: money(c.Total, c.Currency),
		OrderID: c.OrderID, ExpiresAt: c.ExpiresAt.UTC(), CreatedAt: c.CreatedAt.UTC()}
	if out.Status == api.CheckoutOpen && !now.Before(c.ExpiresAt) {
		out.Status = api.CheckoutExpired
	}
	if err := decodeCopy("checkout "+c.ID, c.ShippingAddress, c.Lines, &out.ShippingAddress, &out.Lines); err != nil {
		return api.Checkout{}, err
	}
	return out, nil
}

// decodeCopy reads the JSON columns a checkout and its order keep their own
// copy of the address and lines in.
func decodeCopy(what, address, lines string, a *api.Address, l *[]api.Line) error {
	if err := json.Unmarshal([]byte(address), a); err != nil {
		return fmt.Errorf("%s address: %w", what, err)
	}
	if err := json.Unmarshal([]byte(lines), l); err != nil {
		return fmt.Errorf("%s lines: %w", what, err)
	}
	return nil
}

func money(amount int64, currency string) api.Money {
	return api.Money{Amount: amount, Currency: currency}
}

// Encode is the JSON of v for a TEXT column.
func Encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // plain data types always marshal
	}
	return string(b)
}

// insertCheckout is InsertCheckout on db, a connection or a transaction.
func insertCheckout(tx *gorm.DB, c Checkout) error {
	return tx.Create(&c).Error
}

// getCheckout is GetCheckout on db, a connection or a transaction.
func getCheckout(db *gorm.DB, id string) (Checkout, error) {
	var rows []Checkout
	if err := db.Raw("SELECT * FROM orders_checkouts WHERE id = ?", id).Scan(&rows).Error; err != nil {
		return Checkout{}, err
	}
	if len(rows) == 0 {
		return Checkout{}, ErrNotFound
	}
	return rows[0], nil
}

// SupersedeOpen expires the cart's open checkout, unless an order is being
// placed from it (busy); it returns the reservation to release.
func (t *Tx) SupersedeOpen(cartID string, now time.Time) (reservation string, busy bool, err error) {
	tx := t.db
	var rows []Checkout
	if err := tx.Raw("SELECT * FROM orders_checkouts WHERE cart_id = ? AND status = 'open'", cartID).Scan(&rows).Error; err != nil {
		return "", false, err
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	if rows[0].PlacingID != nil {
		return "", true, nil
	}
	res := tx.Exec("UPDATE orders_checkouts SET status = 'expired', updated_at = ? WHERE id = ? AND status = 'open' AND placing_id IS NULL", now, rows[0].ID)
	if res.Error != nil {
		return "", false, res.Error
	}
	if res.RowsAffected == 0 {
		return "", true, nil
	}
	return rows[0].ReservationID, false, nil
}

// hasOpenCheckout is HasOpenCheckout on db, a connection or a transaction.
func hasOpenCheckout(db *gorm.DB, cartID string) (bool, error) {
	var n int64
	err := db.Raw("SELECT COUNT(*) FROM orders_checkouts WHERE cart_id = ? AND status = 'open'", cartID).Scan(&n).Error
	return n > 0, err
}

// ExpireByReservation marks the open checkout holding a reservation
// expired, unless an order is being placed from it (the placement then
// finds the reservation gone and expires it itself).
func (t *Tx) ExpireByReservation(reservationID string, now time.Time) error {
	tx := t.db
	return tx.Exec("UPDATE orders_checkouts SET status = 'expired', updated_at = ? WHERE reservation_id = ? AND status = 'open' AND placing_id IS NULL",
		now, reservationID).Error
}

// ClaimOpenCheckout claims, for a placement, a checkout that is open, not
// expired, held by no other placement and visible to the caller (a guest
// checkout, or the customer's own); false when any of that fails.
func (t *Tx) ClaimOpenCheckout(checkoutID, customerID, placementID string, now time.Time) (Checkout, bool, error) {
	tx := t.db
	// RETURNING hands the placement the checkout it goes on with, so it
	// needs no read of its own.
	var rows []Checkout
	err := tx.Raw(`UPDATE orders_checkouts SET placing_id = ?, updated_at = ?
		WHERE id = ? AND status = 'open' AND placing_id IS NULL AND expires_at > ? AND (customer_id IS NULL OR customer_id = ?)
		RETURNING *`,
		placementID, now, checkoutID, now, customerID).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return Checkout{}, false, err
	}
	return rows[0], true, nil
}

// ReleaseCheckout lets go of a checkout a placement held; expire also ends
// it (its reservation is gone).
func (t *Tx) ReleaseCheckout(checkoutID, placementID string, expire bool, now time.Time) error {
	tx := t.db
	status := "open"
	if expire {
		status = "expired"
	}
	return tx.Exec("UPDATE orders_checkouts SET placing_id = NULL, status = ?, updated_at = ? WHERE id = ? AND placing_id = ? AND status = 'open'",
		status, now, checkoutID, placementID).Error
}

// CompleteCheckout marks the checkout a placement held completed by its
// order; false when the placement did not hold it.
func (t *Tx) CompleteCheckout(checkoutID, placementID, orderID string, now time.Time) (bool, error) {
	tx := t.db
	res := tx.Exec("UPDATE orders_checkouts SET status = 'completed', order_id = ?, placing_id = NULL, updated_at = ? WHERE id = ? AND placing_id = ? AND status = 'open'",
		orderID, now, checkoutID, placementID)
	return res.RowsAffected == 1, res.Error
}

// Steps of a placement.
const (
	// The schema also allows "authorized", a step no longer recorded:
	// payments keeps the authorization, and a resumed placement asks again.
	StepNew  = "new"  // started: the checkout may be claimed, the payment asked for
	StepDone = "done" // finished: the response is stored
)

// Placement is a row of orders_placements: one order request (one
// Idempotency-Key of one caller), the saga's progress and its answer.
type Placement struct {
	ID             string    `gorm:"column:id"`
	Scope          string    `gorm:"column:scope"`
	Key            string    `gorm:"column:idem_key"`
	RequestHash    string    `gorm:"column:request_hash"`
	CheckoutID     string    `gorm:"column:checkout_id"`
	Method         string    `gorm:"column:method"`
	CustomerID     *string   `gorm:"column:customer_id"`
	PaymentID      string    `gorm:"column:payment_id"`
	OrderID        string    `gorm:"column:order_id"`
	Step           string    `gorm:"column:step"`
	LeaseUntil     time.Time `gorm:"column:lease_until"`
	ResponseStatus int       `gorm:"column:response_status"`
	ResponseBody   string    `gorm:"column:response_body"`
	CreatedAt      time.Time `gorm:"column:created_at"`
	UpdatedAt      time.Time `gorm:"column:updated_at"`
}

// TableName is the placements table.
func (Placement) TableName() string { return "orders_placements" }

// InsertPlacement writes a new placement unless its (scope, key) exists;
// inserted says which.
func (t *Tx) InsertPlacement(p Placement) (bool, error) {
	tx := t.db
	res := tx.Exec(`INSERT INTO orders_placements (id, scope, idem_key, request_hash, checkout_id, method, customer_id, payment_id, order_id, step, lease_until, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, idem_key) DO NOTHING`,
		p.ID, p.Scope, p.Key, p.RequestHash, p.CheckoutID, p.Method, p.CustomerID, p.PaymentID, p.OrderID, p.Step, p.LeaseUntil, p.CreatedAt, p.UpdatedAt)
	return res.RowsAffected == 1, res.Error
}

// GetPlacementByKey reads the placement of a caller's key.
func (t *Tx) GetPlacementByKey(scope, key string) (Placement, error) {
	db := t.db
	return onePlacement(db, "SELECT * FROM orders_placements WHERE scope = ? AND idem_key = ?", scope, key)
}

// getPlacement is GetPlacement on db, a connection or a transaction.
func getPlacement(db *gorm.DB, id string) (Placement, error) {
	return onePlacement(db, "SELECT * FROM orders_placements WHERE id = ?", id)
}

func onePlacement(db *gorm.DB, sql string, args ...any) (Placement, error) {
	var rows []Placement
	if err := db.Raw(sql, args...).Scan(&rows).Error; err != nil {
		return Placement{}, err
	}
	if len(rows) == 0 {
		return Placement{}, ErrNotFound
	}
	return rows[0], nil
}

// LeasePlacement takes an unfinished placement whose lease ran out (its
// runner crashed or gave up): false when it is finished or still leased.
func (t *Tx) LeasePlacement(id string, now, until time.Time) (bool, error) {
	tx := t.db
	res := tx.Exec("UPDATE orders_placements SET lease_until = ?, updated_at = ? WHERE id = ? AND step <> 'done' AND lease_until <= ?",
		until, now, id, now)
	return res.RowsAffected == 1, res.Error
}

// EndLease lets an unfinished placement be taken over at once (by the
// caller's retry or the recovery worker).
func (t *Tx) EndLease(id string, now time.Time) error {
	tx := t.db
	return tx.Exec("UPDATE orders_placements SET lease_until = ?, updated_at = ? WHERE id = ? AND step <> 'done'", now, now, id).Error
}

// FinishPlacement stores a placement's final answer; false when it was
// finished already.
func (t *Tx) FinishPlacement(id string, status int, body []byte, now time.Time) (bool, error) {
	tx := t.db
	res := tx.Exec("UPDATE orders_placements SET step = 'done', response_status = ?, response_body = ?, lease_until = ?, updated_at = ? WHERE id = ? AND step <> 'done'",
		status, string(body), now, now, id)
	return res.RowsAffected == 1, res.Error
}

// duePlacements is DuePlacements on db, a connection or a transaction.
func duePlacements(db *gorm.DB, now time.Time, limit int) ([]Placement, error) {
	var rows []Placement
	err := db.Raw("SELECT * FROM orders_placements WHERE step <> 'done' AND lease_until <= ? ORDER BY lease_until LIMIT ?", now, limit).Scan(&rows).Error
	return rows, err
}

// PurgePlacements deletes finished placements created before a time (their
// keys have expired); it returns how many.
func (t *Tx) PurgePlacements(before time.Time, limit int) (int64, error) {
	tx := t.db
	res := tx.Exec("DELETE FROM orders_placements WHERE id IN (SELECT id FROM orders_placements WHERE created_at < ? AND step = 'done' LIMIT ?)", before, limit)
	return res.RowsAffected, res.Error
}

// Order is a row of orders_orders.
type Order struct {
	Seq             int64     `gorm:"column:seq;primaryKey;autoIncrement"`
	ID              string    `gorm:"column:id"`
	CheckoutID      string    `gorm:"column:checkout_id"`
	CartID          string    `gorm:"column:cart_id"`
	CustomerID      *string   `gorm:"column:customer_id"`
	Status          string    `gorm:"column:status"`
	Email           string    `gorm:"column:email"`
	ShippingAddress string    `gorm:"column:shipping_address"`
	Lines           string    `gorm:"column:lines"`
	Subtotal        int64     `gorm:"column:subtotal"`
	Shipping        int64     `gorm:"column:shipping"`
	Total           int64     `gorm:"column:total"`
	Currency        string    `gorm:"column:currency"`
	ReservationID   string    `gorm:"column:reservation_id"`
	PaymentID       string    `gorm:"column:payment_id"`
	PaymentStatus   string    `gorm:"column:payment_status"`
	PaymentBrand    string    `gorm:"column:payment_brand"`
	GuestTokenHash  *string   `gorm:"column:guest_token_hash"`
	TrackingNumber  *string   `gorm:"column:tracking_number"`
	CreatedAt       time.Time `gorm:"column:created_at"`
	UpdatedAt       time.Time `gorm:"column:updated_at"`
}

// TableName is the orders table.
func (Order) TableName() string { return "orders_orders" }

// API is the order as its readers see it (without its guest token).
func (o Order) API() (api.Order, error) {
	out := api.Order{ID: o.ID, Number: domain.Number(o.Seq), Status: api.Status(o.Status), CustomerID: o.CustomerID, Email: o.Email,
		Subtotal: money(o.Subtotal, o.Currency), Shipping: money(o.Shipping, o.Currency), Total: money(o.Total, o.Currency),
		Payment:        api.Payment{ID: o.PaymentID, Status: api.PaymentStatus(o.PaymentStatus), Brand: o.PaymentBrand},
		TrackingNumber: o.TrackingNumber, CheckoutID: o.CheckoutID, CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
	if err := decodeCopy("order "+o.ID, o.ShippingAddress, o.Lines, &out.ShippingAddress, &out.Lines); err != nil {
		return api.Order{}, err
	}
	return out, nil
}

// InsertOrder writes a new order and fills in its sequence number.
func (t *Tx) InsertOrder(o *Order) error {
	tx := t.db
	return tx.Create(o).Error
}

// getOrder is GetOrder on db, a connection or a transaction.
func getOrder(db *gorm.DB, id string) (Order, error) {
	var rows []Order
	if err := db.Raw("SELECT * FROM orders_orders WHERE id = ?", id).Scan(&rows).Error; err != nil {
		return Order{}, err
	}
	if len(rows) == 0 {
		return Order{}, ErrNotFound
	}
	return rows[0], nil
}

// listOrders is ListOrders on db, a connection or a transaction.
func listOrders(db *gorm.DB, customerID, status string, before int64, limit int) ([]Order, error) {
	q := db.Table("orders_orders")
	if customerID != "" {
		q = q.Where("customer_id = ?", customerID)
	}
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if before > 0 {
		q = q.Where("seq < ?", before)
	}
	var rows []Order
	err := q.Order("seq DESC").Limit(limit).Find(&rows).Error
	return rows, err
}

// Transition moves an order from one status to another if it is still in
// the first; tracking is set when not nil.
func (t *Tx) Transition(id string, from, to api.Status, tracking *string, now time.Time) (bool, error) {
	tx := t.db
	res := tx.Exec("UPDATE orders_orders SET status = ?, tracking_number = COALESCE(?, tracking_number), updated_at = ? WHERE id = ? AND status = ?",
		string(to), tracking, now, id, string(from))
	return res.RowsAffected == 1, res.Error
}

// SetPaymentStatus records what the payment became.
func (t *Tx) SetPaymentStatus(id string, status api.PaymentStatus, now time.Time) error {
	tx := t.db
	return tx.Exec("UPDATE orders_orders SET payment_status = ?, updated_at = ? WHERE id = ?", string(status), now, id).Error
}

// Effect is a row of orders_effects: a side effect of a transition that is
// still to run, or ran.
type Effect struct {
	ID        int64      `gorm:"column:id;primaryKey;autoIncrement"`
	OrderID   string     `gorm:"column:order_id"`
	Effect    string     `gorm:"column:effect"`
	Attempts  int        `gorm:"column:attempts"`
	LastError string     `gorm:"column:last_error"`
	NextAt    time.Time  `gorm:"column:next_at"`
	DoneAt    *time.Time `gorm:"column:done_at"`
	CreatedAt time.Time  `gorm:"column:created_at"`
}

// TableName is the effects table.
func (Effect) TableName() string { return "orders_effects" }

// InsertEffects records the effects a transition asks for; nextAt is when
// the worker may first try them (the request runs them itself first).
func (t *Tx) InsertEffects(orderID string, effects []string, nextAt, now time.Time) error {
	tx := t.db
	if len(effects) == 0 {
		return nil
	}
	rows := make([]Effect, len(effects))
	for i, e := range effects {
		rows[i] = Effect{OrderID: orderID, Effect: e, NextAt: nextAt, CreatedAt: now}
	}
	return tx.Create(&rows).Error
}

// pendingEffects is PendingEffects on db, a connection or a transaction.
func pendingEffects(db *gorm.DB, orderID string) ([]Effect, error) {
	var rows []Effect
	err := db.Raw("SELECT * FROM orders_effects WHERE order_id = ? AND done_at IS NULL ORDER BY id", orderID).Scan(&rows).Error
	return rows, err
}

// dueEffectOrders is DueEffectOrders on db, a connection or a transaction.
func dueEffectOrders(db *gorm.DB, now time.Time, limit int) ([]string, error) {
	var ids []string
	err := db.Raw("SELECT DISTINCT order_id FROM orders_effects WHERE done_at IS NULL AND next_at <= ? LIMIT ?", now, limit).Scan(&ids).Error
	return ids, err
}

// DeferEffect pushes an effect's next try back (the request is running it;
// or it failed).
func (t *Tx) DeferEffect(id int64, next time.Time, failure string) error {
	tx := t.db
	if failure == "" {
		return tx.Exec("UPDATE orders_effects SET next_at = ? WHERE id = ? AND done_at IS NULL", next, id).Error
	}
	return tx.Exec("UPDATE orders_effects SET next_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ? AND done_at IS NULL", next, failure, id).Error
}

// EffectDone marks an effect done; false when it was done already.
func (t *Tx) EffectDone(id int64, now time.Time) (bool, error) {
	tx := t.db
	res := tx.Exec("UPDATE orders_effects SET done_at = ? WHERE id = ? AND done_at IS NULL", now, id)
	return res.RowsAffected == 1, res.Error
}
