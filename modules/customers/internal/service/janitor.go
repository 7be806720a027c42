package service

import (
	"context"
	"errors"
	"time"

	"github.com/modshop/modshop/modules/customers/internal/store"
)

// SweepInterval is how often expired tokens and ended failure windows are
// deleted.
const SweepInterval = 10 * time.Minute

// Sweep deletes refresh tokens past their expiry, sessions left without
// tokens and failure counters whose window ended. Every process may run
// it; the deletes are idempotent.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		return errors.Join(tx.DeleteExpiredTokens(now), tx.DeleteEndedWindows(now), tx.DeleteForgottenDelays(now))
	})
}

// Janitor runs Sweep every SweepInterval until stopped.
type Janitor struct {
	svc  *Service
	stop context.CancelFunc
	done chan struct{}
}

// NewJanitor makes the background sweeper.
func NewJanitor(s *Service) *Janitor { return &Janitor{svc: s} }

// Start begins sweeping in the background.
func (j *Janitor) Start(ctx context.Context) error {
	ctx, j.stop = context.WithCancel(context.WithoutCancel(ctx))
	j.done = make(chan struct{})
	go j.run(ctx)
	return nil
}

func (j *Janitor) run(ctx context.Context) {
	defer close(j.done)
	t := time.NewTicker(SweepInterval)
	defer t.Stop()
	for {
		if err := j.svc.Sweep(ctx); err != nil && ctx.Err() == nil {
			j.svc.log.Warn("customers sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the sweeper and waits for it.
func (j *Janitor) Stop(ctx context.Context) error {
	if j.stop == nil {
		return nil
	}
	j.stop()
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
