package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/domain"
	"github.com/modshop/modshop/modules/orders/internal/store"
	payments "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
)

// Reader is who reads or changes an order: a customer, a guest with the
// order's token, or an admin.
type Reader struct {
	CustomerID string
	GuestToken string
	Admin      bool
}

// may reports whether r may see the order. A customer's order answers its
// owner alone; a guest order answers its token.
func (r Reader) may(o store.Order) bool {
	switch {
	case r.Admin:
		return true
	case o.CustomerID != nil:
		return r.CustomerID != "" && *o.CustomerID == r.CustomerID
	default:
		return o.GuestTokenHash != nil && r.GuestToken != "" && domain.TokenMatches(r.GuestToken, *o.GuestTokenHash)
	}
}

// GetOrder returns an order its reader may see (else ErrOrderNotFound, so
// its existence is not revealed). A guest who gave the token sees it.
func (s *Service) GetOrder(ctx context.Context, id string, r Reader) (api.Order, error) {
	row, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !r.may(row)) {
		return api.Order{}, api.ErrOrderNotFound
	}
	if err != nil {
		return api.Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	o, err := row.API()
	if err == nil && row.CustomerID == nil && r.GuestToken != "" {
		o.GuestToken = &r.GuestToken
	}
	return o, err
}

// ListOrders pages through orders newest first: a customer's own
// (customerID set) or, for admins, all of them, optionally of one status.
func (s *Service) ListOrders(ctx context.Context, customerID, status, cursor string, limit int) ([]api.Order, *string, error) {
	var before int64
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, nil, errs.Invalid(errs.FieldError{Field: "cursor", Message: "is not a cursor this API gave out"})
		}
		before = n
	}
	if status != "" && !validStatus(api.Status(status)) {
		return nil, nil, errs.Invalid(errs.FieldError{Field: "status", Message: "must be placed, shipped, delivered, cancelled or refunded"})
	}
	rows, err := s.store.ListOrders(ctx, customerID, status, before, limit+1)
	if err != nil {
		return nil, nil, fmt.Errorf("list orders: %w", err)
	}
	var next *string
	if len(rows) > limit {
		rows = rows[:limit]
		c := strconv.FormatInt(rows[limit-1].Seq, 10)
		next = &c
	}
	out := make([]api.Order, len(rows))
	for i, r := range rows {
		if out[i], err = r.API(); err != nil {
			return nil, nil, err
		}
	}
	return out, next, nil
}

func validStatus(s api.Status) bool {
	for _, v := range domain.Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Apply runs a command on an order the reader may change: the transition
// and its events commit together with the side effects it asks for, which
// then run at once and, if they fail, again later (see RunEffects).
func (s *Service) Apply(ctx context.Context, id string, cmd domain.Command, r Reader, tracking *string) (api.Order, error) {
	row, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !r.may(row)) {
		return api.Order{}, api.ErrOrderNotFound
	}
	if err != nil {
		return api.Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	t, err := domain.Next(api.Status(row.Status), cmd)
	if err != nil {
		return api.Order{}, err
	}
	now := s.now()
	effects := make([]string, len(t.Effects))
	for i, e := range t.Effects {
		effects[i] = string(e)
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.Transition(id, t.From, t.To, tracking, now)
		if err != nil {
			return err
		}
		if !ok {
			return api.ErrInvalidState // another command changed it first
		}
		// The worker may retry the effects only once this request had its
		// chance to run them.
		if err := tx.InsertEffects(id, effects, now.Add(s.opt.Lease), now); err != nil {
			return err
		}
		return tx.Publish(s.event(row, t.To, tracking, now))
	})
	if err != nil {
		if errors.Is(err, api.ErrInvalidState) {
			return api.Order{}, err
		}
		return api.Order{}, fmt.Errorf("%s order %s: %w", cmd, id, err)
	}
	s.step(AfterTransition)
	if err := s.RunEffects(ctx, id); err != nil {
		s.log.Warn("order effects failed; they will be retried", "order", id, "err", err)
	}
	return s.GetOrder(ctx, id, Reader{Admin: true, GuestToken: r.GuestToken})
}

func (s *Service) event(o store.Order, to api.Status, tracking *string, now time.Time) events.Event {
	base := api.OrderChanged{OrderID: o.ID, Number: domain.Number(o.Seq), CustomerID: o.CustomerID, Status: to, PaymentID: o.PaymentID, At: now}
	switch to {
	case api.StatusCancelled:
		var lines []api.Line
		_ = json.Unmarshal([]byte(o.Lines), &lines)
		return api.OrderCancelled{OrderChanged: base, Lines: orderLines(lines)}
	case api.StatusShipped:
		e := api.OrderShipped{OrderChanged: base}
		if tracking != nil {
			e.TrackingNumber = *tracking
		}
		return e
	case api.StatusDelivered:
		return api.OrderDelivered{OrderChanged: base}
	default:
		return api.OrderRefunded{OrderChanged: base}
	}
}

// RunEffects runs an order's pending side effects in order, each
// idempotent, and stops at the first failure (a refund must not run before
// its capture). A failed effect is tried again later with backoff.
func (s *Service) RunEffects(ctx context.Context, orderID string) error {
	pending, err := s.store.PendingEffects(ctx, orderID)
	if err != nil || len(pending) == 0 {
		return err
	}
	row, err := s.store.GetOrder(ctx, orderID)
	if err != nil {
		return err
	}
	for _, e := range pending {
		paid, err := s.effect(ctx, row, domain.Effect(e.Effect))
		if err != nil {
			backoff := time.Duration(1<<min(e.Attempts, 8)) * time.Second
			_ = s.store.InTx(ctx, func(tx *store.Tx) error { return tx.DeferEffect(e.ID, s.now().Add(backoff), err.Error()) })
			return fmt.Errorf("%s of order %s: %w", e.Effect, orderID, err)
		}
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			done, err := tx.EffectDone(e.ID, s.now())
			if err != nil || !done || paid == "" {
				return err
			}
			return tx.SetPaymentStatus(orderID, paid, s.now())
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// effect runs one side effect; paid is what the payment became, if it is
// a payment effect.
func (s *Service) effect(ctx context.Context, o store.Order, e domain.Effect) (paid api.PaymentStatus, err error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var pay payments.Payment
	switch e {
	case domain.EffectCapture:
		pay, err = s.deps.Payments.Capture(cctx, o.PaymentID)
	case domain.EffectVoid:
		pay, err = s.deps.Payments.Void(cctx, o.PaymentID)
	case domain.EffectRefund:
		pay, err = s.deps.Payments.Refund(cctx, o.PaymentID)
	case domain.EffectRestock:
		var lines []api.Line
		if err := json.Unmarshal([]byte(o.Lines), &lines); err != nil {
			return "", err
		}
		return "", s.deps.Inventory.Restock(cctx, "restock_"+o.ID, inventoryLines(lines))
	default:
		return "", fmt.Errorf("unknown effect %q", e)
	}
	if err != nil {
		return "", err
	}
	return api.PaymentStatus(pay.Status), nil
}
