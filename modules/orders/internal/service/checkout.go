package service

import (
	"context"
	"errors"
	"fmt"

	cart "github.com/modshop/modshop/modules/cart/api"
	customers "github.com/modshop/modshop/modules/customers/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/domain"
	"github.com/modshop/modshop/modules/orders/internal/store"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/errs"
)

// CheckoutRequest is what a shopper gives at checkout.
type CheckoutRequest struct {
	Email           string
	ShippingAddress *api.Address
}

// errCartBusy ends a checkout transaction whose cart has an order being
// placed from its open checkout.
var errCartBusy = errors.New("an order is being placed from this cart")

// Checkout freezes a cart's lines and prices and holds their stock until
// the reservation TTL. A newer checkout of the same cart replaces the open
// one and gives its stock back.
func (s *Service) Checkout(ctx context.Context, cartID, customerID string, req CheckoutRequest) (api.Checkout, error) {
	c, err := s.deps.Carts.CartFor(ctx, cartID, customerID)
	if err != nil {
		return api.Checkout{}, err
	}
	switch c.Status {
	case cart.StatusActive:
	case cart.StatusCheckedOut:
		return api.Checkout{}, api.ErrCheckoutCompleted
	default:
		return api.Checkout{}, api.ErrCartNotActive
	}
	email, addr, err := s.contact(ctx, customerID, req)
	if err != nil {
		return api.Checkout{}, err
	}
	lines, err := s.freeze(c)
	if err != nil {
		return api.Checkout{}, err
	}
	subtotal, shipping, total := domain.Totals(lines)

	// The cart's open checkout ends first, and gives its stock back, so
	// the new one can hold the same units.
	var prev string
	open, err := s.store.HasOpenCheckout(ctx, c.ID)
	if err != nil {
		return api.Checkout{}, fmt.Errorf("read open checkout: %w", err)
	}
	if open {
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			r, busy, err := tx.SupersedeOpen(c.ID, s.now())
			if busy {
				return errCartBusy
			}
			prev = r
			return err
		})
	}
	switch {
	case errors.Is(err, errCartBusy):
		return api.Checkout{}, api.ErrRequestInProgress
	case err != nil:
		return api.Checkout{}, fmt.Errorf("end the open checkout: %w", err)
	case prev != "":
		s.release(prev)
	}

	id := domain.NewID("chk_")
	r, err := s.deps.Inventory.Reserve(ctx, "res_"+id, inventoryLines(lines), s.opt.ReservationTTL)
	if err != nil {
		return api.Checkout{}, err
	}
	now := s.now()
	row := store.Checkout{ID: id, CartID: c.ID, CustomerID: c.CustomerID, Status: string(api.CheckoutOpen), Email: email,
		ShippingAddress: store.Encode(addr), Lines: store.Encode(lines), Subtotal: subtotal, Shipping: shipping, Total: total,
		Currency: s.opt.Currency, ReservationID: r.ID, ExpiresAt: r.ExpiresAt.UTC().Truncate(0), CreatedAt: now, UpdatedAt: now}
	var superseded string
	write := func(tx *store.Tx) error {
		prev, busy, err := tx.SupersedeOpen(c.ID, now)
		if err != nil {
			return err
		}
		if busy {
			return errCartBusy
		}
		superseded = prev
		return tx.InsertCheckout(row)
	}
	// The open checkout (if any) was ended above, so the insert alone
	// usually does; one that another request opened meanwhile makes it a
	// duplicate (one open checkout per cart), and this newer one replaces it.
	err = s.store.InsertCheckout(ctx, row) // one statement: no transaction around it
	for range 2 {
		if !database.IsDuplicate(err) {
			break
		}
		err = s.store.InTx(ctx, write)
	}
	if err != nil {
		s.release(r.ID)
		if errors.Is(err, errCartBusy) {
			return api.Checkout{}, api.ErrRequestInProgress
		}
		return api.Checkout{}, fmt.Errorf("save checkout: %w", err)
	}
	if superseded != "" {
		s.release(superseded)
	}
	return row.API(now)
}

// release gives a reservation back. A failure only delays it: the
// reservation expires at its TTL anyway.
func (s *Service) release(reservationID string) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := s.deps.Inventory.Release(ctx, reservationID); err != nil && !errs.HasCode(err, "invalid_state") {
		s.log.Warn("release reservation failed; it will expire on its own", "reservation", reservationID, "err", err)
	}
}

// contact validates the e-mail and address; a signed-in customer's e-mail
// defaults to the account's.
func (s *Service) contact(ctx context.Context, customerID string, req CheckoutRequest) (string, api.Address, error) {
	var fe errs.Fields
	email := req.Email
	if email == "" && customerID != "" && s.deps.Customers != nil {
		cust, err := s.deps.Customers.Customer(ctx, customerID)
		if err != nil && !errors.Is(err, customers.ErrNotFound) {
			return "", api.Address{}, err
		}
		email = cust.Email
	}
	if email == "" {
		fe.Add("email", "is required")
	} else if norm, err := domain.NormalizeEmail(email); err != nil {
		fe.Add("email", "must be an e-mail address such as ann@example.com")
	} else {
		email = norm
	}
	var addr api.Address
	if req.ShippingAddress == nil {
		fe.Add("shipping_address", "is required")
	} else {
		a := req.ShippingAddress
		norm, err := customers.NormalizeAddress(customers.Address{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City,
			PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone})
		if e := errs.As(err); e != nil {
			for _, f := range e.Fields {
				fe.Add("shipping_address."+f.Field, f.Message)
			}
		}
		addr = api.Address{Name: norm.Name, Line1: norm.Line1, Line2: norm.Line2, City: norm.City,
			PostalCode: norm.PostalCode, Country: norm.Country, Phone: norm.Phone}
	}
	return email, addr, fe.Err()
}

// freeze copies the cart's lines at its current prices. Lines that can no
// longer be bought stop the checkout: the shopper must see the change.
func (s *Service) freeze(c cart.Cart) ([]api.Line, error) {
	if len(c.Items) == 0 {
		return nil, api.ErrEmptyCart
	}
	var gone []inventory.Unavailable
	lines := make([]api.Line, 0, len(c.Items))
	for _, it := range c.Items {
		if !it.Available {
			gone = append(gone, inventory.Unavailable{SKU: it.SKU, Requested: it.Quantity, Available: 0})
			continue
		}
		lines = append(lines, api.Line{SKU: it.SKU, VariantID: it.VariantID, ProductID: it.ProductID, Title: it.Title,
			Quantity: it.Quantity, UnitPrice: it.UnitPrice, LineTotal: it.LineTotal})
	}
	if len(gone) > 0 {
		return nil, inventory.OutOfStock(gone)
	}
	return lines, nil
}

// GetCheckout returns a checkout its caller may see: a guest checkout to
// whoever has its id, a customer's only to that customer.
func (s *Service) GetCheckout(ctx context.Context, id, customerID string) (api.Checkout, error) {
	row, err := s.store.GetCheckout(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !owns(row.CustomerID, customerID)) {
		return api.Checkout{}, api.ErrCheckoutNotFound
	}
	if err != nil {
		return api.Checkout{}, fmt.Errorf("checkout %s: %w", id, err)
	}
	return row.API(s.now())
}

// owns reports whether a caller ("" for a guest) may see something owned by
// owner (nil for a guest's).
func owns(owner *string, customerID string) bool {
	return owner == nil || (customerID != "" && *owner == customerID)
}
