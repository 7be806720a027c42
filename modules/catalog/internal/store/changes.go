package store

import (
	"context"
	"fmt"
)

// CountChange counts a write in its transaction and returns the count
// it made. Every process that serves the catalog polls the count
// (Changes): a count that moved by a write it did not make itself tells it
// that another process changed the catalog. Run it last in the
// transaction: on PostgreSQL the row stays locked until the commit, so
// catalog writers queue here only for the time of a commit.
func (t *Tx) CountChange() (int64, error) {
	var n []int64
	if err := t.db.Raw("UPDATE catalog_changes SET n = n + 1 WHERE id = 1 RETURNING n").Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count catalog change: %w", err)
	}
	if len(n) != 1 {
		return 0, fmt.Errorf("count catalog change: catalog_changes has no row")
	}
	return n[0], nil
}

// Changes is the count of catalog writes so far (one primary-key read).
func (s *Store) Changes(ctx context.Context) (int64, error) {
	var n []int64
	if err := s.h.Conn(ctx).Raw("SELECT n FROM catalog_changes WHERE id = 1").Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("read catalog changes: %w", err)
	}
	if len(n) != 1 {
		return 0, fmt.Errorf("read catalog changes: catalog_changes has no row")
	}
	return n[0], nil
}
