package orders

import (
	"context"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/service"
	"github.com/modshop/modshop/platform/remote"
)

// customerOrders is api.History's operation; it only reads, so it is
// retried.
var customerOrders = remote.Op3[string, string, int, api.OrderPage]{Name: "customer_orders", Retry: remote.Retry}

// historyEndpoints serve api.History (listed in endpoints, remote.go).
func historyEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{customerOrders.Serve(s.CustomerOrders)}
}

var _ api.History = (*Client)(nil)

func (c *Client) CustomerOrders(ctx context.Context, customerID, cursor string, limit int) (api.OrderPage, error) {
	return customerOrders.Call(ctx, c.c, customerID, cursor, limit)
}
