package service

import (
	"context"
	"time"

	"github.com/modshop/modshop/modules/orders/internal/store"
)

// Recovery finishes what crashed or failed requests left behind: unfinished
// placements whose lease ran out (carried on or undone), order effects that
// failed (retried with backoff), and Idempotency-Keys past their time. Run
// is one pass of the background worker (module.go runs it periodically).
type Recovery struct {
	s         *Service
	lastPurge time.Time // Run's only; passes of one worker never overlap
}

// Recovery makes the worker's state.
func (s *Service) Recovery() *Recovery { return &Recovery{s: s} }

// Run does one Pass, and purges expired Idempotency-Keys if the last purge
// was more than an hour ago. Pass and purge log their own failures.
func (r *Recovery) Run(ctx context.Context) error {
	r.Pass(ctx)
	if now := r.s.clock.Now(); now.Sub(r.lastPurge) > time.Hour {
		r.purge(ctx)
		r.lastPurge = now
	}
	return nil
}

// Pass does one round of recovery; it returns how many placements and
// orders it worked on.
func (r *Recovery) Pass(ctx context.Context) int {
	s := r.s
	n := 0
	due, err := s.store.DuePlacements(ctx, s.now(), 50)
	if err != nil {
		s.log.Warn("recovery: list placements", "err", err)
	}
	for _, p := range due {
		now := s.now()
		var leased bool
		if err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
			leased, err = tx.LeasePlacement(p.ID, now, now.Add(s.opt.Lease))
			return err
		}); err != nil || !leased {
			continue
		}
		s.step(AfterResume)
		n++
		reply, err := s.run(ctx, p, nil)
		switch {
		case err != nil:
			s.log.Warn("recovery: placement still unfinished", "placement", p.ID, "err", err)
		case reply.Err != nil:
			s.log.Info("recovery: placement ended without an order", "placement", p.ID, "checkout", p.CheckoutID, "reason", reply.Err)
		default:
			s.log.Info("recovery: placement finished", "placement", p.ID, "order", p.OrderID)
		}
	}
	orders, err := s.store.DueEffectOrders(ctx, s.now(), 50)
	if err != nil {
		s.log.Warn("recovery: list order effects", "err", err)
	}
	for _, id := range orders {
		n++
		if err := s.RunEffects(ctx, id); err != nil {
			s.log.Warn("recovery: order effects failed", "order", id, "err", err)
		}
	}
	return n
}

// purge deletes finished placements whose keys have expired.
func (r *Recovery) purge(ctx context.Context) {
	s := r.s
	before := s.now().Add(-s.opt.KeyTTL)
	for ctx.Err() == nil {
		var n int64
		err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
			n, err = tx.PurgePlacements(before, 1000)
			return err
		})
		if err != nil {
			s.log.Warn("recovery: purge idempotency keys", "err", err)
			return
		}
		if n < 1000 {
			return
		}
	}
}
