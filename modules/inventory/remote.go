package inventory

import (
	"context"
	"time"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/httpapi"
	"github.com/modshop/modshop/modules/inventory/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/remote"
)

// Remote gives a process that does not run the inventory its api over HTTP
// (MODSHOP_REMOTE_INVENTORY), and forwards the inventory's public routes
// there.
var Remote = remote.Module(Descriptor, func() httpx.RouteSet { return httpapi.Routes(nil) },
	func(c *remote.Client) (api.Inventory, api.Admin) { cl := NewClient(c); return cl, cl },
	func(c *remote.Client) api.BackOffice { return NewClient(c) })

// The operations of api.Inventory and api.Admin, one per method. Every one
// is idempotent by its ids and retried, except Receive, never retried, and
// Adjust, retried only when it carries an Idempotency-Key.
var (
	availability = remote.Op1[[]string, map[string]api.Level]{Name: "availability", Retry: remote.Retry}
	reserve      = remote.Op3[string, []api.Line, time.Duration, api.Reservation]{Name: "reserve", Retry: remote.Retry}
	commit       = remote.Cmd1[string]{Name: "commit", Retry: remote.Retry}
	release      = remote.Cmd1[string]{Name: "release", Retry: remote.Retry}
	restock      = remote.Cmd2[string, []api.Line]{Name: "restock", Retry: remote.Retry}
	adjust       = remote.Op5Pair[string, int64, string, string, string, api.Adjustment, api.Level]{Name: "adjust",
		RetryIf: func(_ string, _ int64, _, _, key string) bool { return key != "" }}
	receive = remote.Op3[[]api.Receipt, string, string, int]{Name: "receive"}
)

// endpoints are the module's api, one typed operation per method: served
// to remote callers (internalRoutes) and to this process's other modules
// (Local).
func endpoints(s *service.Service) []remote.Endpoint {
	eps := []remote.Endpoint{availability.Serve(s.Availability), reserve.Serve(s.Reserve), commit.Serve(s.Commit),
		release.Serve(s.Release), restock.Serve(s.Restock), adjust.Serve(s.Adjust), receive.Serve(s.Receive)}
	eps = append(eps, backOfficeEndpoints(s)...)
	return eps
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet { return remote.Routes(Name, endpoints(s)...) }

// Local is the api as this process's other modules call it: through the
// same operations, run in process.
func Local(s *service.Service) *Client { return NewClient(remote.Local(Name, endpoints(s)...)) }

// Client is api.Inventory and api.Admin over HTTP.
type Client struct{ c *remote.Client }

var (
	_ api.Inventory = (*Client)(nil)
	_ api.Admin     = (*Client)(nil)
)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Availability(ctx context.Context, skus []string) (map[string]api.Level, error) {
	return availability.Call(ctx, c.c, skus)
}

func (c *Client) Reserve(ctx context.Context, id string, lines []api.Line, ttl time.Duration) (api.Reservation, error) {
	return reserve.Call(ctx, c.c, id, lines, ttl)
}

func (c *Client) Commit(ctx context.Context, id string) error  { return commit.Call(ctx, c.c, id) }
func (c *Client) Release(ctx context.Context, id string) error { return release.Call(ctx, c.c, id) }
func (c *Client) Restock(ctx context.Context, id string, lines []api.Line) error {
	return restock.Call(ctx, c.c, id, lines)
}

func (c *Client) Adjust(ctx context.Context, sku string, delta int64, reason, actor, key string) (api.Adjustment, api.Level, error) {
	return adjust.Call(ctx, c.c, sku, delta, reason, actor, key)
}

func (c *Client) Receive(ctx context.Context, receipts []api.Receipt, reason, actor string) (int, error) {
	return receive.Call(ctx, c.c, receipts, reason, actor)
}
