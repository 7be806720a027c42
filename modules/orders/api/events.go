package api

import "time"

// Event names of the orders module.
const (
	EventOrderPlaced    = "orders.order_placed.v1"
	EventOrderCancelled = "orders.order_cancelled.v1"
	EventOrderShipped   = "orders.order_shipped.v1"
	EventOrderDelivered = "orders.order_delivered.v1"
	EventOrderRefunded  = "orders.order_refunded.v1"
)

// OrderPlaced: a checkout became an order; its cart is done.
type OrderPlaced struct {
	OrderID    string      `json:"order_id"`
	Number     string      `json:"number"`
	CartID     string      `json:"cart_id"`
	CustomerID *string     `json:"customer_id"` // nil for a guest order
	Email      string      `json:"email"`
	Lines      []OrderLine `json:"lines"`
	Total      Money       `json:"total"`
	PaymentID  string      `json:"payment_id"`
	PlacedAt   time.Time   `json:"placed_at"`
}

// OrderLine is one SKU of a placed order.
type OrderLine struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// OrderChanged is what the events after placement carry: the order's new
// status and when it changed.
type OrderChanged struct {
	OrderID    string    `json:"order_id"`
	Number     string    `json:"number"`
	CustomerID *string   `json:"customer_id"`
	Status     Status    `json:"status"`
	PaymentID  string    `json:"payment_id"`
	At         time.Time `json:"at"`
}

// The events after placement, one type each so consumers can pick.
type (
	OrderCancelled struct {
		OrderChanged
		Lines []OrderLine `json:"lines"` // the stock that went back on hand
	}
	OrderShipped struct {
		OrderChanged
		TrackingNumber string `json:"tracking_number"`
	}
	OrderDelivered struct{ OrderChanged }
	OrderRefunded  struct{ OrderChanged }
)

func (OrderPlaced) EventName() string    { return EventOrderPlaced }
func (e OrderPlaced) EventKey() string   { return e.OrderID }
func (OrderCancelled) EventName() string { return EventOrderCancelled }
func (OrderShipped) EventName() string   { return EventOrderShipped }
func (OrderDelivered) EventName() string { return EventOrderDelivered }
func (OrderRefunded) EventName() string  { return EventOrderRefunded }

// EventKey orders an order's events.
func (e OrderChanged) EventKey() string { return e.OrderID }
