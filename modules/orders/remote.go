package orders

import (
	"context"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/httpapi"
	"github.com/modshop/modshop/modules/orders/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/remote"
)

// Remote gives a process that does not run orders its api over HTTP
// (MODSHOP_REMOTE_ORDERS), and forwards the orders' public routes there.
var Remote = remote.Module(Descriptor, func() httpx.RouteSet { return httpapi.Routes(nil) },
	func(c *remote.Client) api.Orders { return NewClient(c) })

// The wire form of the calls.
type idIn struct {
	ID string `json:"id"`
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet {
	return remote.Routes(Name,
		remote.Op("order", func(ctx context.Context, in idIn) (api.Order, error) { return s.Order(ctx, in.ID) }),
	)
}

// Client is api.Orders over HTTP. Order only reads, so it is retried.
type Client struct{ c *remote.Client }

var _ api.Orders = (*Client)(nil)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Order(ctx context.Context, id string) (api.Order, error) {
	var out api.Order
	return out, c.c.Call(ctx, "order", idIn{id}, &out, true)
}
