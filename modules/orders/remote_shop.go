package orders

import (
	"context"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/service"
	"github.com/modshop/modshop/platform/remote"
)

// The operations of api.Shop. A checkout is not retried (each one holds
// stock anew); an order request is, since its Idempotency-Key makes a
// second try answer the first (or finish it, when it was interrupted);
// reading an order is.
var (
	checkoutOp = remote.Op3[string, string, api.CheckoutRequest, api.Checkout]{Name: "checkout"}
	placeOrder = remote.Op3[string, string, api.PlaceOrderRequest, api.Order]{Name: "place_order", Retry: remote.Retry}
	orderFor   = remote.Op3[string, string, string, api.Order]{Name: "order_for", Retry: remote.Retry}
)

// shopEndpoints serve api.Shop with the service's use cases, as the public
// routes call them.
func shopEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{
		checkoutOp.Serve(func(ctx context.Context, cartID, customerID string, req api.CheckoutRequest) (api.Checkout, error) {
			return s.Checkout(ctx, cartID, customerID, service.CheckoutRequest{Email: req.Email, ShippingAddress: req.ShippingAddress})
		}),
		placeOrder.Serve(func(ctx context.Context, customerID, key string, req api.PlaceOrderRequest) (api.Order, error) {
			r, err := s.PlaceOrder(ctx, customerID, key, service.PlaceRequest{CheckoutID: req.CheckoutID, PaymentMethod: req.PaymentMethod})
			switch {
			case err != nil:
				return api.Order{}, err
			case r.Err != nil:
				return api.Order{}, r.Err
			case r.Order == nil:
				return api.Order{}, api.ErrRequestInProgress // not reached: an answer without an order is an error
			}
			return *r.Order, nil
		}),
		orderFor.Serve(func(ctx context.Context, id, customerID, guestToken string) (api.Order, error) {
			return s.GetOrder(ctx, id, service.Reader{CustomerID: customerID, GuestToken: guestToken})
		}),
	}
}

var _ api.Shop = (*Client)(nil)

func (c *Client) Checkout(ctx context.Context, cartID, customerID string, req api.CheckoutRequest) (api.Checkout, error) {
	return checkoutOp.Call(ctx, c.c, cartID, customerID, req)
}

func (c *Client) PlaceOrder(ctx context.Context, customerID, key string, req api.PlaceOrderRequest) (api.Order, error) {
	return placeOrder.Call(ctx, c.c, customerID, key, req)
}

func (c *Client) OrderFor(ctx context.Context, id, customerID, guestToken string) (api.Order, error) {
	return orderFor.Call(ctx, c.c, id, customerID, guestToken)
}
