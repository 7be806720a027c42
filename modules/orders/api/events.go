// Package api is the orders module's public face. For now it holds only the
// event that other modules react to when an order is placed (cart closes the
// checked-out cart); the orders module itself comes later.
package api

import "time"

// EventOrderPlaced is the name of OrderPlaced.
const EventOrderPlaced = "orders.order_placed.v1"

// OrderPlaced: a checkout became an order; its cart is done.
type OrderPlaced struct {
	OrderID    string      `json:"order_id"`
	Number     string      `json:"number"`
	CartID     string      `json:"cart_id"`
	CustomerID *string     `json:"customer_id"` // nil for a guest order
	Lines      []OrderLine `json:"lines"`
	PlacedAt   time.Time   `json:"placed_at"`
}

// OrderLine is one SKU of a placed order.
type OrderLine struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

func (OrderPlaced) EventName() string  { return EventOrderPlaced }
func (e OrderPlaced) EventKey() string { return e.OrderID }
