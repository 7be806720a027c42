package service

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/domain"
	"github.com/modshop/modshop/modules/inventory/internal/store"
	"github.com/modshop/modshop/platform/events"
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
	err := s.ob.Transact(ctx, func(tx *events.Tx) error {
		claimed, err := store.ExpireDue(tx.DB, s.db.Dialect, now, sweepBatch)
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
		if err := store.Record(tx.DB, ledger); err != nil {
			return err
		}
		for _, sku := range slices.Sorted(maps.Keys(sum)) {
			lvl, ok, err := store.Apply(tx.DB, sku, 0, -sum[sku], now)
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

// Sweeper runs ExpireDue in the background.
type Sweeper struct {
	svc    *Service
	every  time.Duration
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
}

// Sweeper makes the worker that expires reservations every interval.
func (s *Service) Sweeper(every time.Duration) *Sweeper {
	return &Sweeper{svc: s, every: every}
}

// Start runs the sweeper until Stop.
func (w *Sweeper) Start(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go w.run(ctx)
	return nil
}

func (w *Sweeper) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		if _, err := w.svc.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			w.svc.log.Warn("reservation sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the sweeper and waits for a sweep in progress.
func (w *Sweeper) Stop(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
