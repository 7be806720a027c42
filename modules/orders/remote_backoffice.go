package orders

import (
	"context"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/service"
	"github.com/modshop/modshop/platform/remote"
)

// The operations of api.BackOffice. The list is a read, retried; the
// commands are not: a second Ship after a lost answer would be a 409.
var (
	adminOrders  = remote.Op1[api.OrderQuery, api.AdminOrderPage]{Name: "admin_orders", Retry: remote.Retry}
	adminShip    = remote.Op2[string, string, api.Order]{Name: "admin_ship"}
	adminDeliver = remote.Op1[string, api.Order]{Name: "admin_deliver"}
	adminCancel  = remote.Op1[string, api.Order]{Name: "admin_cancel"}
	adminRefund  = remote.Op1[string, api.Order]{Name: "admin_refund"}
)

// backOfficeEndpoints serve api.BackOffice (listed in endpoints).
func backOfficeEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{adminOrders.Serve(s.AdminOrders), adminShip.Serve(s.AdminShip), adminDeliver.Serve(s.AdminDeliver),
		adminCancel.Serve(s.AdminCancel), adminRefund.Serve(s.AdminRefund)}
}

var _ api.BackOffice = (*Client)(nil)

func (c *Client) AdminOrders(ctx context.Context, q api.OrderQuery) (api.AdminOrderPage, error) {
	return adminOrders.Call(ctx, c.c, q)
}

func (c *Client) AdminShip(ctx context.Context, id, trackingNumber string) (api.Order, error) {
	return adminShip.Call(ctx, c.c, id, trackingNumber)
}

func (c *Client) AdminDeliver(ctx context.Context, id string) (api.Order, error) {
	return adminDeliver.Call(ctx, c.c, id)
}

func (c *Client) AdminCancel(ctx context.Context, id string) (api.Order, error) {
	return adminCancel.Call(ctx, c.c, id)
}

func (c *Client) AdminRefund(ctx context.Context, id string) (api.Order, error) {
	return adminRefund.Call(ctx, c.c, id)
}
