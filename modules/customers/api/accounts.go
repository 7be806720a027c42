package api

import (
	"context"

	"github.com/modshop/modshop/platform/errs"
)

// Accounts is what a front end that keeps sessions of its own (the web
// module's storefront) needs of accounts: registration and sign-in that
// check the same rules and limits as POST /v1/auth/register and
// /v1/auth/login but mint no tokens, and the customer's own changes to the
// profile and the address book. Reads are on Customers.
type Accounts interface {
	// Register creates a customer account (the e-mail, password and name
	// rules of POST /v1/auth/register, and its per-address limit when
	// ClientIP is set). Errors: a 422 naming each invalid field,
	// ErrEmailTaken, ErrTooManyRegistrations.
	Register(ctx context.Context, in Registration) (Customer, error)
	// Authenticate checks an e-mail and password exactly as POST
	// /v1/auth/login does, counting a failure against the account and the
	// client address clientIP ("" counts none per address), and answers the
	// account. Errors: a 422 for a missing e-mail or password,
	// ErrInvalidCredentials for an unknown e-mail and a wrong password
	// alike, ErrTooManySignIns (with "retry_after" seconds in Extra) while
	// the failures must wait.
	Authenticate(ctx context.Context, email, password, clientIP string) (Customer, error)
	// UpdateProfile changes the customer's name (1 to 200 characters).
	// Errors: a 422 for the name, ErrCustomerNotFound.
	UpdateProfile(ctx context.Context, customerID, name string) (Customer, error)
	// AddAddress adds an address (NormalizeAddress's rules; its ID is
	// ignored) to the customer's book of at most MaxAddresses. Errors: a
	// 422 naming each invalid field, ErrTooManyAddresses, ErrCustomerNotFound.
	AddAddress(ctx context.Context, customerID string, a Address) (Address, error)
	// UpdateAddress replaces every field of the customer's address a.ID.
	// Errors: a 422 naming each invalid field, ErrAddressNotFound (also for
	// another customer's address).
	UpdateAddress(ctx context.Context, customerID string, a Address) (Address, error)
	// DeleteAddress removes one of the customer's addresses; ErrAddressNotFound
	// when it is not there (or not theirs).
	DeleteAddress(ctx context.Context, customerID, addressID string) error
}

// Registration is the input of Accounts.Register. ClientIP is the address
// of the person registering, for the per-address registration limit.
type Registration struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	ClientIP string `json:"client_ip"`
}

// The limits of sign-in and registration. Both carry "retry_after", the
// whole seconds to wait (at least 1), in the error's Extra (and as
// Retry-After on the public API).
var (
	ErrTooManySignIns       = errs.Define("customers.too_many_sign_ins", errs.KindRateLimited, "rate_limited", "too many failed sign-ins; try again later")
	ErrTooManyRegistrations = errs.Define("customers.too_many_registrations", errs.KindRateLimited, "rate_limited", "too many registrations from this address; try again later")
)
