// Package store keeps the customers module's tables (customers_*): accounts,
// address books, refresh-token families and the sign-in failure counters.
// A Store is made once and held by the service: its read methods run a
// statement on their own, and InTx runs a use case's writes in one
// transaction, through a *Tx that also publishes the module's events into
// the outbox of that transaction. Only this package touches gorm.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
)

// Store reads and writes the customers module's tables.
type Store struct {
	events.Transactions[*Tx]
	h *database.Handle
}

// New makes the store over the module's outbox (and its database).
func New(ob *events.Outbox) *Store {
	s := &Store{h: ob.Handle()}
	s.Transactions = events.NewTransactions(ob, func(tx *events.Tx) *Tx { return &Tx{queries: queries{db: tx.DB}, events: tx} })
	return s
}

// Tx is one transaction of the module: every query of the store, and the
// events it publishes, which are written to the outbox before it commits.
type Tx struct {
	queries
	events *events.Tx
}

// Publish adds events to the outbox in this transaction.
func (t *Tx) Publish(evts ...events.Event) error { return t.events.Publish(evts...) }

// queries are the statements of the store, on a transaction or a
// connection.
type queries struct{ db *gorm.DB }

// conn runs queries outside a transaction.
func (s *Store) conn(ctx context.Context) queries { return queries{db: s.h.Conn(ctx)} }

// AccountByEmail finds an account by its normalized e-mail.
func (s *Store) AccountByEmail(ctx context.Context, email string) (Account, error) {
	return s.conn(ctx).AccountByEmail(email)
}

// AccountByID finds an account.
func (s *Store) AccountByID(ctx context.Context, id string) (Account, error) {
	return s.conn(ctx).AccountByID(id)
}

// UpdateName sets an account's name.
func (s *Store) UpdateName(ctx context.Context, id, name string, now time.Time) error {
	return s.conn(ctx).UpdateName(id, name, now)
}

// Addresses lists a customer's addresses after the cursor id (queries.Addresses).
func (s *Store) Addresses(ctx context.Context, customerID, after string, limit int) ([]Address, error) {
	return s.conn(ctx).Addresses(customerID, after, limit)
}

// AddressOf reads one address of a customer.
func (s *Store) AddressOf(ctx context.Context, customerID, id string) (Address, error) {
	return s.conn(ctx).AddressOf(customerID, id)
}

// Migrations are the customers module's tables.
var Migrations = database.MigrationSet{Module: "customers", Component: "module", Migrations: []database.Migration{{
	Version: 1, Name: "accounts",
	SQL: `
CREATE TABLE customers_accounts (
	id TEXT PRIMARY KEY,
	email TEXT NOT NULL,
	name TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('customer', 'admin')),
	password_hash TEXT NOT NULL,
	address_count INTEGER NOT NULL DEFAULT 0,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX customers_accounts_email ON customers_accounts (email);
CREATE TABLE customers_addresses (
	id TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL REFERENCES customers_accounts (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	line1 TEXT NOT NULL,
	line2 TEXT NOT NULL,
	city TEXT NOT NULL,
	postal_code TEXT NOT NULL,
	country TEXT NOT NULL,
	phone TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX customers_addresses_customer ON customers_addresses (customer_id, id);
CREATE TABLE customers_token_families (
	id TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL REFERENCES customers_accounts (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ
);
CREATE INDEX customers_token_families_customer ON customers_token_families (customer_id);
CREATE TABLE customers_refresh_tokens (
	token_hash TEXT PRIMARY KEY,
	family_id TEXT NOT NULL REFERENCES customers_token_families (id) ON DELETE CASCADE,
	issued_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at TIMESTAMPTZ
);
CREATE INDEX customers_refresh_tokens_family ON customers_refresh_tokens (family_id);
CREATE INDEX customers_refresh_tokens_expiry ON customers_refresh_tokens (expires_at);
CREATE TABLE customers_login_failures (
	subject TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	window_ends_at BIGINT NOT NULL
);
CREATE INDEX customers_login_failures_window ON customers_login_failures (window_ends_at);
`}, {
	// Failed sign-ins per account and client address, with growing delays
	// (Delay): a stranger's failures no longer lock the owner out.
	Version: 2, Name: "signin_delays",
	SQL: `
CREATE TABLE customers_signin_delays (
	subject TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	next_at BIGINT NOT NULL,
	forget_at BIGINT NOT NULL
);
CREATE INDEX customers_signin_delays_forget ON customers_signin_delays (forget_at);
`}, {
	// Every process reloads the sessions revoked lately each second
	// (service.LoadRevocations).
	Version: 3, Name: "revoked_sessions",
	SQL: `CREATE INDEX customers_token_families_revoked ON customers_token_families (revoked_at) WHERE revoked_at IS NOT NULL;`,
}, {
	// The back office lists accounts newest first (ListAccounts).
	Version: 4, Name: "accounts_by_creation",
	SQL: `CREATE INDEX customers_accounts_created ON customers_accounts (created_at, id);`,
}}}

// ErrNotFound is a row that does not exist (or is not the caller's).
var ErrNotFound = errors.New("not found")

// ErrDuplicate is a unique-constraint violation.
var ErrDuplicate = errors.New("duplicate")

// translate maps driver errors to the store's sentinels.
func translate(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case database.IsDuplicate(err):
		return fmt.Errorf("%s: %w", what, ErrDuplicate)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
