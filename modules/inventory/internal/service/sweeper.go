package service

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/domain"
	"github.com/modshop/modshop/modules/inventory/internal/store"
)

// sweepBatch is how many reservations one sweep transaction expires.
const sweepBatch = 100

// ExpireDue gives back the stock of every reservation whose TTL has passed
// and reports how many it expired.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.expireBatch(ctx)
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

// expireBatch expires one batch in one transaction. The batch's quantities
// are summed per SKU and applied in SKU order, like every other writer, so
// the sweep cannot deadlock with a Reserve.
func (s *Service) expireBatch(ctx context.Context) (int, error) {
	now := s.clock.Now()
	var n int
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		claimed, err := tx.ExpireDue(now, sweepBatch)
		if err != nil {
			return err
		}
		n = len(claimed)
		sum := map[string]int64{}
		var ledger []store.Entry
		for _, c := range claimed {
			for _, l := range c.Lines {
				sum[l.SKU] += l.Quantity
			}
			ledger = append(ledger, entries(c.Lines, 0, -1, domain.ReasonExpire, "system", c.ID, now)...)
			if err := tx.Publish(api.ReservationExpired{ReservationID: c.ID, Lines: c.Lines, ExpiredAt: now}); err != nil {
				return err
			}
		}
		if err := tx.Record(ledger); err != nil {
			return err
		}
		for _, sku := range slices.Sorted(maps.Keys(sum)) {
			lvl, ok, err := tx.Apply(sku, 0, -sum[sku], now)
			if err != nil {
				return err
			}
			if ok {
				if err := tx.Publish(lvl.Event()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire reservations: %w", err)
	}
	return n, nil
}
