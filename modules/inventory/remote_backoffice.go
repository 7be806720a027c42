package inventory

import (
	"context"
	"strconv"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/service"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/remote"
)

// The operations of api.BackOffice: reads, retried.
var (
	level  = remote.Op1[string, api.Level]{Name: "level", Retry: remote.Retry}
	levels = remote.Op2[string, int, []api.Level]{Name: "levels", Retry: remote.Retry}
	ledger = remote.Op3[string, string, int, []api.Adjustment]{Name: "ledger", Retry: remote.Retry}
)

// backOfficeEndpoints serve api.BackOffice; endpoints (remote.go) lists
// them with the others. The service's pages take what its HTTP handlers
// have checked; here the api's caller's limit and ledger cursor are checked.
func backOfficeEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{
		level.Serve(s.Level),
		levels.Serve(func(ctx context.Context, after string, limit int) ([]api.Level, error) {
			return s.Levels(ctx, after, pageLimit(limit))
		}),
		ledger.Serve(func(ctx context.Context, sku, before string, limit int) ([]api.Adjustment, error) {
			var id int64
			if before != "" {
				var err error
				if id, err = strconv.ParseInt(before, 10, 64); err != nil || id <= 0 {
					return nil, errs.Invalid(errs.FieldError{Field: "before", Message: "is not an adjustment id"})
				}
			}
			return s.Ledger(ctx, sku, id, pageLimit(limit))
		}),
	}
}

func pageLimit(limit int) int {
	if limit < 1 || limit > api.MaxPage {
		return api.DefaultPage
	}
	return limit
}

var _ api.BackOffice = (*Client)(nil)

func (c *Client) Level(ctx context.Context, sku string) (api.Level, error) {
	return level.Call(ctx, c.c, sku)
}

func (c *Client) Levels(ctx context.Context, after string, limit int) ([]api.Level, error) {
	return levels.Call(ctx, c.c, after, limit)
}

func (c *Client) Ledger(ctx context.Context, sku, before string, limit int) ([]api.Adjustment, error) {
	return ledger.Call(ctx, c.c, sku, before, limit)
}
