// Package api is the customers module's public face: what other modules may
// ask about accounts and address books, the errors they get back and the
// events the module publishes. It imports no gorm, echo, fx or Watermill.
package api

import (
	"context"
	"time"

	"github.com/modshop/modshop/platform/errs"
)

// Customers answers other modules' questions about accounts.
type Customers interface {
	// Customer returns one account; ErrCustomerNotFound when there is none.
	Customer(ctx context.Context, id string) (Customer, error)
	// Address returns one address of a customer's address book;
	// ErrAddressNotFound when it does not exist or belongs to someone else,
	// so a caller cannot tell the two apart.
	Address(ctx context.Context, customerID, addressID string) (Address, error)
	// AddressBook is a customer's whole address book (at most MaxAddresses)
	// in the order it was filled: what a checkout offers to ship to.
	AddressBook(ctx context.Context, customerID string) ([]Address, error)
}

// Role is what an account may do.
type Role string

const (
	RoleCustomer Role = "customer"
	RoleAdmin    Role = "admin"
)

// Customer is an account.
type Customer struct {
	ID        string    `json:"id"`
	Email     string    `json:"email" doc:"normalized: trimmed and lower-cased"`
	Name      string    `json:"name"`
	Role      Role      `json:"role" doc:"customer or admin"`
	CreatedAt time.Time `json:"created_at"`
}

// Address is an entry of a customer's address book. Line2 and Phone are ""
// when not given.
type Address struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country" doc:"ISO 3166-1 alpha-2, upper case"`
	Phone      string `json:"phone"`
}

// Errors the customers module returns. Compare with errors.Is: each is
// itself, not another error of its code.
var (
	// ErrNotFound is what a lookup of a missing customer or address (or one
	// that is not that customer's) returns. ErrCustomerNotFound and
	// ErrAddressNotFound are its specific forms: errors.Is(err, ErrNotFound)
	// matches all three.
	ErrNotFound         = errs.Define("customers.not_found", errs.KindNotFound, "not_found", "not found")
	ErrCustomerNotFound = ErrNotFound.Specific("customers.customer_not_found", "no such customer")
	ErrAddressNotFound  = ErrNotFound.Specific("customers.address_not_found", "no such address")
	ErrEmailTaken       = errs.Define("customers.email_taken", errs.KindConflict, "email_taken", "an account with this e-mail already exists")
	// ErrInvalidCredentials is the one answer for an unknown e-mail and a
	// wrong password alike.
	ErrInvalidCredentials = errs.Define("customers.invalid_credentials", errs.KindUnauthorized, "invalid_credentials", "the e-mail or password is wrong")
	// ErrInvalidRefreshToken covers unknown, expired, revoked and replayed
	// refresh tokens.
	ErrInvalidRefreshToken = errs.Define("customers.invalid_refresh_token", errs.KindUnauthorized, "unauthorized", "the refresh token is invalid, expired or revoked")
	// ErrTooManyAddresses: an address book holds at most MaxAddresses entries.
	ErrTooManyAddresses = errs.Define("customers.too_many_addresses", errs.KindConflict, "conflict", "the address book is full")
)

// MaxAddresses is the size of a customer's address book.
const MaxAddresses = 50
