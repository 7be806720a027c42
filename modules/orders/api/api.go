// Package api is the orders module's public face: checkouts (a cart's lines
// and prices frozen, its stock reserved), orders and their life
// (placed → shipped → delivered, cancelled, refunded), the errors and the
// events other modules react to (cart closes a checked-out cart on
// OrderPlaced).
package api

import (
	"context"
	"time"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

// Orders answers other modules' questions about orders.
type Orders interface {
	// Order returns one order; ErrOrderNotFound when there is none.
	Order(ctx context.Context, id string) (Order, error)
}

// Money is an amount in integer minor units of the store currency.
type Money = catalog.Money

// Shipping rule of the contract: a flat fee, free from a subtotal.
const (
	ShippingFee      = 500
	FreeShippingFrom = 10000
)

// CheckoutStatus is where a checkout is in its life.
type CheckoutStatus string

const (
	CheckoutOpen      CheckoutStatus = "open"      // stock held until expires_at
	CheckoutCompleted CheckoutStatus = "completed" // became an order
	CheckoutExpired   CheckoutStatus = "expired"   // its hold ended (TTL, or a newer checkout of the cart)
)

// Address is a shipping address. Line2 and Phone may be "".
type Address struct {
	Name       string `json:"name" doc:"1..200 characters"`
	Line1      string `json:"line1" doc:"1..200 characters"`
	Line2      string `json:"line2" doc:"optional, up to 200 characters"`
	City       string `json:"city" doc:"1..100 characters"`
	PostalCode string `json:"postal_code" doc:"1..20 letters, digits, spaces or dashes"`
	Country    string `json:"country" doc:"ISO 3166-1 alpha-2, e.g. DE"`
	Phone      string `json:"phone" doc:"optional"`
}

// Line is a frozen line of a checkout or an order.
type Line struct {
	SKU       string `json:"sku"`
	VariantID string `json:"variant_id"`
	ProductID string `json:"product_id"`
	Title     string `json:"title"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
	LineTotal Money  `json:"line_total"`
}

// Checkout is a cart's lines and prices frozen, with stock held for them.
type Checkout struct {
	ID              string         `json:"id"`
	CartID          string         `json:"cart_id"`
	CustomerID      *string        `json:"customer_id"`
	Status          CheckoutStatus `json:"status"`
	Email           string         `json:"email"`
	ShippingAddress Address        `json:"shipping_address"`
	Lines           []Line         `json:"lines"`
	Subtotal        Money          `json:"subtotal"`
	Shipping        Money          `json:"shipping" doc:"500 minor units; free from a subtotal of 10000"`
	Total           Money          `json:"total"`
	OrderID         *string        `json:"order_id" doc:"the order it became, once completed"`
	ExpiresAt       time.Time      `json:"expires_at"`
	CreatedAt       time.Time      `json:"created_at"`
}

// Status is where an order is in its life.
type Status string

const (
	StatusPlaced    Status = "placed"
	StatusShipped   Status = "shipped"
	StatusDelivered Status = "delivered"
	StatusCancelled Status = "cancelled"
	StatusRefunded  Status = "refunded"
)

// PaymentStatus is the order's view of its payment.
type PaymentStatus string

const (
	PaymentAuthorized PaymentStatus = "authorized"
	PaymentCaptured   PaymentStatus = "captured"
	PaymentVoided     PaymentStatus = "voided"
	PaymentRefunded   PaymentStatus = "refunded"
)

// Payment is the order's payment as the order shows it.
type Payment struct {
	ID     string        `json:"id"`
	Status PaymentStatus `json:"status"`
	Brand  string        `json:"brand"`
}

// Order is an order with its own copy of lines, prices, address and e-mail.
type Order struct {
	ID              string  `json:"id"`
	Number          string  `json:"number" doc:"human-friendly and unique, e.g. MS-000123"`
	Status          Status  `json:"status"`
	CustomerID      *string `json:"customer_id"`
	Email           string  `json:"email"`
	ShippingAddress Address `json:"shipping_address"`
	Lines           []Line  `json:"lines"`
	Subtotal        Money   `json:"subtotal"`
	Shipping        Money   `json:"shipping"`
	Total           Money   `json:"total"`
	Payment         Payment `json:"payment"`
	// GuestToken reads a guest order (GET /v1/orders/{id}?token=): shown in
	// the answer that placed it and to a reader who gave it; null otherwise.
	GuestToken     *string   `json:"guest_token"`
	TrackingNumber *string   `json:"tracking_number"`
	CheckoutID     string    `json:"checkout_id"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Errors of the orders module. Compare with errors.Is.
var (
	ErrCheckoutNotFound      = errs.Define("orders.checkout_not_found", errs.KindNotFound, "not_found", "no such checkout")
	ErrOrderNotFound         = errs.Define("orders.order_not_found", errs.KindNotFound, "not_found", "no such order")
	ErrEmptyCart             = errs.Define("orders.empty_cart", errs.KindValidation, "empty_cart", "the cart has no lines to check out")
	ErrCheckoutExpired       = errs.Define("orders.checkout_expired", errs.KindConflict, "checkout_expired", "the checkout has expired; check out again")
	ErrCheckoutCompleted     = errs.Define("orders.checkout_completed", errs.KindConflict, "checkout_completed", "the checkout has already become an order")
	ErrCartNotActive         = errs.Define("orders.cart_not_active", errs.KindConflict, "conflict", "the cart is no longer active")
	ErrInvalidState          = errs.Define("orders.invalid_state", errs.KindConflict, "invalid_state", "the order's status does not allow this")
	ErrIdempotencyKeyMissing = errs.Define("orders.idempotency_key_missing", errs.KindBadRequest, "idempotency_key_missing", "the Idempotency-Key header is required")
	ErrIdempotencyKeyReused  = errs.Define("orders.idempotency_key_reused", errs.KindValidation, "idempotency_key_reused", "this Idempotency-Key was used with another request body")
	ErrRequestInProgress     = errs.Define("orders.request_in_progress", errs.KindConflict, "request_in_progress", "a request for this checkout or with this Idempotency-Key is still running")
)
