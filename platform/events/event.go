// Package events is modshop's event bus: a transactional outbox per module, a
// relay that publishes it through a Watermill transport, and consumers that
// handle each event exactly once through an inbox.
//
// A module writes its integration events in the same database transaction as
// the state change (Outbox.Transact). After commit the relay is woken, claims
// the rows in order, publishes them and marks them sent. A consumer named
// "<module>.<handler>" records each message id in its module's inbox in the
// handler's own transaction, so a redelivered event changes nothing. A handler
// that keeps failing is retried a bounded number of times, then its message
// goes to the module's dead-letter table, where admins can see and replay it.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/tracing"
)

// Event is an integration event type, declared in a module's api package.
// EventName is "<module>.<fact>.v<N>"; EventKey names the aggregate, so
// events of one aggregate keep their order.
type Event interface {
	EventName() string
	EventKey() string
}

// Source is the module that publishes an event name ("catalog" for
// "catalog.product_published.v1"). Events travel on one topic per source
// module, so a consumer sees a module's events in the order they were written.
func Source(eventName string) string {
	s, _, _ := strings.Cut(eventName, ".")
	return s
}

// Topic is the transport topic of a source module's events.
func Topic(source string) string { return topicPrefix + source }

const topicPrefix = "modshop.events."

// Message is a received event.
type Message struct {
	ID         string
	Name       string
	Key        string
	OccurredAt time.Time
	Payload    []byte
	// Trace is the W3C traceparent of the span that published the event
	// (the request that caused it), or "": a consumer's span continues it.
	Trace string
}

// Decode unmarshals the payload into v.
func (m Message) Decode(v any) error {
	if err := json.Unmarshal(m.Payload, v); err != nil {
		return fmt.Errorf("decode %s %s: %w", m.Name, m.ID, err)
	}
	return nil
}

// Tx is a module's database transaction that can also publish events.
type Tx struct {
	*gorm.DB
	pending      []outboxRow
	afterCommit  []func()
	beforeCommit []beforeCommit
}

type beforeCommit struct {
	key string
	fn  func(tx *gorm.DB) error
}

// AfterCommit runs fn once the transaction has committed (not on rollback):
// the place to wake an in-process worker about the change.
func (t *Tx) AfterCommit(fn func()) { t.afterCommit = append(t.afterCommit, fn) }

// BeforeCommit runs fn in the transaction after the work given to Transact
// is done and before the outbox rows are written, once per key however often
// it is asked for: the place for a statement that settles everything the
// transaction changed, such as stamping the rows a batch of events touched
// with one change number. An error rolls the transaction back.
func (t *Tx) BeforeCommit(key string, fn func(tx *gorm.DB) error) {
	for _, b := range t.beforeCommit {
		if b.key == key {
			return
		}
	}
	t.beforeCommit = append(t.beforeCommit, beforeCommit{key: key, fn: fn})
}

// settle runs the BeforeCommit work, in the order it was asked for.
func (t *Tx) settle() error {
	for _, b := range t.beforeCommit {
		if err := b.fn(t.DB); err != nil {
			return fmt.Errorf("before commit (%s): %w", b.key, err)
		}
	}
	return nil
}

// Publish adds events to the module's outbox; they are written before the
// transaction commits, and relayed after.
func (t *Tx) Publish(evts ...Event) error {
	now := time.Now().UTC()
	trace := ""
	if t.Statement != nil && t.Statement.Context != nil {
		trace = tracing.Traceparent(t.Statement.Context)
	}
	for _, e := range evts {
		payload, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode %s: %w", e.EventName(), err)
		}
		t.pending = append(t.pending, outboxRow{
			TraceParent:   trace,
			EventID:       uuid.Must(uuid.NewV7()).String(),
			Name:          e.EventName(),
			Key:           e.EventKey(),
			Payload:       string(payload),
			CreatedAt:     now,
			NextAttemptAt: now,
		})
	}
	return nil
}

// Outbox is one module's outbox: the way it writes state and events together.
type Outbox struct {
	module string
	h      *database.Handle
	wake   func()
}

// Module is the owning module's name.
func (o *Outbox) Module() string { return o.module }

// Handle is the module's database handle.
func (o *Outbox) Handle() *database.Handle { return o.h }

// Transact runs fn in a transaction; the events it publishes are stored in the
// same transaction and relayed once it commits.
func (o *Outbox) Transact(ctx context.Context, fn func(tx *Tx) error) error {
	published := false
	var after []func()
	err := o.h.Transact(ctx, func(db *gorm.DB) error {
		tx := &Tx{DB: db}
		after = nil
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.settle(); err != nil {
			return err
		}
		if err := o.insert(db, tx.pending); err != nil {
			return err
		}
		published = len(tx.pending) > 0
		after = tx.afterCommit
		return nil
	})
	if err == nil {
		if published && o.wake != nil {
			o.wake()
		}
		for _, fn := range after {
			fn()
		}
	}
	return err
}

// insert writes the transaction's events into the outbox.
func (o *Outbox) insert(db *gorm.DB, rows []outboxRow) error {
	// At most 1,000 rows per INSERT: one statement for every row would pass
	// SQLite's limit of 32,766 bound values at about 3,000 events.
	for chunk := range slices.Chunk(rows, 1000) {
		sql, args := database.Values("INSERT INTO "+o.module+"_outbox (event_id, name, event_key, payload, created_at, next_attempt_at, trace_parent)", len(chunk), 7,
			func(i int) []any {
				r := chunk[i]
				return []any{r.EventID, r.Name, r.Key, r.Payload, r.CreatedAt, r.NextAttemptAt, r.TraceParent}
			})
		if err := db.Exec(sql, args...).Error; err != nil {
			return fmt.Errorf("write %s outbox: %w", o.module, err)
		}
	}
	return nil
}

// outboxRow is a row of <module>_outbox.
type outboxRow struct {
	Seq           int64      `gorm:"column:seq;primaryKey;autoIncrement"`
	EventID       string     `gorm:"column:event_id"`
	Name          string     `gorm:"column:name"`
	Key           string     `gorm:"column:event_key"`
	Payload       string     `gorm:"column:payload"`
	CreatedAt     time.Time  `gorm:"column:created_at"`
	Attempts      int        `gorm:"column:attempts"`
	NextAttemptAt time.Time  `gorm:"column:next_attempt_at"`
	LeaseUntil    *time.Time `gorm:"column:lease_until"`
	PublishedAt   *time.Time `gorm:"column:published_at"`
	LastError     string     `gorm:"column:last_error"`
	TraceParent   string     `gorm:"column:trace_parent"`
}

// Migrations are the platform's tables for one module: outbox, inbox and
// dead letters, prefixed with the module's name.
func Migrations(module string) database.MigrationSet {
	r := strings.NewReplacer("{m}", module)
	return database.MigrationSet{Module: module, Component: "platform", Migrations: []database.Migration{{
		Version: 1, Name: "event_bus",
		SQL: r.Replace(`
CREATE TABLE {m}_outbox (
	seq BIGSERIAL PRIMARY KEY,
	event_id TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	event_key TEXT NOT NULL,
	payload TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TIMESTAMPTZ NOT NULL,
	lease_until TIMESTAMPTZ,
	published_at TIMESTAMPTZ,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX {m}_outbox_pending ON {m}_outbox (seq) WHERE published_at IS NULL;
CREATE INDEX {m}_outbox_published ON {m}_outbox (published_at) WHERE published_at IS NOT NULL;
CREATE TABLE {m}_inbox (
	consumer TEXT NOT NULL,
	message_id TEXT NOT NULL,
	processed_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (consumer, message_id)
);
CREATE INDEX {m}_inbox_processed ON {m}_inbox (processed_at);
CREATE TABLE {m}_dead_letters (
	id BIGSERIAL PRIMARY KEY,
	consumer TEXT NOT NULL,
	message_id TEXT NOT NULL,
	name TEXT NOT NULL,
	event_key TEXT NOT NULL,
	payload TEXT NOT NULL,
	error TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	failed_at TIMESTAMPTZ NOT NULL,
	replayed_at TIMESTAMPTZ
);
CREATE INDEX {m}_dead_letters_open ON {m}_dead_letters (failed_at) WHERE replayed_at IS NULL;
`)}, {
		// The trace of the request that published an event travels with
		// it, so that the consumers' spans join that request's trace.
		Version: 2, Name: "event_trace",
		SQL: r.Replace(`ALTER TABLE {m}_outbox ADD COLUMN trace_parent TEXT NOT NULL DEFAULT '';`),
	}}}
}

// Transactions are a module store's transactions on its outbox: InTx opens
// one, Join takes one the platform opened (an event consumer's), and wrap
// makes the store's own Tx of it, so the use cases see the store's
// statements and Publish, never gorm. A store embeds it
// (modules/<m>/internal/store).
type Transactions[T any] struct {
	ob   *Outbox
	wrap func(*Tx) T
}

// NewTransactions are the transactions of ob, each handed to the store as
// wrap makes it.
func NewTransactions[T any](ob *Outbox, wrap func(*Tx) T) Transactions[T] {
	return Transactions[T]{ob: ob, wrap: wrap}
}

// InTx runs fn in one transaction of the module's database: the writes and
// the events of fn commit together, or not at all when fn fails.
func (t Transactions[T]) InTx(ctx context.Context, fn func(tx T) error) error {
	return t.ob.Transact(ctx, func(tx *Tx) error { return fn(t.wrap(tx)) })
}

// Join is the store's Tx in a transaction the platform opened.
func (t Transactions[T]) Join(tx *Tx) T { return t.wrap(tx) }
