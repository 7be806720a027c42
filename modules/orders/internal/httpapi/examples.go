package httpapi

import (
	"time"

	"github.com/modshop/modshop/modules/orders/api"
)

// Examples of requests and answers for the OpenAPI document: a Route's
// Request or Response that is not a zero value is shown as its example.

var (
	exampleAddress  = api.Address{Name: "Ann Lee", Line1: "Main St 1", City: "Berlin", PostalCode: "10115", Country: "DE"}
	exampleCheckout = CheckoutRequest{Email: "ann@example.com", ShippingAddress: &exampleAddress}
	exampleOrderReq = OrderRequest{CheckoutID: "01JQ4CHECKOUT0000000000001", PaymentMethod: "pm_card_visa"}
	exampleShip     = ShipRequest{TrackingNumber: "TRK-1Z999AA10123456784"}
	exampleLines    = []api.Line{{SKU: "BOOT-LTH-42", VariantID: "01JQ4VARIANT00000000000001", ProductID: "01JQ4PRODUCT00000000000001",
		Title: "Leather Boots, Brown, EU 42", Quantity: 1, UnitPrice: api.Money{Amount: 12900, Currency: "EUR"}, LineTotal: api.Money{Amount: 12900, Currency: "EUR"}}}
	exampleTime          = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	exampleCheckoutShown = api.Checkout{ID: "01JQ4CHECKOUT0000000000001", CartID: "c_8Jq2v0XcN4mT7rLp9sWz1e", Status: api.CheckoutOpen,
		Email: "ann@example.com", ShippingAddress: exampleAddress, Lines: exampleLines,
		Subtotal: api.Money{Amount: 12900, Currency: "EUR"}, Shipping: api.Money{Amount: 0, Currency: "EUR"}, Total: api.Money{Amount: 12900, Currency: "EUR"},
		ExpiresAt: exampleTime.Add(15 * time.Minute), CreatedAt: exampleTime}
	exampleGuestToken = "gt_Yc3n8Qw1Lk5v9Zx2Rp7sTb4m"
	exampleOrder      = api.Order{ID: "01JQ4ORDER0000000000000001", Number: "MS-000123", Status: api.StatusPlaced,
		Email: "ann@example.com", ShippingAddress: exampleAddress, Lines: exampleLines,
		Subtotal: api.Money{Amount: 12900, Currency: "EUR"}, Shipping: api.Money{Amount: 0, Currency: "EUR"}, Total: api.Money{Amount: 12900, Currency: "EUR"},
		Payment:    api.Payment{ID: "01JQ4PAYMENT00000000000001", Status: api.PaymentAuthorized, Brand: "visa"},
		GuestToken: &exampleGuestToken, CheckoutID: "01JQ4CHECKOUT0000000000001", CreatedAt: exampleTime, UpdatedAt: exampleTime}
)
