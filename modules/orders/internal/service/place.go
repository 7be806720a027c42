package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/domain"
	"github.com/modshop/modshop/modules/orders/internal/store"
	payments "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/errs"
)

// callTimeout bounds each call to another module, so a step never outlives
// its placement's lease.
const callTimeout = 10 * time.Second

// PlaceRequest is the body of an order request.
type PlaceRequest struct {
	CheckoutID    string `json:"checkout_id"`
	PaymentMethod string `json:"payment_method"`
}

// Reply is the answer to an order request: the order (201), or the error
// that ended it. Replayed is true when it is the stored answer of an earlier
// request with the same key.
type Reply struct {
	Status   int
	Order    *api.Order
	Err      error
	Replayed bool
}

// storedError is an error as a placement keeps it, to answer it again.
type storedError struct {
	ID      string            `json:"id,omitempty"` // the api error's identity (errs.Restore)
	Kind    errs.Kind         `json:"kind"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  []errs.FieldError `json:"fields,omitempty"`
	Extra   map[string]any    `json:"extra,omitempty"`
}

// PlaceOrder runs the placement saga for one request of a caller
// (customerID, or "" for a guest) with an Idempotency-Key:
//
//  1. record the request and take the checkout (one transaction);
//  2. authorize the payment;
//  3. commit the reservation (the stock is sold);
//  4. write the order, complete the checkout and store the answer (one
//     transaction, with the order_placed event).
//
// A crash leaves the placement unfinished; once its lease has run out, the
// caller's retry or the recovery worker finishes it from its last recorded
// step, or undoes what it did (voids the authorization) when it cannot
// finish. The error result is for answers that are not stored: the key may
// be used again (request in progress, key reused, a dependency down).
func (s *Service) PlaceOrder(ctx context.Context, customerID, key string, req PlaceRequest) (Reply, error) {
	if err := domain.CheckKey(key); err != nil {
		return Reply{}, err
	}
	var fe errs.Fields
	fe.Check(req.CheckoutID != "" && len(req.CheckoutID) <= 100, "checkout_id", "is required (at most 100 characters)")
	fe.Check(req.PaymentMethod != "" && len(req.PaymentMethod) <= 100, "payment_method", "is required (at most 100 characters)")
	if err := fe.Err(); err != nil {
		return Reply{}, err
	}
	// A customer's keys are the customer's; a guest's are the checkout's
	// (its id is the guest's capability), so one guest can neither replay
	// nor use up another's key.
	scope := "guest:" + req.CheckoutID
	var owner *string
	if customerID != "" {
		scope, owner = "customer:"+customerID, &customerID
	}
	now := s.now()
	p := store.Placement{ID: domain.NewID("pl_"), Scope: scope, Key: key, RequestHash: domain.RequestHash(req.CheckoutID, req.PaymentMethod),
		CheckoutID: req.CheckoutID, Method: req.PaymentMethod, CustomerID: owner, Step: store.StepNew,
		LeaseUntil: now.Add(s.opt.Lease), CreatedAt: now, UpdatedAt: now}
	p.PaymentID = "pay_" + p.ID[len("pl_"):]
	p.OrderID = "ord_" + p.ID[len("pl_"):]

	var existing *store.Placement
	var claimed *store.Checkout
	var early error
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		inserted, err := tx.InsertPlacement(p)
		if err != nil {
			return err
		}
		if !inserted {
			got, err := tx.GetPlacementByKey(scope, key)
			existing = &got
			return err
		}
		// The usual case costs one statement: the claim succeeds.
		c, ok, err := tx.ClaimOpenCheckout(req.CheckoutID, customerID, p.ID, now)
		if err != nil || ok {
			claimed = &c
			return err
		}
		c, err = tx.GetCheckout(req.CheckoutID)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !owns(c.CustomerID, customerID)):
			early = api.ErrCheckoutNotFound
		case err != nil:
			return err
		case c.Status == string(api.CheckoutCompleted):
			early = api.ErrCheckoutCompleted
		case c.Status == string(api.CheckoutExpired) || !now.Before(c.ExpiresAt):
			early = api.ErrCheckoutExpired
		default:
			return errCartBusy // another placement holds it; roll back: the key stays unused
		}
		_, err = tx.FinishPlacement(p.ID, errs.As(early).Kind.Status(), encodeError(early), now)
		return err
	})
	switch {
	case errors.Is(err, errCartBusy):
		return Reply{}, api.ErrRequestInProgress
	case err != nil:
		return Reply{}, fmt.Errorf("record order request: %w", err)
	case existing != nil:
		return s.again(ctx, *existing, p.RequestHash)
	case early != nil:
		return Reply{Status: errs.As(early).Kind.Status(), Err: early}, nil
	}
	s.step(AfterClaim)
	return s.run(ctx, p, claimed)
}

// again answers a request whose key was used before.
func (s *Service) again(ctx context.Context, p store.Placement, hash string) (Reply, error) {
	if p.RequestHash != hash {
		return Reply{}, api.ErrIdempotencyKeyReused
	}
	if p.Step == store.StepDone {
		r, err := s.decodeReply(p)
		r.Replayed = true
		return r, err
	}
	now := s.now()
	var leased bool
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		leased, err = tx.LeasePlacement(p.ID, now, now.Add(s.opt.Lease))
		return err
	})
	if err != nil {
		return Reply{}, fmt.Errorf("lease placement: %w", err)
	}
	if !leased {
		// Another request with this key is running, or it just finished.
		cur, err := s.store.GetPlacement(ctx, p.ID)
		if err == nil && cur.Step == store.StepDone {
			r, err := s.decodeReply(cur)
			r.Replayed = true
			return r, err
		}
		return Reply{}, api.ErrRequestInProgress
	}
	s.step(AfterResume)
	return s.run(ctx, p, nil)
}

// run carries a leased placement on from its recorded step to its end. The
// checkout is the one the placement has just claimed, or nil: then it is
// read.
func (s *Service) run(ctx context.Context, p store.Placement, claimed *store.Checkout) (Reply, error) {
	if claimed == nil {
		c, err := s.store.GetCheckout(ctx, p.CheckoutID)
		if err != nil {
			return s.pause(p, fmt.Errorf("read checkout %s: %w", p.CheckoutID, err))
		}
		claimed = &c
	}
	c := *claimed
	if c.PlacingID == nil || *c.PlacingID != p.ID {
		if c.OrderID != nil && *c.OrderID == p.OrderID {
			// Another runner of this placement, whose lease ran out while
			// it ran, wrote its order meanwhile: the answer is stored, and
			// the payment is the order's.
			return s.stored(ctx, p)
		}
		// The placement does not hold its checkout: it has been finished
		// by someone else; nothing of it may go on.
		return s.abandon(ctx, p, c, checkoutError(c))
	}
	var authorized *payments.Payment
	switch {
	case p.Step != store.StepNew:
	case !s.now().Before(c.ExpiresAt):
		// Past its time a checkout is not paid for. But a runner that died
		// after the authorization may have sold the stock too, and then the
		// order is owed: with an authorization, the commit below tells (a
		// no-op for stock sold, a refusal for stock given back).
		pay, err := s.payment(ctx, p.PaymentID)
		switch {
		case err != nil && !errors.Is(err, payments.ErrNotFound):
			return s.pause(p, err)
		case err != nil || pay.Status != payments.StatusAuthorized:
			return s.abandon(ctx, p, c, api.ErrCheckoutExpired)
		}
		authorized = &pay
	default:
		pay, err := s.authorize(ctx, p, c)
		switch {
		case err != nil && transient(err):
			return s.pause(p, err)
		case err != nil:
			// Declined or refused: nothing to undo; the checkout stays open
			// until it expires, for another try with another method.
			return s.finish(ctx, p, c, false, err)
		}
		// Not recorded here: payments keeps the authorization, and a
		// resumed placement asks for it again (idempotent by the payment
		// id), so a record would cost a commit and tell nothing new.
		authorized = &pay
		s.step(AfterAuthorize)
	}
	// The payment is authorized: sell the stock, then write the order.
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	err := s.deps.Inventory.Commit(cctx, c.ReservationID)
	cancel()
	switch {
	case err != nil && transient(err):
		return s.pause(p, err)
	case err != nil:
		// The reservation expired or was released: the stock is gone, so
		// the authorization is given back.
		return s.abandon(ctx, p, c, api.ErrCheckoutExpired)
	}
	s.step(AfterCommit)
	if authorized == nil {
		pay, err := s.payment(ctx, p.PaymentID)
		if err != nil {
			return s.pause(p, err)
		}
		authorized = &pay
	}
	reply, err := s.writeOrder(ctx, p, c, *authorized)
	if err != nil {
		return s.pause(p, err)
	}
	s.step(AfterOrderSaved)
	return reply, nil
}

func (s *Service) authorize(ctx context.Context, p store.Placement, c store.Checkout) (payments.Payment, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return s.deps.Payments.Authorize(cctx, payments.AuthorizeRequest{ID: p.PaymentID, Reference: c.ID, Amount: c.Total,
		Currency: c.Currency, Method: p.Method})
}

func (s *Service) payment(ctx context.Context, id string) (payments.Payment, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return s.deps.Payments.Payment(cctx, id)
}

// writeOrder is the last step, one transaction: the order, the checkout
// completed, the answer stored and order_placed published.
func (s *Service) writeOrder(ctx context.Context, p store.Placement, c store.Checkout, pay payments.Payment) (Reply, error) {
	now := s.now()
	o := store.Order{ID: p.OrderID, CheckoutID: c.ID, CartID: c.CartID, CustomerID: c.CustomerID, Status: string(api.StatusPlaced),
		Email: c.Email, ShippingAddress: c.ShippingAddress, Lines: c.Lines, Subtotal: c.Subtotal, Shipping: c.Shipping, Total: c.Total,
		Currency: c.Currency, ReservationID: c.ReservationID, PaymentID: p.PaymentID, PaymentStatus: string(api.PaymentAuthorized),
		PaymentBrand: pay.Brand, CreatedAt: now, UpdatedAt: now}
	var token *string
	if c.CustomerID == nil {
		// Derived, not stored: the stored answer holds no token, and a
		// replay derives it again (decodeReply).
		t := domain.GuestToken(s.opt.GuestTokenKey, o.ID)
		h := domain.HashToken(t)
		token, o.GuestTokenHash = &t, &h
	}
	var out api.Order
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.CompleteCheckout(c.ID, p.ID, o.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("checkout %s is no longer held by placement %s", c.ID, p.ID)
		}
		if err := tx.InsertOrder(&o); err != nil {
			return err
		}
		if out, err = o.API(); err != nil {
			return err
		}
		body, err := json.Marshal(out) // without the guest token: only its hash is kept
		if err != nil {
			return err
		}
		out.GuestToken = token
		if _, err := tx.FinishPlacement(p.ID, http.StatusCreated, body, now); err != nil {
			return err
		}
		return tx.Publish(api.OrderPlaced{OrderID: o.ID, Number: out.Number, CartID: c.CartID, CustomerID: c.CustomerID, Email: c.Email,
			Lines: orderLines(out.Lines), Total: out.Total, PaymentID: p.PaymentID, PlacedAt: now})
	})
	if err != nil {
		return Reply{}, fmt.Errorf("write order: %w", err)
	}
	return Reply{Status: http.StatusCreated, Order: &out}, nil
}

// stored answers a placement another runner finished.
func (s *Service) stored(ctx context.Context, p store.Placement) (Reply, error) {
	cur, err := s.store.GetPlacement(ctx, p.ID)
	if err != nil {
		return s.pause(p, fmt.Errorf("read placement %s: %w", p.ID, err))
	}
	if cur.Step != store.StepDone {
		return s.pause(p, fmt.Errorf("placement %s: its order is written but its answer is not", p.ID))
	}
	r, err := s.decodeReply(cur)
	r.Replayed = true
	return r, err
}

// abandon ends a placement that cannot become an order: its authorization
// (if any) is voided first, then the checkout is let go (expired when its
// stock is gone) and the answer stored.
func (s *Service) abandon(ctx context.Context, p store.Placement, c store.Checkout, cause error) (Reply, error) {
	if err := s.voidIfAuthorized(ctx, p); err != nil {
		return s.pause(p, err)
	}
	expire := errors.Is(cause, api.ErrCheckoutExpired)
	return s.finish(ctx, p, c, expire, cause)
}

// voidIfAuthorized gives up the placement's authorization, whatever step
// was recorded: a crash may have come between the authorization and its
// record.
func (s *Service) voidIfAuthorized(ctx context.Context, p store.Placement) error {
	pay, err := s.payment(ctx, p.PaymentID)
	switch {
	case errors.Is(err, payments.ErrNotFound):
		return nil // never asked for
	case err != nil:
		return err
	}
	if pay.Status == payments.StatusPending {
		// Asked, answer unknown: ask again (idempotent) to learn it.
		if pay, err = s.authorize(ctx, p, store.Checkout{ID: pay.Reference, Total: pay.Amount, Currency: pay.Currency}); err != nil && transient(err) {
			return err
		}
	}
	if pay.Status != payments.StatusAuthorized {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err = s.deps.Payments.Void(cctx, p.PaymentID)
	return err
}

// finish stores the placement's answer and lets go of its checkout.
func (s *Service) finish(ctx context.Context, p store.Placement, c store.Checkout, expire bool, cause error) (Reply, error) {
	status := errs.As(cause).Kind.Status()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if err := tx.ReleaseCheckout(c.ID, p.ID, expire, now); err != nil {
			return err
		}
		_, err := tx.FinishPlacement(p.ID, status, encodeError(cause), now)
		return err
	})
	if err != nil {
		return s.pause(p, fmt.Errorf("finish placement: %w", err))
	}
	if expire {
		s.release(c.ReservationID)
	}
	return Reply{Status: status, Err: cause}, nil
}

// pause leaves a placement unfinished after a failure that may pass (a
// module or the database down): its lease ends now, so the caller's retry
// with the same key, or the recovery worker, goes on from the recorded step.
func (s *Service) pause(p store.Placement, cause error) (Reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := s.store.InTx(ctx, func(tx *store.Tx) error { return tx.EndLease(p.ID, s.now()) }); err != nil {
		s.log.Warn("could not end a placement's lease; it ends on its own", "placement", p.ID, "err", err)
	}
	if e := errs.As(cause); e != nil && e.Kind != errs.KindInternal {
		return Reply{}, cause
	}
	return Reply{}, errs.Unavailable("the order could not be completed right now; retry with the same Idempotency-Key").WithCause(cause)
}

// checkoutError is the answer for a checkout that is no longer open for
// this placement.
func checkoutError(c store.Checkout) error {
	switch api.CheckoutStatus(c.Status) {
	case api.CheckoutCompleted:
		return api.ErrCheckoutCompleted
	case api.CheckoutExpired:
		return api.ErrCheckoutExpired
	}
	return api.ErrRequestInProgress
}

func encodeError(err error) []byte {
	e := errs.As(err)
	if e == nil {
		e = errs.Internal(err)
	}
	b, _ := json.Marshal(storedError{ID: e.ID(), Kind: e.Kind, Code: e.Code, Message: e.Message, Fields: e.Fields, Extra: e.Extra})
	return b
}

func (s *Service) decodeReply(p store.Placement) (Reply, error) {
	if p.ResponseStatus == http.StatusCreated {
		var o api.Order
		if err := json.Unmarshal([]byte(p.ResponseBody), &o); err != nil {
			return Reply{}, fmt.Errorf("stored order of placement %s: %w", p.ID, err)
		}
		if o.CustomerID == nil && o.GuestToken == nil {
			// The guest's replay (same checkout, key and body) gets the
			// token again, derived as writeOrder derived it.
			t := domain.GuestToken(s.opt.GuestTokenKey, o.ID)
			o.GuestToken = &t
		}
		return Reply{Status: p.ResponseStatus, Order: &o}, nil
	}
	var se storedError
	if err := json.Unmarshal([]byte(p.ResponseBody), &se); err != nil {
		return Reply{}, fmt.Errorf("stored error of placement %s: %w", p.ID, err)
	}
	e := errs.New(se.Kind, se.Code, se.Message)
	e.Fields, e.Extra = se.Fields, se.Extra
	return Reply{Status: p.ResponseStatus, Err: errs.Restore(se.ID, e)}, nil
}

// orderLines are an order's lines as its events carry them.
func orderLines(lines []api.Line) []api.OrderLine {
	out := make([]api.OrderLine, len(lines))
	for i, l := range lines {
		out[i] = api.OrderLine{SKU: l.SKU, Quantity: l.Quantity}
	}
	return out
}

// inventoryLines are an order's lines as the inventory counts them.
func inventoryLines(lines []api.Line) []inventory.Line {
	out := make([]inventory.Line, len(lines))
	for i, l := range lines {
		out[i] = inventory.Line{SKU: l.SKU, Quantity: l.Quantity}
	}
	return out
}
