package api

import "context"

// Shopping is what a storefront does with carts on a shopper's behalf: the
// same use cases as the public /v1/carts routes, with the same access rules
// (customerID is the signed-in customer, or "" for a guest; a cart the
// caller may not see is ErrCartNotFound).
type Shopping interface {
	// Create makes a guest cart (customerID "") or returns the customer's
	// active cart, made if needed.
	Create(ctx context.Context, customerID string) (Cart, error)
	// MyCart is the customer's active cart, made on first use.
	MyCart(ctx context.Context, customerID string) (Cart, error)
	// AddItem adds quantity (1..100) of a SKU; the same SKU again adds up.
	// ErrUnknownSKU for a SKU no published product has, inventory's
	// out_of_stock (409) beyond what is available, ErrNotActive for a cart
	// that became an order, a 422 for a bad quantity.
	AddItem(ctx context.Context, cartID, customerID string, item NewItem) (Cart, error)
	// UpdateItem sets a line's quantity (0 removes it); ErrItemNotFound for
	// a line that is not in the cart. Only a growing line is checked
	// against the catalog and the stock.
	UpdateItem(ctx context.Context, cartID, customerID string, change ItemChange) (Cart, error)
	// RemoveItem deletes a line; ErrItemNotFound for one not in the cart.
	RemoveItem(ctx context.Context, cartID, customerID, itemID string) (Cart, error)
}

// NewItem is a SKU to add to a cart.
type NewItem struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// ItemChange sets a line's quantity.
type ItemChange struct {
	ItemID   string `json:"item_id"`
	Quantity int64  `json:"quantity"`
}
