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
