package api

import "context"

// Shop is what a storefront does with checkouts and orders on a shopper's
// behalf: the same use cases as the public routes (POST
// /v1/carts/{id}/checkout, POST /v1/orders, GET /v1/orders/{id}), with the
// same access rules. customerID is the signed-in customer, or "" for a
// guest.
type Shop interface {
	// Checkout freezes a cart's lines and prices and holds their stock (a
	// newer checkout of the cart replaces the open one). A 422 names the
	// bad fields (email, shipping_address.*); ErrEmptyCart; inventory's
	// out_of_stock (409) for lines that cannot be bought;
	// ErrCheckoutCompleted for a cart that became an order.
	Checkout(ctx context.Context, cartID, customerID string, req CheckoutRequest) (Checkout, error)
	// PlaceOrder places an order from an open checkout. The key is the
	// caller's Idempotency-Key: the same key with the same request answers
	// the first answer again (the same order, or the same decline), with
	// another request ErrIdempotencyKeyReused; ErrRequestInProgress while
	// the first is still running. A declined payment is payments'
	// ErrDeclined (402, its decline_code in the error's extra members), and
	// leaves the checkout open for another try with another key. A guest's
	// order carries its GuestToken.
	PlaceOrder(ctx context.Context, customerID, key string, req PlaceOrderRequest) (Order, error)
	// OrderFor returns an order its customer, or a guest with its token,
	// may see; ErrOrderNotFound for anyone else, so its existence is not
	// revealed. A guest's order read with its token carries it.
	OrderFor(ctx context.Context, id, customerID, guestToken string) (Order, error)
}

// CheckoutRequest is what a shopper gives at checkout. Email defaults to
// the account's for a signed-in customer.
type CheckoutRequest struct {
	Email           string   `json:"email"`
	ShippingAddress *Address `json:"shipping_address"`
}

// PlaceOrderRequest places an order from an open checkout with a payment
// method (test methods: pm_card_visa, pm_card_mastercard approve;
// pm_card_chargeDeclined, pm_card_insufficientFunds decline).
type PlaceOrderRequest struct {
	CheckoutID    string `json:"checkout_id"`
	PaymentMethod string `json:"payment_method"`
}
