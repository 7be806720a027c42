// Package store keeps the web module's tables: the sessions of signed-in
// visitors (a guest has none; a guest's cart id travels in its own cookie)
// and the checkout forms' keys. A session's id is a random secret held only by the
// browser; the table keeps its SHA-256, so a leaked table signs no one in.
// Only this package touches gorm.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/modshop/modshop/platform/database"
)

// Store reads and writes the web module's tables.
type Store struct{ h *database.Handle }

// New makes the store over the module's database handle.
func New(h *database.Handle) *Store { return &Store{h: h} }

// Session is a signed-in visitor. Name, Email and Role are a copy of the
// account's at sign-in, shown in the page header; the back office asks
// the customers module again before it acts (Role may have changed).
type Session struct {
	ID         string    `gorm:"column:id"` // SHA-256 of the cookie's secret, hex
	CustomerID string    `gorm:"column:customer_id"`
	Email      string    `gorm:"column:email"`
	Name       string    `gorm:"column:name"`
	Role       string    `gorm:"column:role"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	ExpiresAt  time.Time `gorm:"column:expires_at"`
}

// ErrNotFound is a session that does not exist or has expired.
var ErrNotFound = errors.New("no such session")

// Migrations are the module's tables.
var Migrations = database.MigrationSet{Module: "web", Component: "module", Migrations: []database.Migration{{
	Version: 1, Name: "sessions",
	SQL: `
CREATE TABLE web_sessions (
	id TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL,
	email TEXT NOT NULL,
	name TEXT NOT NULL,
	role TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_customer ON web_sessions (customer_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
`}, {
	// The checkout form's Idempotency-Key and the checkout it made: a
	// second submit of one form (a double click, a reload) places its order
	// from the same checkout with the same key, so the orders module
	// answers it with the first order instead of placing another.
	Version: 2, Name: "checkout_keys",
	SQL: `
CREATE TABLE web_checkout_keys (
	id TEXT PRIMARY KEY,
	checkout_id TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_checkout_keys_created ON web_checkout_keys (created_at);
`}}}

// Hash is the row id of a session secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create stores a session under the hash of secret.
func (s *Store) Create(ctx context.Context, secret string, sess Session) error {
	sess.ID = Hash(secret)
	return s.h.Conn(ctx).Exec(`INSERT INTO web_sessions (id, customer_id, email, name, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, sess.CustomerID, sess.Email, sess.Name, sess.Role, sess.CreatedAt.UTC(), sess.ExpiresAt.UTC()).Error
}

// Get reads the session of secret that has not expired at now.
func (s *Store) Get(ctx context.Context, secret string, now time.Time) (Session, error) {
	var rows []Session
	err := s.h.Conn(ctx).Raw(`SELECT id, customer_id, email, name, role, created_at, expires_at FROM web_sessions WHERE id = ? AND expires_at > ?`,
		Hash(secret), now.UTC()).Scan(&rows).Error
	if err != nil {
		return Session{}, err
	}
	if len(rows) == 0 {
		return Session{}, ErrNotFound
	}
	return rows[0], nil
}

// Rename changes the name shown for every session of a customer.
func (s *Store) Rename(ctx context.Context, customerID, name string) error {
	return s.h.Conn(ctx).Exec(`UPDATE web_sessions SET name = ? WHERE customer_id = ?`, name, customerID).Error
}

// Delete ends the session of secret.
func (s *Store) Delete(ctx context.Context, secret string) error {
	return s.h.Conn(ctx).Exec(`DELETE FROM web_sessions WHERE id = ?`, Hash(secret)).Error
}

// DeleteExpired removes sessions that expired before now, and checkout
// keys older than CheckoutKeyTTL.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res := s.h.Conn(ctx).Exec(`DELETE FROM web_sessions WHERE expires_at <= ?`, now.UTC())
	if res.Error != nil {
		return res.RowsAffected, res.Error
	}
	err := s.h.Conn(ctx).Exec(`DELETE FROM web_checkout_keys WHERE created_at <= ?`, now.Add(-CheckoutKeyTTL).UTC()).Error
	return res.RowsAffected, err
}

// CheckoutKeyTTL is how long a checkout form's key is remembered: longer
// than a checkout holds its stock, as long as the orders module keeps the
// key's answer.
const CheckoutKeyTTL = 24 * time.Hour

// ClaimCheckoutKey records a checkout form's key (kept as its hash: with
// the checkout id, it replays a guest's order). It reports false when the
// key was claimed before, by an earlier submit of the same form.
func (s *Store) ClaimCheckoutKey(ctx context.Context, key string, now time.Time) (bool, error) {
	res := s.h.Conn(ctx).Exec(`INSERT INTO web_checkout_keys (id, checkout_id, created_at) VALUES (?, '', ?) ON CONFLICT (id) DO NOTHING`,
		Hash(key), now.UTC())
	return res.RowsAffected == 1, res.Error
}

// SetCheckoutKey records the checkout a key's submit made.
func (s *Store) SetCheckoutKey(ctx context.Context, key, checkoutID string) error {
	return s.h.Conn(ctx).Exec(`UPDATE web_checkout_keys SET checkout_id = ? WHERE id = ?`, checkoutID, Hash(key)).Error
}

// CheckoutOfKey is the checkout a key's submit made: "" while it is being
// made, ErrNotFound when the key is not (or no longer) claimed.
func (s *Store) CheckoutOfKey(ctx context.Context, key string) (string, error) {
	var rows []string
	if err := s.h.Conn(ctx).Raw(`SELECT checkout_id FROM web_checkout_keys WHERE id = ?`, Hash(key)).Scan(&rows).Error; err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", ErrNotFound
	}
	return rows[0], nil
}

// ForgetCheckoutKey lets a key go after its checkout failed (bad input,
// no stock), so nothing is bound to it.
func (s *Store) ForgetCheckoutKey(ctx context.Context, key string) error {
	return s.h.Conn(ctx).Exec(`DELETE FROM web_checkout_keys WHERE id = ?`, Hash(key)).Error
}
