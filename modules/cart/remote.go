package cart

import (
	"context"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/httpapi"
	"github.com/modshop/modshop/modules/cart/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/remote"
)

// Remote gives a process that does not run the cart its api over HTTP
// (MODSHOP_REMOTE_CART), and forwards the cart's public routes there.
var Remote = remote.Module(Descriptor, func() httpx.RouteSet { return httpapi.Routes(nil) },
	func(c *remote.Client) api.Carts { return NewClient(c) },
	func(c *remote.Client) api.Merger { return NewClient(c) },   // remote_merge.go
	func(c *remote.Client) api.Shopping { return NewClient(c) }) // remote_shopping.go

// The operations of api.Carts, one per method. Both only read, so both are
// retried.
var (
	cart    = remote.Op1[string, api.Cart]{Name: "cart", Retry: remote.Retry}
	cartFor = remote.Op2[string, string, api.Cart]{Name: "cart_for", Retry: remote.Retry}
)

// endpoints are the module's api, one typed operation per method: served
// to remote callers (internalRoutes) and to this process's other modules
// (Local).
func endpoints(s *service.Service) []remote.Endpoint {
	eps := []remote.Endpoint{cart.Serve(s.Cart), cartFor.Serve(s.CartFor)}
	eps = append(eps, mergeEndpoints(s)...)    // api.Merger, remote_merge.go
	eps = append(eps, shoppingEndpoints(s)...) // api.Shopping, remote_shopping.go
	return eps
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet { return remote.Routes(Name, endpoints(s)...) }

// Local is the api as this process's other modules call it: through the
// same operations, run in process.
func Local(s *service.Service) *Client { return NewClient(remote.Local(Name, endpoints(s)...)) }

// Client is api.Carts over HTTP.
type Client struct{ c *remote.Client }

var _ api.Carts = (*Client)(nil)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Cart(ctx context.Context, id string) (api.Cart, error) {
	return cart.Call(ctx, c.c, id)
}

func (c *Client) CartFor(ctx context.Context, id, customerID string) (api.Cart, error) {
	return cartFor.Call(ctx, c.c, id, customerID)
}
