package api

import "context"

// BackOffice is the admin's order desk: every order, newest first, and the
// commands of an order's life as an admin gives them. The commands are the
// ones of the JSON API's /v1/admin/orders/{id}/... routes: a command the
// order's status does not allow is ErrInvalidState (409) and changes
// nothing. They are not idempotent (a second Ship is ErrInvalidState), so a
// caller does not retry them blindly.
type BackOffice interface {
	// AdminOrders pages through orders newest first, filtered by the query.
	AdminOrders(ctx context.Context, q OrderQuery) (AdminOrderPage, error)
	// AdminShip ships a placed order with a tracking number (1..100
	// characters, else a 422 naming "tracking_number"); the payment is
	// captured.
	AdminShip(ctx context.Context, id, trackingNumber string) (Order, error)
	// AdminDeliver marks a shipped order delivered.
	AdminDeliver(ctx context.Context, id string) (Order, error)
	// AdminCancel cancels a placed order: the payment is voided, the stock
	// goes back on hand.
	AdminCancel(ctx context.Context, id string) (Order, error)
	// AdminRefund refunds a shipped or delivered order.
	AdminRefund(ctx context.Context, id string) (Order, error)
}

// OrderQuery selects a page of orders. Zero fields do not filter.
type OrderQuery struct {
	// Status is one of the order statuses, or "" for all.
	Status Status `json:"status"`
	// CustomerID is one customer's orders, or "" for everyone's.
	CustomerID string `json:"customer_id"`
	// Cursor is a page's NextCursor, "" for the first page.
	Cursor string `json:"cursor"`
	// Limit is the page size, 1..100; 0 is DefaultPageSize.
	Limit int `json:"limit"`
}

// DefaultPageSize is a page of orders when the query gives no limit.
const DefaultPageSize = 20

// AdminOrderPage is a page of the back office's orders, newest first.
type AdminOrderPage struct {
	Items []Order `json:"items"`
	// NextCursor continues the list; "" on the last page.
	NextCursor string `json:"next_cursor"`
}

// Transitions are the admin commands each status allows, as the back
// office offers them ("ship", "deliver", "cancel", "refund"). The orders
// module enforces its own state machine; this is what a page shows, and a
// test of the module keeps the two equal.
var Transitions = map[Status][]string{
	StatusPlaced:    {"ship", "cancel"},
	StatusShipped:   {"deliver", "refund"},
	StatusDelivered: {"refund"},
}
