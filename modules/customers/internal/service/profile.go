package service

import (
	"context"
	"errors"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/errs"
)

// Customer returns an account (api.Customers).
func (s *Service) Customer(ctx context.Context, id string) (api.Customer, error) {
	a, err := s.store.AccountByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Customer{}, api.ErrCustomerNotFound
	}
	if err != nil {
		return api.Customer{}, err
	}
	return customerOf(a), nil
}

// ProfileChange is the input of UpdateProfile; nil leaves a field as it is.
type ProfileChange struct {
	Name *string
}

// UpdateProfile changes the customer's own profile.
func (s *Service) UpdateProfile(ctx context.Context, customerID string, in ProfileChange) (api.Customer, error) {
	if in.Name != nil {
		var fe errs.Fields
		name := domain.CleanName(*in.Name, &fe)
		if err := fe.Err(); err != nil {
			return api.Customer{}, err
		}
		err := s.store.UpdateName(ctx, customerID, name, s.now())
		if errors.Is(err, store.ErrNotFound) {
			return api.Customer{}, api.ErrCustomerNotFound
		}
		if err != nil {
			return api.Customer{}, err
		}
	}
	return s.Customer(ctx, customerID)
}
