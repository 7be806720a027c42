// Package store keeps the customers module's tables (customers_*): accounts,
// address books, refresh-token families and the sign-in failure counters.
// Functions take the *gorm.DB to run on, so the use cases decide what shares
// a transaction.
package store

import (
	"errors"
	"fmt"

	"github.com/modshop/modshop/platform/database"
)

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
`}}}

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
