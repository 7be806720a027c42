package search

import (
	"context"

	"github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/modules/search/internal/httpapi"
	"github.com/modshop/modshop/modules/search/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/remote"
)

// Remote gives a process that does not run search its api over HTTP
// (MODSHOP_REMOTE_SEARCH), and forwards the search routes there.
var Remote = remote.Module(Descriptor, func() httpx.RouteSet { return routes(nil, "", httpapi.CacheConfig{}, nil, nil) },
	func(c *remote.Client) (api.Search, api.Searcher) { cl := NewClient(c); return cl, cl })

// The operation of api.Search. Reindex is retried when search cannot be
// reached: a rebuild from the catalog ends in the same read model however
// often it runs. It runs within the caller's deadline (remote.DefaultTimeout
// when ctx has none), so give a large catalog a longer one.
var reindex = remote.Op0[int]{Name: "reindex", Retry: remote.Retry}

// The operation of api.Searcher: a read, retried.
var query = remote.Op1[api.Query, api.Result]{Name: "query", Retry: remote.Retry}

// endpoints are the module's api, one typed operation per method: served
// to remote callers (internalRoutes) and to this process's other modules
// (Local).
func endpoints(s *service.Service, h *httpapi.Handler) []remote.Endpoint {
	return []remote.Endpoint{reindex.Serve(s.Reindex), query.Serve(h.Query)}
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service, h *httpapi.Handler) httpx.RouteSet {
	return remote.Routes(Name, endpoints(s, h)...)
}

// Local is the api as this process's other modules call it: through the
// same operations, run in process.
func Local(s *service.Service, h *httpapi.Handler) *Client {
	return NewClient(remote.Local(Name, endpoints(s, h)...))
}

// Client is api.Search and api.Searcher over HTTP.
type Client struct{ c *remote.Client }

var (
	_ api.Search   = (*Client)(nil)
	_ api.Searcher = (*Client)(nil)
)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Reindex(ctx context.Context) (int, error) { return reindex.Call(ctx, c.c) }

func (c *Client) Query(ctx context.Context, q api.Query) (api.Result, error) {
	return query.Call(ctx, c.c, q)
}
