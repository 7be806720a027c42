package api

import "context"

// History is a customer's own orders, for the storefront's account page.
type History interface {
	// CustomerOrders pages through the customer's orders, newest first:
	// limit (1 to 100) per page, from cursor ("" for the first page; a
	// page's NextCursor for the next). Errors: a 422 for an empty
	// customerID, a limit out of range or a cursor this method did not
	// give out.
	CustomerOrders(ctx context.Context, customerID, cursor string, limit int) (OrderPage, error)
}

// OrderPage is one page of orders; NextCursor is "" on the last.
type OrderPage struct {
	Items      []Order `json:"items"`
	NextCursor string  `json:"next_cursor"`
}

// MaxOrderPage is the largest page CustomerOrders answers.
const MaxOrderPage = 100
