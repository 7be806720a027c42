package service

import (
	"context"
	"fmt"
	"sort"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/domain"
	"github.com/modshop/modshop/modules/inventory/internal/store"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
)

// checkChunk is how many SKUs one question to the catalog names.
const checkChunk = 1000

// UseCatalog gives the service the catalog it asks whether a SKU exists.
// It is set after construction because the catalog, in turn, asks inventory
// for availability: the two services would otherwise need each other to be
// built first.
func (s *Service) UseCatalog(c catalog.Catalog) { s.catalog = c }

// Receive implements api.Admin.
func (s *Service) Receive(ctx context.Context, receipts []api.Receipt, reason, actor string) (int, error) {
	reason, err := domain.CheckAdjustment(1, reason)
	if err != nil {
		return 0, err
	}
	var fe errs.Fields
	for i, r := range receipts {
		fe.Check(r.SKU != "", fmt.Sprintf("[%d].sku", i), "is required")
		fe.Check(r.Quantity >= 1 && r.Quantity <= api.MaxAdjustment, fmt.Sprintf("[%d].quantity", i),
			fmt.Sprintf("must be a whole number from 1 to %d", api.MaxAdjustment))
	}
	if err := fe.Err(); err != nil {
		return 0, err
	}
	if actor == "" {
		actor = actorOf(ctx)
	}
	// One level row each, taken in SKU order like every other writer.
	merged := map[string]int64{}
	for _, r := range receipts {
		merged[r.SKU] += r.Quantity
	}
	skus := make([]string, 0, len(merged))
	for sku := range merged {
		skus = append(skus, sku)
	}
	sort.Strings(skus)
	// Every SKU is checked before anything is booked: all or nothing.
	for start := 0; start < len(skus); start += checkChunk {
		if err := s.checkKnown(ctx, skus[start:min(start+checkChunk, len(skus))]); err != nil {
			return 0, err
		}
	}
	// One transaction: a delivery is booked whole, and for a bulk load (the
	// seed) one large commit rewrites each touched index page once.
	now := s.clock.Now()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		levels, err := tx.Receive(skus, merged, now)
		if err != nil {
			return err
		}
		entries := make([]store.Entry, len(levels))
		evts := make([]events.Event, len(levels))
		for i, l := range levels {
			entries[i] = store.Entry{SKU: l.SKU, Delta: merged[l.SKU], Reason: reason, Actor: actor, CreatedAt: now}
			evts[i] = l.Event()
		}
		if err := tx.Record(entries); err != nil {
			return err
		}
		return tx.Publish(evts...)
	})
	if err != nil {
		return 0, wrap("receive", fmt.Sprintf("%d SKUs", len(skus)), err)
	}
	return len(skus), nil
}

// checkKnown fails with ErrUnknownSKU for a SKU the catalog does not know.
func (s *Service) checkKnown(ctx context.Context, skus []string) error {
	if s.catalog == nil {
		return errs.Unavailable("receive: no catalog to check the SKUs against")
	}
	known, err := s.catalog.VariantsBySKU(ctx, skus)
	if err != nil {
		return fmt.Errorf("receive: ask the catalog: %w", err)
	}
	for _, sku := range skus {
		if _, ok := known[sku]; !ok {
			return api.ErrUnknownSKU.With("sku", sku)
		}
	}
	return nil
}
