package service

import (
	"context"
	"fmt"
	"time"

	"github.com/modshop/modshop/modules/cart/internal/store"
)

// StaleAfter is how long a cart may stay untouched before it is deleted.
const StaleAfter = 30 * 24 * time.Hour

const cleanupBatch = 500

// DeleteStale deletes every cart untouched for StaleAfter, in batches, and
// reports how many.
func (s *Service) DeleteStale(ctx context.Context) (int, error) {
	before := s.clock.Now().Add(-StaleAfter)
	total := 0
	for {
		var n int
		err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
			n, err = tx.DeleteStale(before, cleanupBatch)
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("delete stale carts: %w", err)
		}
		if n < cleanupBatch {
			return total, nil
		}
	}
}
