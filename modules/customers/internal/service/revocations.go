package service

import (
	"context"
	"time"
)

// RevocationInterval is how often a process reloads the revoked sessions:
// an access token of a session revoked on another process (logout, a
// replayed refresh token) is refused here at most this much later.
const RevocationInterval = time.Second

// LoadRevocations gives the access-token keys the sessions revoked within
// an access token's life (AccessTokenTTL, and a minute of leeway): older
// revocations cannot matter, since their tokens have expired.
func (s *Service) LoadRevocations(ctx context.Context) error {
	ids, err := s.store.RevokedSince(ctx, s.now().Add(-AccessTokenTTL-time.Minute))
	if err != nil {
		return err
	}
	s.keys.SetRevoked(ids)
	return nil
}

// Revocations reloads the revoked sessions every RevocationInterval until
// stopped; Start loads them once before the process serves.
type Revocations struct {
	svc  *Service
	stop context.CancelFunc
	done chan struct{}
}

// NewRevocations makes the reloader.
func NewRevocations(s *Service) *Revocations { return &Revocations{svc: s} }

// Start loads the revoked sessions, then reloads them in the background.
func (r *Revocations) Start(ctx context.Context) error {
	if err := r.svc.LoadRevocations(ctx); err != nil {
		return err
	}
	ctx, r.stop = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(RevocationInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.svc.LoadRevocations(ctx); err != nil && ctx.Err() == nil {
					r.svc.log.Warn("reload revoked sessions", "err", err)
				}
			}
		}
	}()
	return nil
}

// Stop ends the reloads.
func (r *Revocations) Stop(context.Context) error {
	if r.stop != nil {
		r.stop()
		<-r.done
	}
	return nil
}
