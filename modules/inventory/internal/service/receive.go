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

// receiveChunk is how many SKUs one Receive transaction books.
const receiveChunk = 1000

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
	booked := 0
	for start := 0; start < len(skus); start += receiveChunk {
		chunk := skus[start:min(start+receiveChunk, len(skus))]
		if err := s.receiveChunk(ctx, chunk, merged, reason, actor); err != nil {
			return booked, err
		}
		booked += len(chunk)
	}
	return booked, nil
}

func (s *Service) receiveChunk(ctx context.Context, skus []string, qty map[string]int64, reason, actor string) error {
	if s.catalog == nil {
		return fmt.Errorf("receive: no catalog to check SKUs against")
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
	now := s.clock.Now()
	return s.ob.Transact(ctx, func(tx *events.Tx) error {
		levels, err := store.Receive(tx.DB, skus, qty, now)
		if err != nil {
			return err
		}
		entries := make([]store.Entry, len(levels))
		evts := make([]events.Event, len(levels))
		for i, l := range levels {
			entries[i] = store.Entry{SKU: l.SKU, Delta: qty[l.SKU], Reason: reason, Actor: actor, CreatedAt: now}
			evts[i] = l.Event()
		}
		if err := store.Record(tx.DB, entries); err != nil {
			return err
		}
		return tx.Publish(evts...)
	})
}
