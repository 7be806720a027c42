// Package service is the inventory's use cases: it implements api.Inventory
// and api.Admin, keeps levels in step with the catalog's SKUs and expires
// reservations.
//
// Each change is one short transaction that writes the level, its ledger
// entries and its events together (the outbox), so the three never
// disagree. Level rows are always taken in SKU order, so two transactions
// never wait for each other in a cycle.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/domain"
	"github.com/modshop/modshop/modules/inventory/internal/store"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/idempotency"
)

// Service is the inventory module.
type Service struct {
	store *store.Store
	clock clock.Clock
	ttl   time.Duration
	log   *slog.Logger
	batch *holdBatcher
	// catalog answers whether a SKU exists, for Receive (see UseCatalog).
	catalog catalog.Catalog
}

var (
	_ api.Inventory = (*Service)(nil)
	_ api.Admin     = (*Service)(nil)
)

// New makes the service; ttl is the default reservation lifetime.
func New(ob *events.Outbox, c clock.Clock, ttl time.Duration, log *slog.Logger) *Service {
	s := &Service{store: store.New(ob), clock: clock.Or(c), ttl: ttl, log: log}
	s.batch = newHoldBatcher(s)
	return s
}

// Consumer creates a level for every SKU the catalog announces.
func (s *Service) Consumer(ob *events.Outbox) events.Consumer {
	return ob.Consumer("levels", events.OnBatch(func(ctx context.Context, tx *events.Tx, es []catalog.VariantCreated) error {
		skus := make([]string, len(es))
		for i, e := range es {
			skus[i] = e.SKU
		}
		created, err := s.store.Join(tx).CreateLevels(skus, s.clock.Now())
		if err != nil {
			return fmt.Errorf("create levels of %d skus: %w", len(skus), err)
		}
		for _, lvl := range created { // a SKU the catalog announced again is not among them
			if err := tx.Publish(lvl.Event()); err != nil {
				return err
			}
		}
		return nil
	}))
}

// Availability returns the levels of the SKUs it knows.
func (s *Service) Availability(ctx context.Context, skus []string) (map[string]api.Level, error) {
	uniq := slices.Compact(slices.Sorted(slices.Values(skus)))
	rows, err := s.store.GetLevels(ctx, uniq)
	if err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	out := make(map[string]api.Level, len(rows))
	for _, r := range rows {
		out[r.SKU] = r.API()
	}
	return out, nil
}

// errShort ends a Reserve transaction whose line could not be held.
var errShort = errors.New("not enough stock")

// Reserve holds stock for every line or for none. A one-line reservation
// joins its SKU's batch (see holdBatcher); others, and those the batch sends
// back, take a transaction of their own.
func (s *Service) Reserve(ctx context.Context, id string, lines []api.Line, ttl time.Duration) (api.Reservation, error) {
	if err := checkID("reservation_id", id); err != nil {
		return api.Reservation{}, err
	}
	norm, err := domain.NormalizeLines(lines)
	if err != nil {
		return api.Reservation{}, err
	}
	if ttl <= 0 {
		ttl = s.ttl
	}
	// PostgreSQL keeps microseconds: a retry that reads the reservation back
	// then answers exactly what the first call did.
	now := s.clock.Now().Truncate(time.Microsecond)
	r := api.Reservation{ID: id, Status: api.StatusActive, Lines: norm, ExpiresAt: now.Add(ttl), CreatedAt: now}
	if len(norm) == 1 {
		alone, err := s.batch.reserve(ctx, r, actorOf(ctx))
		switch {
		case err != nil:
			return api.Reservation{}, err
		case !alone:
			return r, nil
		}
	}
	return s.reserveAlone(ctx, r)
}

// reserveAlone holds stock for one reservation in a transaction of its own.
func (s *Service) reserveAlone(ctx context.Context, r api.Reservation) (api.Reservation, error) {
	var existing *api.Reservation
	var short string
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		// Claiming the id first makes a retry cost one insert, and keeps the
		// hot level row locked only from its UPDATE to the commit.
		inserted, err := tx.InsertReservation(r)
		if err != nil {
			return err
		}
		if !inserted {
			got, err := tx.GetReservation(r.ID)
			existing = &got
			return err
		}
		if err := tx.RecordWithoutIDs(entries(r.Lines, 0, 1, domain.ReasonReserve, actorOf(ctx), r.ID, r.CreatedAt)); err != nil {
			return err
		}
		levels, err := tx.HoldLines(r.Lines, r.CreatedAt)
		if err != nil {
			return err
		}
		if short = store.Missing(r.Lines, levels); short != "" {
			return errShort
		}
		return publishLevels(tx, levels)
	})
	switch {
	case errors.Is(err, errShort):
		return api.Reservation{}, s.outOfStock(ctx, r.Lines, short)
	case err != nil:
		return api.Reservation{}, wrap("reserve", r.ID, err)
	case existing != nil:
		return s.repeatedReserve(*existing, r.Lines)
	}
	return r, nil
}

// repeatedReserve answers a Reserve whose id exists already.
func (s *Service) repeatedReserve(r api.Reservation, lines []api.Line) (api.Reservation, error) {
	if !domain.SameLines(r.Lines, lines) {
		return api.Reservation{}, api.ErrReservationMismatch
	}
	if err := domain.ReserveOutcome(r.Status); err != nil {
		return api.Reservation{}, err
	}
	return r, nil
}

// outOfStock builds the error that names every line short of stock now. The
// failed transaction rolled back, so this reads committed levels; if stock
// arrived meanwhile the line that failed is still named.
func (s *Service) outOfStock(ctx context.Context, lines []api.Line, failed string) error {
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	levels, err := s.Availability(ctx, skus)
	if err != nil {
		return err
	}
	var short []api.Unavailable
	for _, l := range lines {
		if avail := levels[l.SKU].Available; avail < l.Quantity || l.SKU == failed {
			short = append(short, api.Unavailable{SKU: l.SKU, Requested: l.Quantity, Available: avail})
		}
	}
	return api.OutOfStock(short)
}

// Commit turns a reservation into a sale.
func (s *Service) Commit(ctx context.Context, id string) error {
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		lines, ok, err := tx.Finish(id, api.StatusCommitted, now, &now)
		if err != nil {
			return err
		}
		if !ok {
			return s.settled(tx, id, domain.CommitOutcome)
		}
		return s.apply(tx, lines, -1, -1, domain.ReasonCommit, actorOf(ctx), id, now)
	})
	return wrap("commit", id, err)
}

// Release gives a reservation's stock back.
func (s *Service) Release(ctx context.Context, id string) error {
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		lines, ok, err := tx.Finish(id, api.StatusReleased, now, nil)
		if err != nil {
			return err
		}
		if !ok {
			return s.settled(tx, id, domain.ReleaseOutcome)
		}
		return s.apply(tx, lines, 0, -1, domain.ReasonRelease, actorOf(ctx), id, now)
	})
	return wrap("release", id, err)
}

// settled answers a Commit or Release of a reservation that is not active.
func (s *Service) settled(tx *store.Tx, id string, outcome func(api.ReservationStatus) error) error {
	r, err := tx.GetReservation(id)
	if errors.Is(err, store.ErrNotFound) {
		return api.ErrReservationNotFound
	}
	if err != nil {
		return err
	}
	return outcome(r.Status)
}

// apply changes the levels of lines by sign × quantity (on_hand, reserved),
// records the ledger and publishes each new level.
func (s *Service) apply(tx *store.Tx, lines []api.Line, onHand, reserved int64, reason, actor, ref string, now time.Time) error {
	if err := tx.RecordWithoutIDs(entries(lines, onHand, reserved, reason, actor, ref, now)); err != nil {
		return err
	}
	levels, err := tx.ApplyLines(lines, onHand, reserved, now)
	if err != nil {
		return err
	}
	if sku := store.Missing(lines, levels); sku != "" {
		return api.ErrUnknownSKU.WithCause(fmt.Errorf("sku %s", sku))
	}
	return publishLevels(tx, levels)
}

// publishLevels announces the new state of each level.
func publishLevels(tx *store.Tx, levels []store.Level) error {
	for _, lvl := range levels {
		if err := tx.Publish(lvl.Event()); err != nil {
			return err
		}
	}
	return nil
}

// Restock puts sold stock back on hand, once per restock id.
func (s *Service) Restock(ctx context.Context, id string, lines []api.Line) error {
	if err := checkID("restock_id", id); err != nil {
		return err
	}
	norm, err := domain.NormalizeLines(lines)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		inserted, err := tx.InsertRestock(id, norm, now)
		if err != nil {
			return err
		}
		if !inserted {
			prev, err := tx.RestockLines(id)
			if err != nil {
				return err
			}
			if !domain.SameLines(prev, norm) {
				return api.ErrReservationMismatch
			}
			return nil
		}
		return s.apply(tx, norm, 1, 0, domain.ReasonRestock, actorOf(ctx), id, now)
	})
	return wrap("restock", id, err)
}

// Adjust changes a SKU's on_hand by hand, once per key when one is given.
func (s *Service) Adjust(ctx context.Context, sku string, delta int64, reason, actor, key string) (api.Adjustment, api.Level, error) {
	reason, err := domain.CheckAdjustment(delta, reason)
	if err != nil {
		return api.Adjustment{}, api.Level{}, err
	}
	if key != "" {
		if err := idempotency.Check(key); err != nil {
			return api.Adjustment{}, api.Level{}, err
		}
	}
	if actor == "" {
		actor = actorOf(ctx)
	}
	now := s.clock.Now()
	var entry store.Entry
	var lvl store.Level
	var replay bool
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if key != "" {
			prior, err := tx.EntryByKey(sku, actor, key)
			if err == nil {
				entry, replay = prior, true
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		var ok bool
		var err error
		if lvl, ok, err = tx.AdjustOnHand(sku, delta, now); err != nil {
			return err
		}
		if !ok {
			return s.whyNotAdjusted(tx, sku)
		}
		rec := []store.Entry{{SKU: sku, Delta: delta, Reason: reason, Actor: actor, CreatedAt: now}}
		if key != "" {
			rec[0].IdemKey = &key
		}
		if err := tx.Record(rec); err != nil {
			return err
		}
		entry = rec[0] // with the id the database gave it
		return tx.Publish(lvl.Event())
	})
	if err != nil && key != "" && database.IsDuplicate(err) {
		// A concurrent request with the key recorded its adjustment first;
		// this one's change was rolled back with the transaction.
		entry, err = s.store.EntryByKey(ctx, sku, actor, key)
		replay = err == nil
	}
	if err != nil {
		return api.Adjustment{}, api.Level{}, wrap("adjust", sku, err)
	}
	if replay {
		if entry.Delta != delta || entry.Reason != reason {
			return api.Adjustment{}, api.Level{}, api.ErrIdempotencyKeyReused
		}
		if lvl, err = s.store.GetLevel(ctx, sku); err != nil {
			return api.Adjustment{}, api.Level{}, wrap("adjust", sku, err)
		}
	}
	return entry.API(), lvl.API(), nil
}

// whyNotAdjusted tells an unknown SKU from one whose stock is too low.
func (s *Service) whyNotAdjusted(tx *store.Tx, sku string) error {
	_, err := tx.GetLevel(sku)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return api.ErrUnknownSKU
	case err != nil:
		return err
	default:
		return api.ErrBelowReserved
	}
}

// Level reads one SKU's level.
func (s *Service) Level(ctx context.Context, sku string) (api.Level, error) {
	lvl, err := s.store.GetLevel(ctx, sku)
	if errors.Is(err, store.ErrNotFound) {
		return api.Level{}, api.ErrUnknownSKU
	}
	if err != nil {
		return api.Level{}, fmt.Errorf("level %s: %w", sku, err)
	}
	return lvl.API(), nil
}

// Levels pages through levels in SKU order after the SKU given.
func (s *Service) Levels(ctx context.Context, after string, limit int) ([]api.Level, error) {
	rows, err := s.store.ListLevels(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list levels: %w", err)
	}
	out := make([]api.Level, len(rows))
	for i, r := range rows {
		out[i] = r.API()
	}
	return out, nil
}

// Ledger pages through a SKU's ledger, newest first, before the entry id
// given (0: from the newest); ErrUnknownSKU for a SKU without a level.
func (s *Service) Ledger(ctx context.Context, sku string, before int64, limit int) ([]api.Adjustment, error) {
	if _, err := s.Level(ctx, sku); err != nil {
		return nil, err
	}
	rows, err := s.store.Ledger(ctx, sku, before, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", sku, err)
	}
	out := make([]api.Adjustment, len(rows))
	for i, r := range rows {
		out[i] = r.API()
	}
	return out, nil
}

// entries are the ledger rows of a change of lines by sign × quantity.
func entries(lines []api.Line, onHand, reserved int64, reason, actor, ref string, now time.Time) []store.Entry {
	out := make([]store.Entry, len(lines))
	for i, l := range lines {
		out[i] = store.Entry{SKU: l.SKU, Delta: onHand * l.Quantity, ReservedDelta: reserved * l.Quantity,
			Reason: reason, Actor: actor, Reference: ref, CreatedAt: now}
	}
	return out
}

// actorOf names who causes a change: the signed-in caller, else the system.
func actorOf(ctx context.Context) string {
	if p, ok := auth.FromContext(ctx); ok && p.Subject != "" {
		return p.Subject
	}
	return "system"
}

// checkID validates a caller-chosen idempotency id.
func checkID(field, id string) error {
	if strings.TrimSpace(id) == "" || len(id) > 200 {
		return errs.Invalid(errs.FieldError{Field: field, Message: "must be 1 to 200 characters"})
	}
	return nil
}

// wrap adds context to unexpected errors; api errors pass unchanged so their
// message stays the one the client sees.
func wrap(op, id string, err error) error {
	if err == nil || errs.As(err) != nil {
		return err
	}
	return fmt.Errorf("%s %s: %w", op, id, err)
}
