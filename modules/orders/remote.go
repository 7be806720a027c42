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
	func(c *remote.Client) api.Orders { return NewClient(c) },
	func(c *remote.Client) api.History { return NewClient(c) },    // remote_history.go
	func(c *remote.Client) api.Shop { return NewClient(c) },       // remote_shop.go
	func(c *remote.Client) api.BackOffice { return NewClient(c) }) // back office (web admin)

// The operation of api.Orders. Order only reads, so it is retried.
var order = remote.Op1[string, api.Order]{Name: "order", Retry: remote.Retry}

// endpoints are the module's api, one typed operation per method: served
// to remote callers (internalRoutes) and to this process's other modules
// (Local).
func endpoints(s *service.Service) []remote.Endpoint {
	eps := []remote.Endpoint{order.Serve(s.Order)}
	eps = append(eps, historyEndpoints(s)...)    // api.History, remote_history.go
	eps = append(eps, shopEndpoints(s)...)       // api.Shop, remote_shop.go
	eps = append(eps, backOfficeEndpoints(s)...) // back office (web admin)
	return eps
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet { return remote.Routes(Name, endpoints(s)...) }

// Local is the api as this process's other modules call it: through the
// same operations, run in process.
func Local(s *service.Service) *Client { return NewClient(remote.Local(Name, endpoints(s)...)) }

// Client is api.Orders over HTTP.
type Client struct{ c *remote.Client }

var _ api.Orders = (*Client)(nil)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Order(ctx context.Context, id string) (api.Order, error) {
	return order.Call(ctx, c.c, id)
}
