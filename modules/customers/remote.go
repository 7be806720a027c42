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
	func(c *remote.Client) api.Customers { return NewClient(c) })

// The wire form of the calls.
type (
	idIn struct {
		ID string `json:"id"`
	}
	addressIn struct {
		CustomerID string `json:"customer_id"`
		AddressID  string `json:"address_id"`
	}
)

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet {
	return remote.Routes(Name,
		remote.Op("customer", func(ctx context.Context, in idIn) (api.Customer, error) { return s.Customer(ctx, in.ID) }),
		remote.Op("address", func(ctx context.Context, in addressIn) (api.Address, error) {
			return s.Address(ctx, in.CustomerID, in.AddressID)
		}),
	)
}

// Client is api.Customers over HTTP. Both calls are reads, retried when the
// module cannot be reached.
type Client struct{ c *remote.Client }

var _ api.Customers = (*Client)(nil)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) Customer(ctx context.Context, id string) (api.Customer, error) {
	var out api.Customer
	if err := c.c.Call(ctx, "customer", idIn{id}, &out, true); err != nil {
		return api.Customer{}, err
	}
	return out, nil
}

func (c *Client) Address(ctx context.Context, customerID, addressID string) (api.Address, error) {
	var out api.Address
	if err := c.c.Call(ctx, "address", addressIn{customerID, addressID}, &out, true); err != nil {
		return api.Address{}, err
	}
	return out, nil
}
