// Package store keeps the inventory's tables: levels (one row per SKU), the
// ledger of every change, reservations and restocks.
//
// Stock is never read and then written: every change is one conditional
// UPDATE ... RETURNING on the level row, so two writers can interleave in any
// way and the database still refuses the one that would oversell (and the
// CHECK constraints refuse anything a bug might try).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
)

// Migrations are the inventory's tables.
var Migrations = database.MigrationSet{Module: "inventory", Component: "module", Migrations: []database.Migration{{
	Version: 1, Name: "levels_ledger_reservations",
	SQL: `
CREATE TABLE inventory_levels (
	sku TEXT PRIMARY KEY,
	on_hand BIGINT NOT NULL DEFAULT 0,
	reserved BIGINT NOT NULL DEFAULT 0,
	version BIGINT NOT NULL DEFAULT 1,
	updated_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT inventory_levels_on_hand_check CHECK (on_hand >= 0),
	CONSTRAINT inventory_levels_reserved_check CHECK (reserved >= 0 AND reserved <= on_hand)
);
CREATE TABLE inventory_adjustments (
	id BIGSERIAL PRIMARY KEY,
	sku TEXT NOT NULL,
	delta BIGINT NOT NULL,
	reserved_delta BIGINT NOT NULL,
	reason TEXT NOT NULL,
	actor TEXT NOT NULL,
	reference TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX inventory_adjustments_sku ON inventory_adjustments (sku, id);
CREATE TABLE inventory_reservations (
	id TEXT PRIMARY KEY,
	status TEXT NOT NULL,
	lines TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT inventory_reservations_status_check CHECK (status IN ('active', 'committed', 'released', 'expired'))
);
CREATE INDEX inventory_reservations_due ON inventory_reservations (expires_at) WHERE status = 'active';
CREATE TABLE inventory_restocks (
	id TEXT PRIMARY KEY,
	lines TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
`}, {
	// An adjustment made with an Idempotency-Key keeps it, so that the
	// same request again is answered, not applied twice.
	Version: 2, Name: "adjustment_idempotency_keys",
	SQL: `
ALTER TABLE inventory_adjustments ADD COLUMN idem_key TEXT;
CREATE UNIQUE INDEX inventory_adjustments_idem_key ON inventory_adjustments (sku, actor, idem_key) WHERE idem_key IS NOT NULL;
`}}}

// Store is the inventory's tables behind methods: reads outside a
// transaction on the Store, every change on a Tx (InTx). The service holds
// one and never sees gorm.
type Store struct {
	events.Transactions[*Tx]
	h *database.Handle
}

// New makes the store of the module's outbox (and its database handle).
func New(ob *events.Outbox) *Store {
	s := &Store{h: ob.Handle()}
	s.Transactions = events.NewTransactions(ob, func(tx *events.Tx) *Tx { return &Tx{etx: tx, db: tx.DB, dialect: s.h.Dialect} })
	return s
}

// Tx is one transaction of the inventory: its changes, ledger entries and
// the events it publishes commit together, or not at all.
type Tx struct {
	etx     *events.Tx
	db      *gorm.DB
	dialect database.Dialect
}

// Publish adds events to the transaction's outbox writes.
func (t *Tx) Publish(evts ...events.Event) error { return t.etx.Publish(evts...) }

// Reads outside a transaction (and the two a transaction also needs).

// GetLevel reads one level.
func (s *Store) GetLevel(ctx context.Context, sku string) (Level, error) {
	return getLevel(s.h.Conn(ctx), sku)
}

// GetLevel in the transaction.
func (t *Tx) GetLevel(sku string) (Level, error) { return getLevel(t.db, sku) }

// EntryByKey finds the adjustment an actor made to a SKU with an
// Idempotency-Key.
func (s *Store) EntryByKey(ctx context.Context, sku, actor, key string) (Entry, error) {
	return entryByKey(s.h.Conn(ctx), sku, actor, key)
}

// EntryByKey in the transaction.
func (t *Tx) EntryByKey(sku, actor, key string) (Entry, error) {
	return entryByKey(t.db, sku, actor, key)
}

// GetLevels reads the levels of many SKUs with one query per 500.
func (s *Store) GetLevels(ctx context.Context, skus []string) ([]Level, error) {
	return getLevels(s.h.Conn(ctx), skus)
}

// ListLevels pages through levels in SKU order, after the SKU given.
func (s *Store) ListLevels(ctx context.Context, after string, limit int) ([]Level, error) {
	return listLevels(s.h.Conn(ctx), after, limit)
}

// Ledger pages through a SKU's entries, newest first, before the id given
// (0: from the newest).
func (s *Store) Ledger(ctx context.Context, sku string, before int64, limit int) ([]Entry, error) {
	return ledger(s.h.Conn(ctx), sku, before, limit)
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Level is a row of inventory_levels.
type Level struct {
	SKU      string `gorm:"column:sku"`
	OnHand   int64  `gorm:"column:on_hand"`
	Reserved int64  `gorm:"column:reserved"`
	Version  int64  `gorm:"column:version"`
}

// API is the level as other modules see it.
func (l Level) API() api.Level {
	return api.Level{SKU: l.SKU, OnHand: l.OnHand, Reserved: l.Reserved, Available: l.OnHand - l.Reserved}
}

// Event is the stock_changed event of the level's current state.
func (l Level) Event() api.StockChanged {
	return api.StockChanged{SKU: l.SKU, OnHand: l.OnHand, Reserved: l.Reserved, Available: l.OnHand - l.Reserved, Version: l.Version}
}

const levelCols = "sku, on_hand, reserved, version"

// updateLevel runs one UPDATE ... RETURNING on a level row; ok is false when
// its WHERE matched no row.
func updateLevel(tx *gorm.DB, sql string, args ...any) (Level, bool, error) {
	var rows []Level
	if err := tx.Raw(sql+" RETURNING "+levelCols, args...).Scan(&rows).Error; err != nil {
		return Level{}, false, err
	}
	if len(rows) == 0 {
		return Level{}, false, nil
	}
	return rows[0], true, nil
}

// CreateLevels creates an empty level for each new SKU, a few hundred to a
// statement, and returns the levels it created, in SKU order (a SKU that
// has one already is left out).
func (t *Tx) CreateLevels(skus []string, now time.Time) ([]Level, error) {
	tx := t.db
	skus = slices.Compact(slices.Sorted(slices.Values(skus)))
	var created []Level
	for chunk := range slices.Chunk(skus, 500) {
		sql, args := database.Values("INSERT INTO inventory_levels (sku, on_hand, reserved, version, updated_at)", len(chunk), 5,
			func(i int) []any { return []any{chunk[i], 0, 0, 1, now} })
		var rows []Level
		if err := tx.Raw(sql+" ON CONFLICT (sku) DO NOTHING RETURNING "+levelCols, args...).Scan(&rows).Error; err != nil {
			return nil, err
		}
		created = append(created, rows...)
	}
	slices.SortFunc(created, func(a, b Level) int { return strings.Compare(a.SKU, b.SKU) })
	return created, nil
}

// Hold adds q to reserved if at least q is available. This one statement is
// the whole oversell guard: the row lock it takes makes a concurrent holder
// wait, then re-check the condition against the committed row.
func (t *Tx) Hold(sku string, q int64, now time.Time) (Level, bool, error) {
	tx := t.db
	return updateLevel(tx, "UPDATE inventory_levels SET reserved = reserved + ?, version = version + 1, updated_at = ? WHERE sku = ? AND on_hand - reserved >= ?",
		q, now, sku, q)
}

// Apply adds deltas to on_hand and reserved unconditionally: for changes
// whose validity follows from a reservation (commit, release, expiry) or
// that only add stock (restock). The CHECK constraints still guard them.
func (t *Tx) Apply(sku string, onHand, reserved int64, now time.Time) (Level, bool, error) {
	tx := t.db
	return updateLevel(tx, "UPDATE inventory_levels SET on_hand = on_hand + ?, reserved = reserved + ?, version = version + 1, updated_at = ? WHERE sku = ?",
		onHand, reserved, now, sku)
}

// HoldLines holds every line's quantity, on each SKU only if that many are
// available: Hold for many lines, in one statement per 200 lines instead of
// one per line. It returns the levels it changed, in SKU order; a line
// whose SKU is not among them was short (or is unknown). Lines must be
// normalized (one per SKU).
func (t *Tx) HoldLines(lines []api.Line, now time.Time) ([]Level, error) {
	tx := t.db
	return updateLines(tx, "reserved = reserved + v.vq", nil, " AND on_hand - reserved >= v.vq", lines, now)
}

// ApplyLines is Apply for many lines in one statement per 200 lines: each
// line's SKU gets onHand × quantity on hand and reserved × quantity
// reserved. It returns the levels it changed, in SKU order; a SKU missing
// from them is unknown.
func (t *Tx) ApplyLines(lines []api.Line, onHand, reserved int64, now time.Time) ([]Level, error) {
	tx := t.db
	return updateLines(tx, "on_hand = on_hand + v.vq * ?, reserved = reserved + v.vq * ?", []any{onHand, reserved}, "", lines, now)
}

// updateLines runs UPDATE … FROM (the lines) … RETURNING on the lines'
// levels. PostgreSQL gets them as VALUES with a column list: a row that a
// concurrent transaction changed is then re-checked against its line after
// the wait, as with one UPDATE per line (a UNION ALL subquery instead loses
// the row). SQLite has no column list for VALUES, and no concurrent
// writers, so it gets a UNION ALL of one-row SELECTs. PostgreSQL joins in
// the lines' order (sorted by SKU), so concurrent statements lock rows in
// one order, as one UPDATE per line did.
func updateLines(tx *gorm.DB, set string, setArgs []any, cond string, lines []api.Line, now time.Time) ([]Level, error) {
	pg := tx.Dialector.Name() == "postgres"
	var out []Level
	for chunk := range slices.Chunk(lines, 200) {
		var sql strings.Builder
		args := append(append(make([]any, 0, len(setArgs)+1+2*len(chunk)), setArgs...), now)
		sql.WriteString("UPDATE inventory_levels SET " + set + ", version = version + 1, updated_at = ? FROM (")
		for i, l := range chunk {
			switch {
			case pg && i == 0:
				sql.WriteString("VALUES ")
			case pg:
				sql.WriteString(", ")
			case i > 0:
				sql.WriteString(" UNION ALL ")
			}
			if pg {
				sql.WriteString("(CAST(? AS TEXT), CAST(? AS BIGINT))")
			} else {
				sql.WriteString("SELECT ? AS vsku, CAST(? AS INTEGER) AS vq")
			}
			args = append(args, l.SKU, l.Quantity)
		}
		if pg {
			sql.WriteString(") AS v (vsku, vq)")
		} else {
			sql.WriteString(") AS v")
		}
		sql.WriteString(" WHERE sku = v.vsku" + cond + " RETURNING " + levelCols)
		var rows []Level
		if err := tx.Raw(sql.String(), args...).Scan(&rows).Error; err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	slices.SortFunc(out, func(a, b Level) int { return strings.Compare(a.SKU, b.SKU) })
	return out, nil
}

// Missing is the first line whose SKU has no level among levels (both
// sorted by SKU), or "" when every line has one.
func Missing(lines []api.Line, levels []Level) string {
	for i, l := range lines {
		if i >= len(levels) || levels[i].SKU != l.SKU {
			return l.SKU
		}
	}
	return ""
}

// AdjustOnHand adds delta to on_hand unless that leaves less than is
// reserved (and so, reserved being >= 0, less than zero).
func (t *Tx) AdjustOnHand(sku string, delta int64, now time.Time) (Level, bool, error) {
	tx := t.db
	return updateLevel(tx, "UPDATE inventory_levels SET on_hand = on_hand + ?, version = version + 1, updated_at = ? WHERE sku = ? AND on_hand + ? >= reserved",
		delta, now, sku, delta)
}

// getLevel is GetLevel on db, a connection or a transaction.
func getLevel(db *gorm.DB, sku string) (Level, error) {
	var rows []Level
	if err := db.Raw("SELECT "+levelCols+" FROM inventory_levels WHERE sku = ?", sku).Scan(&rows).Error; err != nil {
		return Level{}, err
	}
	if len(rows) == 0 {
		return Level{}, ErrNotFound
	}
	return rows[0], nil
}

// getLevels is GetLevels on db, a connection or a transaction.
func getLevels(db *gorm.DB, skus []string) ([]Level, error) {
	var out []Level
	for start := 0; start < len(skus); start += 500 {
		chunk := skus[start:min(start+500, len(skus))]
		var rows []Level
		if err := db.Raw("SELECT "+levelCols+" FROM inventory_levels WHERE sku IN ?", chunk).Scan(&rows).Error; err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// listLevels is ListLevels on db, a connection or a transaction.
func listLevels(db *gorm.DB, after string, limit int) ([]Level, error) {
	var rows []Level
	err := db.Raw("SELECT "+levelCols+" FROM inventory_levels WHERE sku > ? ORDER BY sku LIMIT ?", after, limit).Scan(&rows).Error
	return rows, err
}

// Entry is a row of inventory_adjustments, the ledger.
type Entry struct {
	ID            int64     `gorm:"column:id;primaryKey;autoIncrement"`
	SKU           string    `gorm:"column:sku"`
	Delta         int64     `gorm:"column:delta"`
	ReservedDelta int64     `gorm:"column:reserved_delta"`
	Reason        string    `gorm:"column:reason"`
	Actor         string    `gorm:"column:actor"`
	Reference     string    `gorm:"column:reference"`
	IdemKey       *string   `gorm:"column:idem_key"` // the Idempotency-Key of a manual adjustment, if it had one
	CreatedAt     time.Time `gorm:"column:created_at"`
}

// TableName is the ledger table.
func (Entry) TableName() string { return "inventory_adjustments" }

// API is the entry as the api shows it.
func (e Entry) API() api.Adjustment {
	return api.Adjustment{ID: strconv.FormatInt(e.ID, 10), SKU: e.SKU, Delta: e.Delta, ReservedDelta: e.ReservedDelta,
		Reason: e.Reason, Actor: e.Actor, Reference: e.Reference, CreatedAt: e.CreatedAt.UTC()}
}

// Record writes ledger entries in one statement and fills in their ids.
func (t *Tx) Record(entries []Entry) error {
	tx := t.db
	if len(entries) == 0 {
		return nil
	}
	// In batches: one statement for thousands of entries would pass the
	// databases' limits on bound parameters.
	return tx.CreateInBatches(&entries, 1000).Error
}

// entryByKey is EntryByKey on db, a connection or a transaction.
func entryByKey(db *gorm.DB, sku, actor, key string) (Entry, error) {
	var rows []Entry
	if err := db.Raw("SELECT * FROM inventory_adjustments WHERE sku = ? AND actor = ? AND idem_key = ?", sku, actor, key).Scan(&rows).Error; err != nil {
		return Entry{}, err
	}
	if len(rows) == 0 {
		return Entry{}, ErrNotFound
	}
	return rows[0], nil
}

// RecordWithoutIDs writes ledger entries whose ids the caller does not
// need: multi-row INSERTs that return nothing.
func (t *Tx) RecordWithoutIDs(entries []Entry) error {
	tx := t.db
	for chunk := range slices.Chunk(entries, 1000) {
		sql, args := database.Values("INSERT INTO inventory_adjustments (sku, delta, reserved_delta, reason, actor, reference, created_at)", len(chunk), 7,
			func(i int) []any {
				e := chunk[i]
				return []any{e.SKU, e.Delta, e.ReservedDelta, e.Reason, e.Actor, e.Reference, e.CreatedAt}
			})
		if err := tx.Exec(sql, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// ledger is Ledger on db, a connection or a transaction.
func ledger(db *gorm.DB, sku string, before int64, limit int) ([]Entry, error) {
	q := db.Where("sku = ?", sku)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []Entry
	err := q.Order("id DESC").Limit(limit).Find(&rows).Error
	return rows, err
}

// Reservation is a row of inventory_reservations.
type Reservation struct {
	ID        string    `gorm:"column:id"`
	Status    string    `gorm:"column:status"`
	Lines     string    `gorm:"column:lines"` // JSON of the normalized []api.Line
	ExpiresAt time.Time `gorm:"column:expires_at"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// API decodes the reservation.
func (r Reservation) API() (api.Reservation, error) {
	lines, err := DecodeLines(r.Lines)
	return api.Reservation{ID: r.ID, Status: api.ReservationStatus(r.Status), Lines: lines,
		ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC()}, err
}

// EncodeLines is the stored form of normalized lines.
func EncodeLines(lines []api.Line) string {
	b, _ := json.Marshal(lines) // a slice of plain structs always encodes
	return string(b)
}

// DecodeLines reads stored lines.
func DecodeLines(s string) ([]api.Line, error) {
	var lines []api.Line
	if err := json.Unmarshal([]byte(s), &lines); err != nil {
		return nil, fmt.Errorf("decode reservation lines: %w", err)
	}
	return lines, nil
}

// InsertReservation claims the reservation id; inserted is false when the id
// was taken already (a retry, or a reuse the caller must check).
func (t *Tx) InsertReservation(r api.Reservation) (bool, error) {
	tx := t.db
	res := tx.Exec(`INSERT INTO inventory_reservations (id, status, lines, expires_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		r.ID, string(r.Status), EncodeLines(r.Lines), r.ExpiresAt, r.CreatedAt, r.CreatedAt)
	return res.RowsAffected == 1, res.Error
}

// GetReservation reads one reservation.
func (t *Tx) GetReservation(id string) (api.Reservation, error) {
	db := t.db
	var rows []Reservation
	if err := db.Raw("SELECT id, status, lines, expires_at, created_at FROM inventory_reservations WHERE id = ?", id).Scan(&rows).Error; err != nil {
		return api.Reservation{}, err
	}
	if len(rows) == 0 {
		return api.Reservation{}, ErrNotFound
	}
	return rows[0].API()
}

// Finish moves an active reservation to status and returns its lines; ok is
// false when it is not active (or, with unexpiredAt set, when it expired by
// then). The row lock it takes orders it against the sweeper and retries.
func (t *Tx) Finish(id string, status api.ReservationStatus, now time.Time, unexpiredAt *time.Time) ([]api.Line, bool, error) {
	tx := t.db
	sql := "UPDATE inventory_reservations SET status = ?, updated_at = ? WHERE id = ? AND status = 'active'"
	args := []any{string(status), now, id}
	if unexpiredAt != nil {
		sql += " AND expires_at > ?"
		args = append(args, *unexpiredAt)
	}
	var rows []Reservation
	if err := tx.Raw(sql+" RETURNING id, lines", args...).Scan(&rows).Error; err != nil {
		return nil, false, err
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	lines, err := DecodeLines(rows[0].Lines)
	return lines, err == nil, err
}

// Claimed is a reservation the sweeper expired.
type Claimed struct {
	ID    string
	Lines []api.Line
}

// ExpireDue marks up to limit active reservations that expired by now as
// expired and returns them. On PostgreSQL the candidates are locked with
// SKIP LOCKED, so sweepers in several processes take disjoint sets and never
// wait for a reservation that a Commit is finishing; on SQLite the single
// writer already excludes them.
func (t *Tx) ExpireDue(now time.Time, limit int) ([]Claimed, error) {
	tx := t.db
	dialect := t.dialect
	lock := ""
	if dialect == database.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var rows []Reservation
	err := tx.Raw(`UPDATE inventory_reservations SET status = 'expired', updated_at = ?
		WHERE status = 'active' AND id IN (
			SELECT id FROM inventory_reservations WHERE status = 'active' AND expires_at <= ? ORDER BY expires_at LIMIT ?`+lock+`)
		RETURNING id, lines`, now, now, limit).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Claimed, len(rows))
	for i, r := range rows {
		lines, err := DecodeLines(r.Lines)
		if err != nil {
			return nil, err
		}
		out[i] = Claimed{ID: r.ID, Lines: lines}
	}
	return out, nil
}

// InsertRestock claims a restock id; inserted is false when it was taken.
func (t *Tx) InsertRestock(id string, lines []api.Line, now time.Time) (bool, error) {
	tx := t.db
	res := tx.Exec("INSERT INTO inventory_restocks (id, lines, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
		id, EncodeLines(lines), now)
	return res.RowsAffected == 1, res.Error
}

// RestockLines reads the lines of a recorded restock.
func (t *Tx) RestockLines(id string) ([]api.Line, error) {
	db := t.db
	var raw []string
	if err := db.Raw("SELECT lines FROM inventory_restocks WHERE id = ?", id).Scan(&raw).Error; err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, ErrNotFound
	}
	return DecodeLines(raw[0])
}

// InsertReservations claims many reservation ids in one statement and
// returns the ids it inserted; an id taken already is left out.
func (t *Tx) InsertReservations(rs []api.Reservation) (map[string]bool, error) {
	tx := t.db
	sql, args := database.Values("INSERT INTO inventory_reservations (id, status, lines, expires_at, created_at, updated_at)", len(rs), 6,
		func(i int) []any {
			r := rs[i]
			return []any{r.ID, string(r.Status), EncodeLines(r.Lines), r.ExpiresAt, r.CreatedAt, r.CreatedAt}
		})
	var ids []string
	if err := tx.Raw(sql+" ON CONFLICT (id) DO NOTHING RETURNING id", args...).Scan(&ids).Error; err != nil {
		return nil, err
	}
	inserted := make(map[string]bool, len(ids))
	for _, id := range ids {
		inserted[id] = true
	}
	return inserted, nil
}

// DeleteReservations removes reservations inserted earlier in the same
// transaction that it could not serve, so they never become visible.
func (t *Tx) DeleteReservations(ids []string) error {
	tx := t.db
	if len(ids) == 0 {
		return nil
	}
	return tx.Exec("DELETE FROM inventory_reservations WHERE id IN ? AND status = 'active'", ids).Error
}

// Receive adds quantities to many SKUs' on_hand, one statement per 500 SKUs,
// creating the levels that do not exist yet. Receiving only adds, so no
// condition can fail.
func (t *Tx) Receive(skus []string, qty map[string]int64, now time.Time) ([]Level, error) {
	tx := t.db
	var out []Level
	for start := 0; start < len(skus); start += 500 {
		chunk := skus[start:min(start+500, len(skus))]
		var sb strings.Builder
		args := make([]any, 0, 3*len(chunk))
		sb.WriteString("INSERT INTO inventory_levels (sku, on_hand, reserved, version, updated_at) VALUES ")
		for i, sku := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, 0, 1, ?)")
			args = append(args, sku, qty[sku], now)
		}
		sb.WriteString(" ON CONFLICT (sku) DO UPDATE SET on_hand = inventory_levels.on_hand + excluded.on_hand," +
			" version = inventory_levels.version + 1, updated_at = excluded.updated_at RETURNING " + levelCols)
		var rows []Level
		if err := tx.Raw(sb.String(), args...).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("receive stock: %w", err)
		}
		out = append(out, rows...)
	}
	return out, nil
}
