package customers

import (
	"context"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/httpapi"
	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/remote"
)

// Remote gives a process that does not run the customers module its api
// over HTTP (MODSHOP_REMOTE_CUSTOMERS), and forwards the module's public
// routes there.
var Remote = remote.Module(Descriptor, func() httpx.RouteSet { return httpapi.Routes(nil) },
	func(c *remote.Client) api.Customers { return NewClient(c) },
	func(c *remote.Client) api.Accounts { return NewClient(c) },   // remote_accounts.go
	func(c *remote.Client) api.BackOffice { return NewClient(c) }) // back office (web admin)

// The operations of api.Customers, one per method. Both are reads, retried
// when the module cannot be reached.
var (
	customer  = remote.Op1[string, api.Customer]{Name: "customer", Retry: remote.Retry}
	address   = remote.Op2[string, string, api.Address]{Name: "address", Retry: remote.Retry}
	addresses = remote.Op1[string, []api.Address]{Name: "address_book", Retry: remote.Retry}
)

// endpoints are the module's api, one typed operation per method: served
// to remote callers (internalRoutes) and to this process's other modules
// (Local).
func endpoints(s *service.Service) []remote.Endpoint {
	eps := []remote.Endpoint{customer.Serve(s.Customer), address.Serve(s.Address), addresses.Serve(s.AddressBook)}
	eps = append(eps, accountEndpoints(s)...)    // api.Accounts, remote_accounts.go
	eps = append(eps, backOfficeEndpoints(s)...) // back office (web admin)
	return eps
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet { return remote.Routes(Name, endpoints(s)...) }

// Local is the api as this process's other modules call it: through the
// same operations, run in process.
func Local(s *service.Service) *Client { return NewClient(remote.Local(Name, endpoints(s)...)) }

// Client is api.Customers over HTTP.
type Client struct{ c *remote.Client }

var _ api.Customers = (*Client)(nil)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Customer(ctx context.Context, id string) (api.Customer, error) {
	return customer.Call(ctx, c.c, id)
}

func (c *Client) Address(ctx context.Context, customerID, addressID string) (api.Address, error) {
	return address.Call(ctx, c.c, customerID, addressID)
}

func (c *Client) AddressBook(ctx context.Context, customerID string) ([]api.Address, error) {
	return addresses.Call(ctx, c.c, customerID)
}
