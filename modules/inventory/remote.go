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
	func(c *remote.Client) (api.Inventory, api.Admin) { cl := NewClient(c); return cl, cl })

// The wire form of the calls that take more than one argument.
type (
	reserveIn struct {
		ID    string        `json:"id"`
		Lines []api.Line    `json:"lines"`
		TTL   time.Duration `json:"ttl"`
	}
	idIn struct {
		ID string `json:"id"`
	}
	restockIn struct {
		ID    string     `json:"id"`
		Lines []api.Line `json:"lines"`
	}
	adjustIn struct {
		SKU    string `json:"sku"`
		Delta  int64  `json:"delta"`
		Reason string `json:"reason"`
		Actor  string `json:"actor"`
		Key    string `json:"key,omitempty"`
	}
	adjustOut struct {
		Adjustment api.Adjustment `json:"adjustment"`
		Level      api.Level      `json:"level"`
	}
	receiveIn struct {
		Receipts []api.Receipt `json:"receipts"`
		Reason   string        `json:"reason"`
		Actor    string        `json:"actor"`
	}
	none struct{}
)

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet {
	return remote.Routes(Name,
		remote.Op("availability", func(ctx context.Context, skus []string) (map[string]api.Level, error) {
			return s.Availability(ctx, skus)
		}),
		remote.Op("reserve", func(ctx context.Context, in reserveIn) (api.Reservation, error) {
			return s.Reserve(ctx, in.ID, in.Lines, in.TTL)
		}),
		remote.Op("commit", func(ctx context.Context, in idIn) (none, error) { return none{}, s.Commit(ctx, in.ID) }),
		remote.Op("release", func(ctx context.Context, in idIn) (none, error) { return none{}, s.Release(ctx, in.ID) }),
		remote.Op("restock", func(ctx context.Context, in restockIn) (none, error) { return none{}, s.Restock(ctx, in.ID, in.Lines) }),
		remote.Op("adjust", func(ctx context.Context, in adjustIn) (adjustOut, error) {
			a, l, err := s.Adjust(ctx, in.SKU, in.Delta, in.Reason, in.Actor, in.Key)
			return adjustOut{a, l}, err
		}),
		remote.Op("receive", func(ctx context.Context, in receiveIn) (int, error) {
			return s.Receive(ctx, in.Receipts, in.Reason, in.Actor)
		}),
	)
}

// Client is api.Inventory and api.Admin over HTTP. Every inventory call is
// idempotent by its ids except Receive, never retried, and Adjust, retried
// only when it carries an Idempotency-Key.
type Client struct{ c *remote.Client }

var (
	_ api.Inventory = (*Client)(nil)
	_ api.Admin     = (*Client)(nil)
)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Availability(ctx context.Context, skus []string) (map[string]api.Level, error) {
	var out map[string]api.Level
	err := c.c.Call(ctx, "availability", skus, &out, true)
	return out, err
}

func (c *Client) Reserve(ctx context.Context, id string, lines []api.Line, ttl time.Duration) (api.Reservation, error) {
	var out api.Reservation
	err := c.c.Call(ctx, "reserve", reserveIn{id, lines, ttl}, &out, true)
	return out, err
}

func (c *Client) Commit(ctx context.Context, id string) error {
	return c.c.Call(ctx, "commit", idIn{id}, nil, true)
}

func (c *Client) Release(ctx context.Context, id string) error {
	return c.c.Call(ctx, "release", idIn{id}, nil, true)
}

func (c *Client) Restock(ctx context.Context, id string, lines []api.Line) error {
	return c.c.Call(ctx, "restock", restockIn{id, lines}, nil, true)
}

// Adjust is retried only when it has a key: then it is idempotent.
func (c *Client) Adjust(ctx context.Context, sku string, delta int64, reason, actor, key string) (api.Adjustment, api.Level, error) {
	var out adjustOut
	err := c.c.Call(ctx, "adjust", adjustIn{sku, delta, reason, actor, key}, &out, key != "")
	return out.Adjustment, out.Level, err
}

func (c *Client) Receive(ctx context.Context, receipts []api.Receipt, reason, actor string) (int, error) {
	var n int
	err := c.c.Call(ctx, "receive", receiveIn{receipts, reason, actor}, &n, false)
	return n, err
}
