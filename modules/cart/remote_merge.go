package cart

import (
	"context"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/service"
	"github.com/modshop/modshop/platform/remote"
)

// merge is api.Merger's operation. A merge repeated into the same cart
// changes nothing and answers that cart, so it is safe to retry.
var merge = remote.Op2[string, string, api.Cart]{Name: "merge", Retry: remote.Retry}

// mergeEndpoints serve api.Merger (listed in endpoints, remote.go).
func mergeEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{merge.Serve(s.Merge)}
}

var _ api.Merger = (*Client)(nil)

func (c *Client) Merge(ctx context.Context, customerID, guestID string) (api.Cart, error) {
	return merge.Call(ctx, c.c, customerID, guestID)
}
