package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Family is a row of customers_token_families: one sign-in session. Every
// refresh token a session rotates through belongs to it, so one revocation
// ends them all.
type Family struct {
	ID         string     `gorm:"column:id;primaryKey"`
	CustomerID string     `gorm:"column:customer_id"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	LastUsedAt time.Time  `gorm:"column:last_used_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at"`
}

func (Family) TableName() string { return "customers_token_families" }

// RefreshToken is a row of customers_refresh_tokens. Only the SHA-256 of a
// token is stored: a leaked table holds nothing that can be presented.
type RefreshToken struct {
	TokenHash string     `gorm:"column:token_hash;primaryKey"`
	FamilyID  string     `gorm:"column:family_id"`
	IssuedAt  time.Time  `gorm:"column:issued_at"`
	ExpiresAt time.Time  `gorm:"column:expires_at"`
	UsedAt    *time.Time `gorm:"column:used_at"`
}

func (RefreshToken) TableName() string { return "customers_refresh_tokens" }

// InsertFamily starts a session.
func (q queries) InsertFamily(f Family) error {
	return translate("insert token family", q.db.Create(&f).Error)
}

// InsertRefreshToken stores a token's hash.
func (q queries) InsertRefreshToken(t RefreshToken) error {
	return translate("insert refresh token", q.db.Create(&t).Error)
}

// RefreshTokenByHash finds a token and the customer of its family.
func (q queries) RefreshTokenByHash(hash string) (RefreshToken, string, error) {
	var row struct {
		RefreshToken
		CustomerID string `gorm:"column:customer_id"`
	}
	err := q.db.Table("customers_refresh_tokens t").
		Select("t.*, f.customer_id").
		Joins("JOIN customers_token_families f ON f.id = t.family_id").
		Where("t.token_hash = ?", hash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return RefreshToken{}, "", ErrNotFound
	}
	return row.RefreshToken, row.CustomerID, translate("read refresh token", err)
}

// TouchActiveFamily marks a session used if it is not revoked, and reports
// whether it is active. The UPDATE also locks the family's row on
// PostgreSQL, so refreshes and revocations of one session are serialised.
func (q queries) TouchActiveFamily(id string, now time.Time) (bool, error) {
	res := q.db.Exec("UPDATE customers_token_families SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL", now, id)
	return res.RowsAffected == 1, translate("touch token family", res.Error)
}

// MarkRefreshTokenUsed marks a token spent, if it was not yet: false means
// someone used it first.
func (q queries) MarkRefreshTokenUsed(hash string, now time.Time) (bool, error) {
	res := q.db.Exec("UPDATE customers_refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", now, hash)
	return res.RowsAffected == 1, translate("use refresh token", res.Error)
}

// RevokeFamily ends a session: none of its tokens refreshes any more.
func (q queries) RevokeFamily(id string, now time.Time) error {
	err := q.db.Exec("UPDATE customers_token_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id).Error
	return translate("revoke token family", err)
}

// RevokedSince are the sessions revoked at or after since.
func (s *Store) RevokedSince(ctx context.Context, since time.Time) ([]string, error) {
	var ids []string
	err := s.conn(ctx).db.Raw("SELECT id FROM customers_token_families WHERE revoked_at >= ?", since).Scan(&ids).Error
	return ids, translate("read revoked sessions", err)
}

// DeleteExpiredTokens removes tokens past their expiry and sessions left
// with none. A used token is kept until it expires, so replaying it revokes
// its session for as long as it could have been valid.
func (q queries) DeleteExpiredTokens(now time.Time) error {
	if err := q.db.Exec("DELETE FROM customers_refresh_tokens WHERE expires_at < ?", now).Error; err != nil {
		return translate("delete expired refresh tokens", err)
	}
	err := q.db.Exec(`DELETE FROM customers_token_families WHERE NOT EXISTS
		(SELECT 1 FROM customers_refresh_tokens t WHERE t.family_id = customers_token_families.id)`).Error
	return translate("delete ended token families", err)
}
