// Package store keeps the payments module's table: one row per payment,
// with the history of its statuses in the row (a JSON array that every move
// appends to in the same statement).
//
// A payment only ever moves by a conditional UPDATE (WHERE status = the
// status the move starts from), so two callers racing over one payment
// cannot both move it: the loser changes no row and reads what the winner
// did. No card data is stored, because there is none: a method is a
// provider's token.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
)

// schemaV1 is written once for both engines. {C} marks the text columns that
// are compared and sorted: PostgreSQL gets COLLATE "C" there, so keyset pages
// are in byte order on both engines whatever the database's collation. Times
// are unix microseconds in BIGINT columns, so sorting by them is exact on
// SQLite too.
const schemaV1 = `
CREATE TABLE payments_payments (
	id TEXT{C} PRIMARY KEY,
	reference TEXT NOT NULL,
	amount BIGINT NOT NULL,
	currency TEXT NOT NULL,
	method TEXT NOT NULL,
	brand TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	provider TEXT NOT NULL,
	provider_ref TEXT NOT NULL DEFAULT '',
	decline_code TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	CONSTRAINT payments_payments_status_check CHECK (status IN ('pending', 'authorized', 'captured', 'voided', 'refunded', 'failed')),
	CONSTRAINT payments_payments_amount_check CHECK (amount > 0)
);
CREATE INDEX payments_payments_newest ON payments_payments (created_at, id);
CREATE INDEX payments_payments_reference ON payments_payments (reference, created_at, id);
CREATE TABLE payments_history (
	id BIGSERIAL PRIMARY KEY,
	payment_id TEXT{C} NOT NULL REFERENCES payments_payments (id) ON DELETE CASCADE,
	status TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX payments_history_payment ON payments_history (payment_id, id);
`

// historyInRow (v2) moves each payment's history into its row: a move then
// costs one statement (UPDATE … RETURNING) instead of an UPDATE, an INSERT
// and a SELECT, and an authorization one round trip in each of its two
// writes. The history of existing payments is copied over in order.
const (
	historyInRowPostgres = `
ALTER TABLE payments_payments ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
UPDATE payments_payments p SET history = h.steps FROM (
	SELECT payment_id, json_agg(json_build_object('status', status, 'at', at) ORDER BY id)::text AS steps
	FROM payments_history GROUP BY payment_id) h
WHERE h.payment_id = p.id;
DROP TABLE payments_history;
`
	historyInRowSQLite = `
ALTER TABLE payments_payments ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
UPDATE payments_payments SET history = (
	SELECT json_group_array(json_object('status', status, 'at', at))
	FROM (SELECT status, at FROM payments_history h WHERE h.payment_id = payments_payments.id ORDER BY h.id))
WHERE id IN (SELECT payment_id FROM payments_history);
DROP TABLE payments_history;
`
)

// Migrations are the payments module's tables.
var Migrations = database.MigrationSet{Module: "payments", Component: "module", Migrations: []database.Migration{
	portable(1, "payments_history", schemaV1),
	{Version: 2, Name: "history_in_row", SQL: historyInRowPostgres, Postgres: historyInRowPostgres, SQLite: historyInRowSQLite},
}}

// portable renders a script with {C} marks for both engines.
func portable(version int, name, script string) database.Migration {
	pg := strings.ReplaceAll(script, "{C}", ` COLLATE "C"`)
	sqlite := strings.NewReplacer("{C}", "", "BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT").Replace(script)
	return database.Migration{Version: version, Name: name, SQL: pg, Postgres: pg, SQLite: sqlite}
}

// Store is the payments table behind methods: reads and single-statement
// writes on the Store, moves inside InTx. The service holds one and never
// sees gorm.
type Store struct {
	events.Transactions[*Tx]
	h *database.Handle
}

// New makes the store of the module's outbox (and its database handle).
func New(ob *events.Outbox) *Store {
	s := &Store{h: ob.Handle()}
	s.Transactions = events.NewTransactions(ob, func(tx *events.Tx) *Tx { return &Tx{etx: tx} })
	return s
}

// Tx is one transaction of the payments module: its moves and the events it
// publishes commit together, or not at all.
type Tx struct{ etx *events.Tx }

// Publish adds events to the transaction's outbox writes.
func (tx *Tx) Publish(evts ...events.Event) error { return tx.etx.Publish(evts...) }

// ErrNotFound is returned when a payment does not exist.
var ErrNotFound = errors.New("payment not found")

// row is a row of payments_payments.
type row struct {
	ID          string `gorm:"column:id"`
	Reference   string `gorm:"column:reference"`
	Amount      int64  `gorm:"column:amount"`
	Currency    string `gorm:"column:currency"`
	Method      string `gorm:"column:method"`
	Brand       string `gorm:"column:brand"`
	Status      string `gorm:"column:status"`
	Provider    string `gorm:"column:provider"`
	ProviderRef string `gorm:"column:provider_ref"`
	DeclineCode string `gorm:"column:decline_code"`
	CreatedUS   int64  `gorm:"column:created_at"`
	UpdatedUS   int64  `gorm:"column:updated_at"`
	History     string `gorm:"column:history"` // JSON array of step
}

// step is one element of the history column.
type step struct {
	Status string `json:"status"`
	AtUS   int64  `json:"at"`
}

const cols = "id, reference, amount, currency, method, brand, status, provider, provider_ref, decline_code, created_at, updated_at, history"

func (r row) api() (api.Payment, error) {
	var steps []step
	if err := json.Unmarshal([]byte(r.History), &steps); err != nil {
		return api.Payment{}, fmt.Errorf("history of payment %s: %w", r.ID, err)
	}
	history := make([]api.StatusChange, len(steps))
	for i, s := range steps {
		history[i] = api.StatusChange{Status: api.Status(s.Status), At: fromMicros(s.AtUS)}
	}
	return api.Payment{ID: r.ID, Reference: r.Reference, Amount: r.Amount, Currency: r.Currency, Method: r.Method,
		Brand: r.Brand, Status: api.Status(r.Status), Provider: r.Provider, ProviderRef: r.ProviderRef,
		DeclineCode: r.DeclineCode, History: history, CreatedAt: fromMicros(r.CreatedUS), UpdatedAt: fromMicros(r.UpdatedUS)}, nil
}

func micros(t time.Time) int64      { return t.UnixMicro() }
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Insert stores a new pending payment, the first step of its history in
// the same row, in one statement; inserted is false when the id is taken
// (a retry, or a reuse the caller must tell apart). p.CreatedAt is its time.
func (s *Store) Insert(ctx context.Context, p api.Payment) (bool, error) {
	db := s.h.Conn(ctx)
	at := micros(p.CreatedAt)
	first, _ := json.Marshal([]step{{Status: string(api.StatusPending), AtUS: at}}) // plain fields: cannot fail
	res := db.Exec("INSERT INTO payments_payments ("+cols+") VALUES (?, ?, ?, ?, ?, '', ?, ?, '', '', ?, ?, ?) ON CONFLICT (id) DO NOTHING",
		p.ID, p.Reference, p.Amount, p.Currency, p.Method, string(api.StatusPending), p.Provider, at, at, string(first))
	return res.Error == nil && res.RowsAffected == 1, res.Error
}

// Outcome is how an authorization ended.
type Outcome struct {
	Status      api.Status // authorized or failed
	Brand       string
	ProviderRef string
	DeclineCode string
}

// Resolve moves a pending payment to the outcome of its authorization and
// returns it; ok is false when it was not pending (someone else resolved
// it first).
func (tx *Tx) Resolve(id string, o Outcome, at time.Time) (api.Payment, bool, error) {
	return move(tx.etx.DB, "UPDATE payments_payments SET status = ?, brand = ?, provider_ref = ?, decline_code = ?, updated_at = ?, history = "+appendStep(tx.etx.DB)+" WHERE id = ? AND status = 'pending'",
		string(o.Status), o.Brand, o.ProviderRef, o.DeclineCode, micros(at), string(o.Status), micros(at), id)
}

// Move moves a payment from one status to another and returns it; ok is
// false when it was not in status from.
func (tx *Tx) Move(id string, from, to api.Status, at time.Time) (api.Payment, bool, error) {
	return move(tx.etx.DB, "UPDATE payments_payments SET status = ?, updated_at = ?, history = "+appendStep(tx.etx.DB)+" WHERE id = ? AND status = ?",
		string(to), micros(at), string(to), micros(at), id, string(from))
}

// move runs a conditional UPDATE and returns the payment as it left it.
func move(tx *gorm.DB, sql string, args ...any) (api.Payment, bool, error) {
	var rows []row
	if err := tx.Raw(sql+" RETURNING "+cols, args...).Scan(&rows).Error; err != nil {
		return api.Payment{}, false, err
	}
	if len(rows) == 0 {
		return api.Payment{}, false, nil
	}
	p, err := rows[0].api()
	return p, err == nil, err
}

// appendStep is the SQL that appends a step (two arguments: status and
// time) to the history column, in the database itself, so it never depends
// on what the caller read before.
func appendStep(db *gorm.DB) string {
	if db.Dialector.Name() == "postgres" {
		return "(history::jsonb || jsonb_build_array(jsonb_build_object('status', ?::text, 'at', ?::bigint)))::text"
	}
	return "json_insert(history, '$[#]', json_object('status', ?, 'at', ?))"
}

// DeletePending removes a payment that is still pending (one statement):
// for an authorization the provider refused to know the method of, which
// must leave nothing stored.
func (s *Store) DeletePending(ctx context.Context, id string) error {
	return s.h.Conn(ctx).Exec("DELETE FROM payments_payments WHERE id = ? AND status = 'pending'", id).Error
}

// Get reads one payment.
func (s *Store) Get(ctx context.Context, id string) (api.Payment, error) {
	var rows []row
	if err := s.h.Conn(ctx).Raw("SELECT "+cols+" FROM payments_payments WHERE id = ?", id).Scan(&rows).Error; err != nil {
		return api.Payment{}, err
	}
	if len(rows) == 0 {
		return api.Payment{}, ErrNotFound
	}
	return rows[0].api()
}

// Key is a position in the newest-first list: the last payment of a page.
type Key struct {
	CreatedUS int64  `json:"c"`
	ID        string `json:"i"`
}

// KeyOf is the position of a payment in the list.
func KeyOf(p api.Payment) Key { return Key{CreatedUS: micros(p.CreatedAt), ID: p.ID} }

// Encode is the key as an opaque cursor.
func (k Key) Encode() string {
	b, _ := json.Marshal(k) // plain fields: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is a cursor this store did not make.
var ErrBadCursor = errors.New("invalid cursor")

// DecodeCursor reads a cursor made by Key.Encode.
func DecodeCursor(cursor string) (Key, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) > 1024 {
		return Key{}, ErrBadCursor
	}
	var k Key
	if err := json.Unmarshal(b, &k); err != nil || k.ID == "" || k.CreatedUS <= 0 {
		return Key{}, ErrBadCursor
	}
	return k, nil
}

// List pages through payments newest first (ties by id, descending), only
// those with the reference when it is not empty, after the key given (nil:
// from the newest). Keys only shrink in this order, so a payment created
// meanwhile never shifts a later page.
func (s *Store) List(ctx context.Context, reference string, after *Key, limit int) ([]api.Payment, error) {
	var where []string
	var args []any
	if reference != "" {
		where = append(where, "reference = ?")
		args = append(args, reference)
	}
	if after != nil {
		where = append(where, "(created_at, id) < (?, ?)")
		args = append(args, after.CreatedUS, after.ID)
	}
	sql := "SELECT " + cols + " FROM payments_payments"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	var rows []row
	if err := s.h.Conn(ctx).Raw(sql+" ORDER BY created_at DESC, id DESC LIMIT ?", append(args, limit)...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]api.Payment, len(rows))
	for i, r := range rows {
		p, err := r.api()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}
