package api

import "context"

// Merger merges a guest's cart into a customer's when the guest signs in
// (the web storefront, whose guest cart lives in a cookie).
type Merger interface {
	// Merge moves the guest cart guestID's lines into the customer's
	// active cart (made if there is none): quantities add up, capped at
	// MaxQuantity and at what is available, and the guest cart becomes
	// merged. Merging it again into the same cart changes nothing and
	// answers the customer's cart. Errors: ErrCartNotFound (no such cart,
	// or another customer's), ErrNotActive (checked out, or merged into
	// another cart), a conflict for a cart that has an owner, a 422 for an
	// empty guestID.
	Merge(ctx context.Context, customerID, guestID string) (Cart, error)
}
