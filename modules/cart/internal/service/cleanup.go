package service

import (
	"context"
	"fmt"
	"sync"
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

// Cleaner runs DeleteStale periodically.
type Cleaner struct {
	svc    *Service
	every  time.Duration
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Cleaner makes the worker that deletes stale carts every interval.
func (s *Service) Cleaner(every time.Duration) *Cleaner { return &Cleaner{svc: s, every: every} }

// Start runs the cleaner until Stop.
func (c *Cleaner) Start(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go c.run(ctx)
	return nil
}

func (c *Cleaner) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		if n, err := c.svc.DeleteStale(ctx); err != nil && ctx.Err() == nil {
			c.svc.log.Warn("stale cart cleanup failed", "err", err)
		} else if n > 0 {
			c.svc.log.Info("stale carts deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the cleaner and waits for a run in progress.
func (c *Cleaner) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
