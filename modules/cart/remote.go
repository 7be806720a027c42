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
	func(c *remote.Client) api.Carts { return NewClient(c) })

// The wire form of the calls.
type (
	idIn struct {
		ID string `json:"id"`
	}
	cartForIn struct {
		ID         string `json:"id"`
		CustomerID string `json:"customer_id"`
	}
)

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet {
	return remote.Routes(Name,
		remote.Op("cart", func(ctx context.Context, in idIn) (api.Cart, error) { return s.Cart(ctx, in.ID) }),
		remote.Op("cart_for", func(ctx context.Context, in cartForIn) (api.Cart, error) {
			return s.CartFor(ctx, in.ID, in.CustomerID)
		}),
	)
}

// Client is api.Carts over HTTP. Both calls only read, so both are retried.
type Client struct{ c *remote.Client }

var _ api.Carts = (*Client)(nil)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Cart(ctx context.Context, id string) (api.Cart, error) {
	var out api.Cart
	return out, c.c.Call(ctx, "cart", idIn{id}, &out, true)
}

func (c *Client) CartFor(ctx context.Context, id, customerID string) (api.Cart, error) {
	var out api.Cart
	return out, c.c.Call(ctx, "cart_for", cartForIn{id, customerID}, &out, true)
}
