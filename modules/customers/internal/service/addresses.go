package service

import (
	"context"
	"encoding/base64"
	"errors"

	"github.com/google/uuid"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/errs"
)

// AddressPage is one page of an address book.
type AddressPage struct {
	Items      []api.Address
	NextCursor string // "" on the last page
}

var cursorEncoding = base64.RawURLEncoding

// Addresses pages through a customer's address book in creation order. The
// cursor is opaque to clients: the last id of the previous page.
func (s *Service) Addresses(ctx context.Context, customerID, cursor string, limit int) (AddressPage, error) {
	after := ""
	if cursor != "" {
		b, err := cursorEncoding.DecodeString(cursor)
		if err != nil || uuid.Validate(string(b)) != nil {
			return AddressPage{}, errs.Invalid(errs.FieldError{Field: "cursor", Message: "is not a cursor this list returned"})
		}
		after = string(b)
	}
	rows, err := s.store.Addresses(ctx, customerID, after, limit+1)
	if err != nil {
		return AddressPage{}, err
	}
	page := AddressPage{Items: make([]api.Address, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			page.NextCursor = cursorEncoding.EncodeToString([]byte(rows[i-1].ID))
			break
		}
		page.Items = append(page.Items, addressOf(r))
	}
	return page, nil
}

// AddressBook is the customer's whole address book (api.Customers):
// it never holds more than MaxAddresses.
func (s *Service) AddressBook(ctx context.Context, customerID string) ([]api.Address, error) {
	page, err := s.Addresses(ctx, customerID, "", api.MaxAddresses)
	return page.Items, err
}

// Address returns one of the customer's addresses (api.Customers).
func (s *Service) Address(ctx context.Context, customerID, addressID string) (api.Address, error) {
	a, err := s.store.AddressOf(ctx, customerID, addressID)
	if errors.Is(err, store.ErrNotFound) {
		return api.Address{}, api.ErrAddressNotFound
	}
	if err != nil {
		return api.Address{}, err
	}
	return addressOf(a), nil
}

// AddAddress adds an address to the customer's book, which holds at most
// api.MaxAddresses.
func (s *Service) AddAddress(ctx context.Context, customerID string, in domain.AddressFields) (api.Address, error) {
	f, err := domain.NormalizeAddress(in)
	if err != nil {
		return api.Address{}, err
	}
	now := s.now()
	row := rowOf(f)
	row.ID, row.CustomerID, row.CreatedAt, row.UpdatedAt = newID(), customerID, now, now
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.TakeAddressSlot(customerID, api.MaxAddresses)
		if err != nil {
			return err
		}
		if !ok {
			return s.whyNoSlot(tx, customerID)
		}
		return tx.InsertAddress(row)
	})
	if err != nil {
		return api.Address{}, err
	}
	return addressOf(row), nil
}

// whyNoSlot tells a full address book from a customer that does not exist.
func (s *Service) whyNoSlot(tx *store.Tx, customerID string) error {
	if _, err := tx.AccountByID(customerID); errors.Is(err, store.ErrNotFound) {
		return api.ErrCustomerNotFound
	} else if err != nil {
		return err
	}
	return api.ErrTooManyAddresses
}

// UpdateAddress changes some fields of one of the customer's addresses; the
// result is validated as a whole.
func (s *Service) UpdateAddress(ctx context.Context, customerID, addressID string, patch domain.AddressPatch) (api.Address, error) {
	var out store.Address
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.AddressOf(customerID, addressID)
		if err != nil {
			return err
		}
		f, err := domain.NormalizeAddress(patch.Apply(fieldsOf(cur)))
		if err != nil {
			return err
		}
		out = rowOf(f)
		out.ID, out.CustomerID, out.CreatedAt, out.UpdatedAt = cur.ID, cur.CustomerID, cur.CreatedAt, s.now()
		return tx.UpdateAddress(out)
	})
	if errors.Is(err, store.ErrNotFound) {
		return api.Address{}, api.ErrAddressNotFound
	}
	if err != nil {
		return api.Address{}, err
	}
	return addressOf(out), nil
}

// DeleteAddress removes one of the customer's addresses.
func (s *Service) DeleteAddress(ctx context.Context, customerID, addressID string) error {
	err := s.store.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteAddress(customerID, addressID) })
	if errors.Is(err, store.ErrNotFound) {
		return api.ErrAddressNotFound
	}
	return err
}

func rowOf(f domain.AddressFields) store.Address {
	return store.Address{Name: f.Name, Line1: f.Line1, Line2: f.Line2, City: f.City, PostalCode: f.PostalCode, Country: f.Country, Phone: f.Phone}
}

func fieldsOf(a store.Address) domain.AddressFields {
	return domain.AddressFields{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone}
}
