package service

import (
	"context"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
)

// The api.Accounts methods, for a front end with sessions of its own (the
// web module): the same rules, limits and transactions as the public
// routes', without tokens. Their names differ from the public routes' use
// cases, whose inputs and answers differ; remote_accounts.go serves them
// under the api's method names.

// RegisterAccount is api.Accounts.Register: Register without a token
// session.
func (s *Service) RegisterAccount(ctx context.Context, in api.Registration) (api.Customer, error) {
	return s.register(ctx, Registration{Email: in.Email, Password: in.Password, Name: in.Name, ClientAddr: in.ClientIP}, nil)
}

// Authenticate is api.Accounts.Authenticate: Login without a token
// session, its failures counted and delayed exactly as Login's.
func (s *Service) Authenticate(ctx context.Context, email, password, clientIP string) (api.Customer, error) {
	acct, err := s.signIn(ctx, Credentials{Email: email, Password: password, ClientAddr: clientIP}, nil)
	if err != nil {
		return api.Customer{}, err
	}
	return customerOf(acct), nil
}

// Rename is api.Accounts.UpdateProfile.
func (s *Service) Rename(ctx context.Context, customerID, name string) (api.Customer, error) {
	return s.UpdateProfile(ctx, customerID, ProfileChange{Name: &name})
}

// AddToAddressBook is api.Accounts.AddAddress.
func (s *Service) AddToAddressBook(ctx context.Context, customerID string, a api.Address) (api.Address, error) {
	return s.AddAddress(ctx, customerID, fieldsOfAPI(a))
}

// ReplaceAddress is api.Accounts.UpdateAddress: every field of a.ID set.
func (s *Service) ReplaceAddress(ctx context.Context, customerID string, a api.Address) (api.Address, error) {
	f := fieldsOfAPI(a)
	return s.UpdateAddress(ctx, customerID, a.ID, domain.AddressPatch{Name: &f.Name, Line1: &f.Line1, Line2: &f.Line2,
		City: &f.City, PostalCode: &f.PostalCode, Country: &f.Country, Phone: &f.Phone})
}

func fieldsOfAPI(a api.Address) domain.AddressFields {
	return domain.AddressFields{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone}
}
