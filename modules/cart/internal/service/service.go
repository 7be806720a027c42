// Package service is the cart's use cases: guest and customer carts, lines
// checked against the catalog and the inventory (without reserving: that is
// checkout's business), merging, closing on order_placed, and cleanup.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/domain"
	"github.com/modshop/modshop/modules/cart/internal/store"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
)

// Service is the cart module.
type Service struct {
	store     *store.Store
	catalog   catalog.Catalog
	inventory inventory.Inventory
	clock     clock.Clock
	currency  string
	log       *slog.Logger
}

var _ api.Carts = (*Service)(nil)

// New makes the service.
func New(ob *events.Outbox, cat catalog.Catalog, inv inventory.Inventory, c clock.Clock, currency string, log *slog.Logger) *Service {
	return &Service{store: store.New(ob), catalog: cat, inventory: inv, clock: clock.Or(c), currency: currency, log: log}
}

// Consumer closes a cart when its order is placed. The inbox makes a
// redelivered event a no-op; the conditional update would too.
func (s *Service) Consumer(ob *events.Outbox) events.Consumer {
	return ob.Consumer("checkout", events.On(func(ctx context.Context, tx *events.Tx, e orders.OrderPlaced) error {
		if err := s.store.In(tx).CheckOut(e.CartID, s.clock.Now()); err != nil {
			return fmt.Errorf("check out cart %s: %w", e.CartID, err)
		}
		return nil
	}))
}

// Cart returns any cart by id (for the orders module).
func (s *Service) Cart(ctx context.Context, id string) (api.Cart, error) {
	row, err := s.load(ctx, id, "", false)
	if err != nil {
		return api.Cart{}, err
	}
	return s.show(ctx, row, nil)
}

// CartFor returns a cart if the caller may see it.
func (s *Service) CartFor(ctx context.Context, id, customerID string) (api.Cart, error) {
	row, err := s.load(ctx, id, customerID, true)
	if err != nil {
		return api.Cart{}, err
	}
	return s.show(ctx, row, nil)
}

// Create makes a guest cart, or returns the customer's active cart (made if
// needed) when customerID is set.
func (s *Service) Create(ctx context.Context, customerID string) (api.Cart, error) {
	if customerID != "" {
		return s.MyCart(ctx, customerID)
	}
	id := domain.NewCartID()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateCart(id, nil, s.clock.Now())
		return err
	})
	if err != nil {
		return api.Cart{}, fmt.Errorf("create cart: %w", err)
	}
	return s.CartFor(ctx, id, "")
}

// MyCart is the customer's active cart, created on first use. Two first
// visits at once create one cart: the loser's insert is refused by the
// unique index and it reads the winner's.
func (s *Service) MyCart(ctx context.Context, customerID string) (api.Cart, error) {
	row, err := s.activeCart(ctx, customerID)
	if err != nil {
		return api.Cart{}, err
	}
	return s.show(ctx, row, nil)
}

func (s *Service) activeCart(ctx context.Context, customerID string) (store.Cart, error) {
	row, err := s.store.ActiveCartOf(ctx, customerID)
	if !errors.Is(err, store.ErrNotFound) {
		return row, wrap("read cart", err)
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateCart(domain.NewCartID(), &customerID, s.clock.Now())
		return err
	})
	if err != nil {
		return store.Cart{}, fmt.Errorf("create cart: %w", err)
	}
	row, err = s.store.ActiveCartOf(ctx, customerID)
	return row, wrap("read cart", err)
}

// AddItem adds quantity of a SKU to a cart; the same SKU again adds up.
func (s *Service) AddItem(ctx context.Context, cartID, customerID, sku string, quantity *int64) (api.Cart, error) {
	if err := domain.CheckQuantity(quantity, false); err != nil {
		return api.Cart{}, err
	}
	if sku == "" {
		return api.Cart{}, errs.Invalid(errs.FieldError{Field: "sku", Message: "is required"})
	}
	row, lines, err := s.writable(ctx, cartID, customerID)
	if err != nil {
		return api.Cart{}, err
	}
	variants, err := s.variants(ctx, lines, sku)
	if err != nil {
		return api.Cart{}, err
	}
	if !variants[sku].Sellable() {
		return api.Cart{}, api.ErrUnknownSKU
	}
	want := *quantity + quantityOf(lines, sku)
	if want > api.MaxQuantity {
		return api.Cart{}, domain.ErrLineTooLarge
	}
	if err := s.checkStock(ctx, sku, want); err != nil {
		return api.Cart{}, err
	}
	row, err = s.change(ctx, row, func(tx *store.Tx) error {
		ok, err := tx.AddQuantity(cartID, sku, *quantity, s.clock.Now())
		if err == nil && !ok {
			return domain.ErrLineTooLarge // another request added to the line meanwhile
		}
		return err
	})
	if err != nil {
		return api.Cart{}, err
	}
	return s.show(ctx, row, variants)
}

// UpdateItem sets a line's quantity; 0 removes it. Only a growing line is
// checked against the catalog and the stock: lowering a line is always
// allowed, even one that can no longer be bought.
func (s *Service) UpdateItem(ctx context.Context, cartID, customerID, itemID string, quantity *int64) (api.Cart, error) {
	if err := domain.CheckQuantity(quantity, true); err != nil {
		return api.Cart{}, err
	}
	if *quantity == 0 {
		return s.RemoveItem(ctx, cartID, customerID, itemID)
	}
	row, lines, err := s.writable(ctx, cartID, customerID)
	if err != nil {
		return api.Cart{}, err
	}
	i := slices.IndexFunc(lines, func(l domain.Line) bool { return l.ID == itemID })
	if i < 0 {
		return api.Cart{}, api.ErrItemNotFound
	}
	variants, err := s.variants(ctx, lines, "")
	if err != nil {
		return api.Cart{}, err
	}
	if line := lines[i]; *quantity > line.Quantity {
		if !variants[line.SKU].Sellable() {
			return api.Cart{}, api.ErrUnknownSKU
		}
		if err := s.checkStock(ctx, line.SKU, *quantity); err != nil {
			return api.Cart{}, err
		}
	}
	row, err = s.change(ctx, row, func(tx *store.Tx) error {
		ok, err := tx.UpdateItem(cartID, itemID, *quantity)
		if err == nil && !ok {
			return api.ErrItemNotFound
		}
		return err
	})
	if err != nil {
		return api.Cart{}, err
	}
	return s.show(ctx, row, variants)
}

// RemoveItem deletes a line.
func (s *Service) RemoveItem(ctx context.Context, cartID, customerID, itemID string) (api.Cart, error) {
	row, _, err := s.writable(ctx, cartID, customerID)
	if err != nil {
		return api.Cart{}, err
	}
	row, err = s.change(ctx, row, func(tx *store.Tx) error {
		ok, err := tx.DeleteItem(cartID, itemID)
		if err == nil && !ok {
			return api.ErrItemNotFound
		}
		return err
	})
	if err != nil {
		return api.Cart{}, err
	}
	return s.show(ctx, row, nil)
}

// load reads a cart; with check, a cart the caller may not see is not found.
func (s *Service) load(ctx context.Context, id, customerID string, check bool) (store.Cart, error) {
	row, err := s.store.GetCart(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && check && !row.AccessibleBy(customerID):
		return store.Cart{}, api.ErrCartNotFound
	case err != nil:
		return store.Cart{}, fmt.Errorf("read cart: %w", err)
	}
	return row, nil
}

// writable loads a cart the caller may change, with its lines.
func (s *Service) writable(ctx context.Context, id, customerID string) (store.Cart, []domain.Line, error) {
	row, err := s.load(ctx, id, customerID, true)
	if err != nil {
		return row, nil, err
	}
	if api.Status(row.Status) != api.StatusActive {
		return row, nil, api.ErrNotActive
	}
	lines, err := s.store.Lines(ctx, id)
	return row, lines, wrap("read lines", err)
}

// change runs fn in a transaction that first marks the cart as changed; a
// cart that stopped being active meanwhile (checked out, merged) refuses it.
// It returns the row as it is after the change.
func (s *Service) change(ctx context.Context, row store.Cart, fn func(tx *store.Tx) error) (store.Cart, error) {
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.Touch(row.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return api.ErrNotActive
		}
		return fn(tx)
	})
	row.UpdatedAt = now
	return row, wrap("change cart", err)
}

// variants asks the catalog, in one call, about every SKU of the lines and
// the extra one (if any). A SKU the catalog does not know maps to the zero
// VariantInfo, so the map also says what was asked.
func (s *Service) variants(ctx context.Context, lines []domain.Line, extra string) (map[string]catalog.VariantInfo, error) {
	skus := make([]string, 0, len(lines)+1)
	for _, l := range lines {
		skus = append(skus, l.SKU)
	}
	if extra != "" && !slices.Contains(skus, extra) {
		skus = append(skus, extra)
	}
	if len(skus) == 0 {
		return map[string]catalog.VariantInfo{}, nil
	}
	v, err := s.catalog.VariantsBySKU(ctx, skus)
	if err != nil {
		return nil, fmt.Errorf("catalog variants: %w", err)
	}
	out := make(map[string]catalog.VariantInfo, len(skus))
	for _, sku := range skus {
		out[sku] = v[sku]
	}
	return out, nil
}

// checkStock refuses a line larger than what is available now. It reserves
// nothing: stock is held only at checkout.
func (s *Service) checkStock(ctx context.Context, sku string, want int64) error {
	levels, err := s.inventory.Availability(ctx, []string{sku})
	if err != nil {
		return fmt.Errorf("availability: %w", err)
	}
	if avail := levels[sku].Available; want > avail {
		return inventory.OutOfStock([]inventory.Unavailable{{SKU: sku, Requested: want, Available: avail}})
	}
	return nil
}

// show prices a cart's lines with one catalog call; variants, when the
// request has them already and they cover every line, save even that one.
// row is the cart as read, or as just changed by this request.
func (s *Service) show(ctx context.Context, row store.Cart, variants map[string]catalog.VariantInfo) (api.Cart, error) {
	lines, err := s.store.Lines(ctx, row.ID)
	if err != nil {
		return api.Cart{}, fmt.Errorf("read lines: %w", err)
	}
	if variants == nil || slices.ContainsFunc(lines, func(l domain.Line) bool { _, ok := variants[l.SKU]; return !ok }) {
		if variants, err = s.variants(ctx, lines, ""); err != nil {
			return api.Cart{}, err
		}
	}
	items, count, subtotal := domain.Price(lines, variants, s.currency)
	return api.Cart{ID: row.ID, CustomerID: row.CustomerID, Status: api.Status(row.Status), Items: items,
		ItemCount: count, Subtotal: subtotal, UpdatedAt: row.UpdatedAt.UTC()}, nil
}

func quantityOf(lines []domain.Line, sku string) int64 {
	for _, l := range lines {
		if l.SKU == sku {
			return l.Quantity
		}
	}
	return 0
}

// wrap adds context to unexpected errors; api errors pass unchanged.
func wrap(op string, err error) error {
	if err == nil || errs.As(err) != nil {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
