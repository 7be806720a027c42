package payments

import (
	"context"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/modules/payments/internal/httpapi"
	"github.com/modshop/modshop/modules/payments/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/remote"
)

// Remote gives a process that does not run payments its api over HTTP
// (MODSHOP_REMOTE_PAYMENTS), and forwards the payments' public (admin)
// routes there.
var Remote = remote.Module(Descriptor, func() httpx.RouteSet { return httpapi.Routes(nil) },
	func(c *remote.Client) api.Payments { return NewClient(c) })

// The wire form of the calls that take a payment id.
type idIn struct {
	ID string `json:"id"`
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet {
	return remote.Routes(Name,
		remote.Op("authorize", s.Authorize),
		remote.Op("capture", func(ctx context.Context, in idIn) (api.Payment, error) { return s.Capture(ctx, in.ID) }),
		remote.Op("void", func(ctx context.Context, in idIn) (api.Payment, error) { return s.Void(ctx, in.ID) }),
		remote.Op("refund", func(ctx context.Context, in idIn) (api.Payment, error) { return s.Refund(ctx, in.ID) }),
		remote.Op("payment", func(ctx context.Context, in idIn) (api.Payment, error) { return s.Payment(ctx, in.ID) }),
	)
}

// Client is api.Payments over HTTP. Every call is idempotent by the payment
// id (the same id again is the same outcome, and the provider is asked with
// the same key), so every call is retried.
type Client struct{ c *remote.Client }

var _ api.Payments = (*Client)(nil)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Authorize(ctx context.Context, req api.AuthorizeRequest) (api.Payment, error) {
	return c.call(ctx, "authorize", req)
}

func (c *Client) Capture(ctx context.Context, id string) (api.Payment, error) {
	return c.call(ctx, "capture", idIn{id})
}

func (c *Client) Void(ctx context.Context, id string) (api.Payment, error) {
	return c.call(ctx, "void", idIn{id})
}

func (c *Client) Refund(ctx context.Context, id string) (api.Payment, error) {
	return c.call(ctx, "refund", idIn{id})
}

func (c *Client) Payment(ctx context.Context, id string) (api.Payment, error) {
	return c.call(ctx, "payment", idIn{id})
}

func (c *Client) call(ctx context.Context, op string, in any) (api.Payment, error) {
	var out api.Payment
	return out, c.c.Call(ctx, op, in, &out, true)
}
