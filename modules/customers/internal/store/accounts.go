package store

import (
	"errors"
	"time"

	"gorm.io/gorm"
)

// Account is a row of customers_accounts. Email is stored normalized (see
// domain.NormalizeEmail); the unique index on it is what makes e-mails
// unique case-insensitively.
type Account struct {
	ID           string    `gorm:"column:id;primaryKey"`
	Email        string    `gorm:"column:email"`
	Name         string    `gorm:"column:name"`
	Role         string    `gorm:"column:role"`
	PasswordHash string    `gorm:"column:password_hash"`
	AddressCount int       `gorm:"column:address_count"`
	CreatedAt    time.Time `gorm:"column:created_at"`
	UpdatedAt    time.Time `gorm:"column:updated_at"`
}

func (Account) TableName() string { return "customers_accounts" }

// InsertAccount adds an account; ErrDuplicate when the e-mail is taken.
func (q queries) InsertAccount(a Account) error {
	return translate("insert account", q.db.Create(&a).Error)
}

// AccountByEmail finds an account by its normalized e-mail.
func (q queries) AccountByEmail(email string) (Account, error) {
	return first(q.db.Where("email = ?", email))
}

// AccountByID finds an account.
func (q queries) AccountByID(id string) (Account, error) {
	return first(q.db.Where("id = ?", id))
}

func first(sel *gorm.DB) (Account, error) {
	var a Account
	err := sel.Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, ErrNotFound
	}
	return a, translate("read account", err)
}

// UpdateName sets an account's name.
func (q queries) UpdateName(id, name string, now time.Time) error {
	res := q.db.Model(&Account{}).Where("id = ?", id).Updates(map[string]any{"name": name, "updated_at": now})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return translate("update name", res.Error)
}

// ReplacePasswordHash swaps the hash only if it is still old, so a rehash
// racing a password change never undoes the change. It reports whether it
// swapped.
func (q queries) ReplacePasswordHash(id, old, replacement string, now time.Time) (bool, error) {
	res := q.db.Model(&Account{}).Where("id = ? AND password_hash = ?", id, old).
		Updates(map[string]any{"password_hash": replacement, "updated_at": now})
	return res.RowsAffected == 1, translate("replace password hash", res.Error)
}
