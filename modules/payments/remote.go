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

// The operations of api.Payments, one per method. Every one is idempotent
// by the payment id (the same id again is the same outcome, and the
// provider is asked with the same key), so every one is retried.
var (
	authorize = remote.Op1[api.AuthorizeRequest, api.Payment]{Name: "authorize", Retry: remote.Retry}
	capture   = remote.Op1[string, api.Payment]{Name: "capture", Retry: remote.Retry}
	void      = remote.Op1[string, api.Payment]{Name: "void", Retry: remote.Retry}
	refund    = remote.Op1[string, api.Payment]{Name: "refund", Retry: remote.Retry}
	payment   = remote.Op1[string, api.Payment]{Name: "payment", Retry: remote.Retry}
)

// endpoints are the module's api, one typed operation per method: served
// to remote callers (internalRoutes) and to this process's other modules
// (Local).
func endpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{authorize.Serve(s.Authorize), capture.Serve(s.Capture), void.Serve(s.Void),
		refund.Serve(s.Refund), payment.Serve(s.Payment)}
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet { return remote.Routes(Name, endpoints(s)...) }

// Local is the api as this process's other modules call it: through the
// same operations, run in process.
func Local(s *service.Service) *Client { return NewClient(remote.Local(Name, endpoints(s)...)) }

// Client is api.Payments over HTTP.
type Client struct{ c *remote.Client }

var _ api.Payments = (*Client)(nil)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Authorize(ctx context.Context, req api.AuthorizeRequest) (api.Payment, error) {
	return authorize.Call(ctx, c.c, req)
}

func (c *Client) Capture(ctx context.Context, id string) (api.Payment, error) {
	return capture.Call(ctx, c.c, id)
}

func (c *Client) Void(ctx context.Context, id string) (api.Payment, error) {
	return void.Call(ctx, c.c, id)
}

func (c *Client) Refund(ctx context.Context, id string) (api.Payment, error) {
	return refund.Call(ctx, c.c, id)
}

func (c *Client) Payment(ctx context.Context, id string) (api.Payment, error) {
	return payment.Call(ctx, c.c, id)
}
