package customers

import (
	"context"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/remote"
)

// The operation of api.BackOffice: a read, retried.
var listCustomers = remote.Op1[api.CustomerQuery, api.CustomerPage]{Name: "list_customers", Retry: remote.Retry}

// backOfficeEndpoints serve api.BackOffice (listed in endpoints).
func backOfficeEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{listCustomers.Serve(s.ListCustomers)}
}

var _ api.BackOffice = (*Client)(nil)

func (c *Client) ListCustomers(ctx context.Context, q api.CustomerQuery) (api.CustomerPage, error) {
	return listCustomers.Call(ctx, c.c, q)
}
