// Package service is the payments module's use cases: it implements
// api.Payments over a provider.Provider.
//
// A call that reaches the provider runs in three steps, never holding a
// database transaction across the provider's answer: it claims or reads the
// payment, asks the provider with an idempotency key derived from the
// payment id and the command ("authorize:<id>", "capture:<id>", ...), and
// then records the answer with a conditional UPDATE, its history step and
// its event in one transaction. A crash or a provider outage between the
// two leaves the payment where it was (pending, or authorized before a
// capture); the next call with the same id asks the provider again with the
// same key, so the provider answers what it did the first time instead of
// charging twice, and the answer is recorded then. When two callers race,
// the conditional UPDATE lets exactly one of them record the move; the
// other reads the payment back and answers from it, so both answer alike.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/modules/payments/internal/domain"
	"github.com/modshop/modshop/modules/payments/internal/provider"
	"github.com/modshop/modshop/modules/payments/internal/store"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
)

// recordTimeout bounds recording an answer the provider already gave, once
// the caller has gone: an approved authorization is worth writing down even
// when nobody waits for it any more.
const recordTimeout = 10 * time.Second

// Service is the payments module.
type Service struct {
	store    *store.Store
	provider provider.Provider
	clock    clock.Clock
	log      *slog.Logger
}

var _ api.Payments = (*Service)(nil)

// New makes the service.
func New(ob *events.Outbox, p provider.Provider, c clock.Clock, log *slog.Logger) *Service {
	return &Service{store: store.New(ob), provider: p, clock: clock.Or(c), log: log}
}

// Authorize claims the payment id with a pending payment, asks the provider
// and records its answer; a retry resumes a pending payment and answers a
// finished one as it is.
func (s *Service) Authorize(ctx context.Context, req api.AuthorizeRequest) (api.Payment, error) {
	if err := domain.CheckAuthorize(req); err != nil {
		return api.Payment{}, err
	}
	if err := s.provider.CheckMethod(req.Method); err != nil {
		if errors.Is(err, provider.ErrUnknownMethod) {
			return api.Payment{}, domain.UnknownMethod()
		}
		return api.Payment{}, s.unavailable("check method", req.ID, err)
	}
	p, err := s.claim(ctx, req)
	if err != nil {
		return api.Payment{}, err
	}
	if p.Status == api.StatusPending {
		if p, err = s.resolve(ctx, p); err != nil {
			return api.Payment{}, err
		}
	}
	return authorizeAnswer(p)
}

// claim inserts the pending payment, or reads the one that holds its id
// already and checks that it was made by the same request.
func (s *Service) claim(ctx context.Context, req api.AuthorizeRequest) (api.Payment, error) {
	// A payment found missing after the insert lost was deleted meanwhile
	// (its method turned out unknown): claim the id again, a bounded number
	// of times.
	for range 3 {
		now := s.now()
		p := api.Payment{ID: req.ID, Reference: req.Reference, Amount: req.Amount, Currency: req.Currency, Method: req.Method,
			Status: api.StatusPending, Provider: s.provider.Name(), History: []api.StatusChange{{Status: api.StatusPending, At: now}},
			CreatedAt: now, UpdatedAt: now}
		// One statement: no transaction around it.
		inserted, err := s.store.Insert(ctx, p)
		if err != nil {
			return api.Payment{}, fmt.Errorf("authorize %s: %w", req.ID, err)
		}
		if inserted {
			return p, nil
		}
		existing, err := s.store.Get(ctx, req.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return api.Payment{}, fmt.Errorf("authorize %s: %w", req.ID, err)
		}
		if !domain.SameRequest(existing, req) {
			return api.Payment{}, api.ErrMismatch
		}
		return existing, nil
	}
	return api.Payment{}, errs.Internal(fmt.Errorf("authorize %s: the id was taken and freed three times over", req.ID))
}

// resolve asks the provider for the outcome of a pending payment's
// authorization and records it. It returns the payment as it then is:
// authorized or failed, by this call or by a concurrent one (or, if that one
// was quick, already further along).
func (s *Service) resolve(ctx context.Context, p api.Payment) (api.Payment, error) {
	if err := s.sameProvider(p); err != nil {
		return api.Payment{}, err
	}
	a, err := s.provider.Authorize(ctx, opKey("authorize", p.ID), p.Amount, p.Currency, p.Method)
	o := store.Outcome{Status: api.StatusAuthorized, Brand: a.Brand, ProviderRef: a.Ref}
	if code, declined := provider.Declined(err); declined {
		o = store.Outcome{Status: api.StatusFailed, DeclineCode: code}
	} else if errors.Is(err, provider.ErrUnknownMethod) {
		return api.Payment{}, s.forget(ctx, p.ID)
	} else if err != nil {
		return api.Payment{}, s.unavailable("authorize", p.ID, err)
	}
	ctx, cancel := recordContext(ctx)
	defer cancel()
	now := s.now()
	var got api.Payment
	var moved bool
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if got, moved, err = tx.Resolve(p.ID, o, now); err != nil || !moved {
			return err
		}
		return publish(tx, got, now)
	})
	if err != nil {
		return api.Payment{}, fmt.Errorf("record authorization of %s: %w", p.ID, err)
	}
	if !moved {
		return s.Payment(ctx, p.ID)
	}
	return got, nil
}

// forget deletes a pending payment whose method the provider turned out not
// to know (after CheckMethod let it through), so nothing stays stored, and
// answers the 422.
func (s *Service) forget(ctx context.Context, id string) error {
	ctx, cancel := recordContext(ctx)
	defer cancel()
	if err := s.store.DeletePending(ctx, id); err != nil {
		return fmt.Errorf("forget payment %s: %w", id, err)
	}
	return domain.UnknownMethod()
}

// authorizeAnswer is what Authorize answers for a payment whose
// authorization has an outcome.
func authorizeAnswer(p api.Payment) (api.Payment, error) {
	switch domain.Reauthorize(p.Status) {
	case domain.Done:
		return p, nil
	case domain.Refuse:
		return api.Payment{}, api.ErrDeclined.With("decline_code", p.DeclineCode)
	default: // still pending: resolve records an outcome or fails
		return api.Payment{}, errs.Internal(fmt.Errorf("payment %s is still pending after its authorization", p.ID))
	}
}

// Capture takes an authorized payment's amount.
func (s *Service) Capture(ctx context.Context, id string) (api.Payment, error) {
	return s.settle(ctx, id, domain.Capture)
}

// Void gives an authorization up.
func (s *Service) Void(ctx context.Context, id string) (api.Payment, error) {
	return s.settle(ctx, id, domain.Void)
}

// Refund pays a captured payment back.
func (s *Service) Refund(ctx context.Context, id string) (api.Payment, error) {
	return s.settle(ctx, id, domain.Refund)
}

// settle runs a command on a payment: it answers a payment that is there
// already as it is, refuses one whose status does not allow it, resolves a
// pending authorization first, and otherwise asks the provider and records
// the move. A move lost to a concurrent caller reads the payment again and
// decides anew.
func (s *Service) settle(ctx context.Context, id string, c domain.Command) (api.Payment, error) {
	p, err := s.Payment(ctx, id)
	if err != nil {
		return api.Payment{}, err
	}
	// Every round that does not answer moves the payment one step along its
	// life, which has three: four rounds always end in an answer.
	for range 4 {
		switch domain.Decide(p.Status, c) {
		case domain.Done:
			return p, nil
		case domain.Refuse:
			return api.Payment{}, api.ErrInvalidState.WithCause(fmt.Errorf("%s payment %s: it is %s", c, id, p.Status))
		case domain.Resolve:
			if p, err = s.resolve(ctx, p); err != nil {
				return api.Payment{}, err
			}
		case domain.Apply:
			if p, err = s.apply(ctx, p, c); err != nil {
				return api.Payment{}, err
			}
		}
	}
	return api.Payment{}, errs.Internal(fmt.Errorf("%s payment %s: no answer after four rounds (status %s)", c, id, p.Status))
}

// apply asks the provider to carry out c and records the move; it returns
// the payment as it then is, moved by this call or by a concurrent one.
func (s *Service) apply(ctx context.Context, p api.Payment, c domain.Command) (api.Payment, error) {
	if err := s.sameProvider(p); err != nil {
		return api.Payment{}, err
	}
	key := opKey(string(c), p.ID)
	var err error
	switch c {
	case domain.Capture:
		err = s.provider.Capture(ctx, key, p.ProviderRef, p.Amount)
	case domain.Void:
		err = s.provider.Void(ctx, key, p.ProviderRef)
	case domain.Refund:
		err = s.provider.Refund(ctx, key, p.ProviderRef, p.Amount)
	}
	if err != nil {
		return api.Payment{}, s.unavailable(string(c), p.ID, err)
	}
	ctx, cancel := recordContext(ctx)
	defer cancel()
	now := s.now()
	var got api.Payment
	var moved bool
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if got, moved, err = tx.Move(p.ID, p.Status, c.Target(), now); err != nil || !moved {
			return err
		}
		return publish(tx, got, now)
	})
	if err != nil {
		return api.Payment{}, fmt.Errorf("record %s of %s: %w", c, p.ID, err)
	}
	if !moved {
		return s.Payment(ctx, p.ID)
	}
	return got, nil
}

// Payment reads one payment.
func (s *Service) Payment(ctx context.Context, id string) (api.Payment, error) {
	p, err := s.store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Payment{}, api.ErrNotFound
	}
	if err != nil {
		return api.Payment{}, fmt.Errorf("read payment %s: %w", id, err)
	}
	return p, nil
}

// List pages through payments newest first, those of a reference only when
// it is not empty, after the key given (nil: from the newest).
func (s *Service) List(ctx context.Context, reference string, after *store.Key, limit int) ([]api.Payment, error) {
	ps, err := s.store.List(ctx, reference, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	return ps, nil
}

// sameProvider refuses to ask this process's provider about a payment
// another provider made: its references would mean nothing there.
func (s *Service) sameProvider(p api.Payment) error {
	if p.Provider != s.provider.Name() {
		return errs.Internal(fmt.Errorf("payment %s belongs to provider %q; this process runs %q", p.ID, p.Provider, s.provider.Name()))
	}
	return nil
}

// unavailable is the answer when the provider did not answer (or not in
// time): the payment stays as it was, and the same call again finishes it.
func (s *Service) unavailable(op, id string, err error) error {
	s.log.Warn("payment provider failed; the payment stays as it was", "op", op, "payment", id, "err", err)
	return errs.Unavailable("the payment provider did not answer; call again with the same payment id").
		WithCause(fmt.Errorf("%s %s: %w", op, id, err))
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// opKey is the provider's idempotency key of an operation on a payment.
func opKey(op, id string) string { return op + ":" + id }

// recordContext keeps ctx's values but not its cancellation, bounded by
// recordTimeout.
func recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// publish writes the integration event of a payment that has just moved.
func publish(tx *store.Tx, p api.Payment, at time.Time) error {
	e := api.PaymentEvent{PaymentID: p.ID, Reference: p.Reference, Amount: p.Amount, Currency: p.Currency,
		Brand: p.Brand, Status: p.Status, DeclineCode: p.DeclineCode, At: at}
	switch p.Status {
	case api.StatusAuthorized:
		return tx.Publish(api.PaymentAuthorized{PaymentEvent: e})
	case api.StatusCaptured:
		return tx.Publish(api.PaymentCaptured{PaymentEvent: e})
	case api.StatusVoided:
		return tx.Publish(api.PaymentVoided{PaymentEvent: e})
	case api.StatusRefunded:
		return tx.Publish(api.PaymentRefunded{PaymentEvent: e})
	case api.StatusFailed:
		return tx.Publish(api.PaymentFailed{PaymentEvent: e})
	}
	return fmt.Errorf("payments: no event for status %q", p.Status) // a bug: no move ends pending
}
