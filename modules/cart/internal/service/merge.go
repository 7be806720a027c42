package service

import (
	"context"
	"fmt"
	"time"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/domain"
	"github.com/modshop/modshop/modules/cart/internal/store"
	"github.com/modshop/modshop/platform/errs"
)

// errNotGuest refuses to merge a cart that has an owner.
var errNotGuest = errs.Conflict("conflict", "only a guest cart can be merged into yours")

// Merge moves a guest cart's lines into the customer's active cart:
// quantities add up, capped at MaxQuantity and at what is available, and the
// guest cart becomes merged. Merging it again into the same cart (a retry)
// changes nothing and returns the customer's cart.
func (s *Service) Merge(ctx context.Context, customerID, guestID string) (api.Cart, error) {
	if guestID == "" {
		return api.Cart{}, errs.Invalid(errs.FieldError{Field: "cart_id", Message: "is required"})
	}
	target, err := s.activeCart(ctx, customerID)
	if err != nil {
		return api.Cart{}, err
	}
	guest, err := s.load(ctx, guestID, customerID, true)
	switch {
	case err != nil:
		return api.Cart{}, err
	case guest.CustomerID != nil:
		return api.Cart{}, errNotGuest
	case guest.MergedInto != nil && *guest.MergedInto == target.ID:
		return s.show(ctx, target, nil)
	case api.Status(guest.Status) != api.StatusActive:
		return api.Cart{}, api.ErrNotActive
	}
	avail, err := s.availabilityOf(ctx, target.ID, guestID)
	if err != nil {
		return api.Cart{}, err
	}
	now := s.clock.Now()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return mergeLines(tx, target.ID, guestID, avail, now)
	})
	if err != nil {
		return api.Cart{}, wrap("merge carts", err)
	}
	target.UpdatedAt = now
	return s.show(ctx, target, nil)
}

// availabilityOf asks the inventory, in one call, about every SKU of both
// carts; the answer maps each SKU asked to what is available (0 if unknown).
func (s *Service) availabilityOf(ctx context.Context, cartIDs ...string) (map[string]int64, error) {
	var skus []string
	for _, id := range cartIDs {
		lines, err := s.store.Lines(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read lines: %w", err)
		}
		for _, l := range lines {
			skus = append(skus, l.SKU)
		}
	}
	levels, err := s.inventory.Availability(ctx, skus)
	if err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	out := make(map[string]int64, len(skus))
	for _, sku := range skus {
		out[sku] = levels[sku].Available
	}
	return out, nil
}

// mergeLines does the merge in one transaction, reading both carts' lines
// after taking both rows, so a concurrent change is neither lost nor merged
// twice.
func mergeLines(tx *store.Tx, targetID, guestID string, avail map[string]int64, now time.Time) error {
	// Either cart may have stopped being active since it was read (checked
	// out, merged by a concurrent request).
	for _, step := range []func() (bool, error){
		func() (bool, error) { return tx.Touch(targetID, now) },
		func() (bool, error) { return tx.MarkMerged(guestID, targetID, now) },
	} {
		ok, err := step()
		if err != nil {
			return err
		}
		if !ok {
			return api.ErrNotActive
		}
	}
	mine, err := tx.Lines(targetID)
	if err != nil {
		return err
	}
	theirs, err := tx.Lines(guestID)
	if err != nil {
		return err
	}
	for _, l := range theirs {
		have := quantityOf(mine, l.SKU)
		a, known := avail[l.SKU]
		q := domain.MergedQuantity(have, l.Quantity, a, known)
		if q == have {
			continue
		}
		if err := tx.SetQuantity(targetID, l.SKU, q, now); err != nil {
			return err
		}
	}
	return nil
}
