package store

import (
	"context"
	"strings"
	"time"
)

// ListAccounts pages through accounts newest first (created_at, then id,
// both descending), after the cursor's account when afterAt is not zero.
// prefix, when not "", keeps the e-mails starting with it (LIKE with its
// wildcards escaped, so "a_b" is not a pattern).
func (s *Store) ListAccounts(ctx context.Context, prefix string, afterAt time.Time, afterID string, limit int) ([]Account, error) {
	q := s.h.Conn(ctx).Model(&Account{})
	if prefix != "" {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
		q = q.Where(`email LIKE ? ESCAPE '\'`, esc+"%")
	}
	if !afterAt.IsZero() {
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", afterAt.UTC(), afterAt.UTC(), afterID)
	}
	var rows []Account
	err := q.Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error
	return rows, translate("list accounts", err)
}
