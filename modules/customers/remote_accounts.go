package customers

import (
	"context"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/remote"
)

// The operations of api.Accounts, one per method. All write (a sign-in
// counts its failure before it checks the password), so none is retried:
// a retry would count one mistake twice or register twice.
var (
	registerAccount = remote.Op1[api.Registration, api.Customer]{Name: "register"}
	authenticate    = remote.Op3[string, string, string, api.Customer]{Name: "authenticate"}
	updateProfile   = remote.Op2[string, string, api.Customer]{Name: "update_profile"}
	addAddress      = remote.Op2[string, api.Address, api.Address]{Name: "add_address"}
	updateAddress   = remote.Op2[string, api.Address, api.Address]{Name: "update_address"}
	deleteAddress   = remote.Cmd2[string, string]{Name: "delete_address"}
)

// accountEndpoints serve api.Accounts (listed in endpoints, remote.go).
func accountEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{registerAccount.Serve(s.RegisterAccount), authenticate.Serve(s.Authenticate),
		updateProfile.Serve(s.Rename), addAddress.Serve(s.AddToAddressBook), updateAddress.Serve(s.ReplaceAddress),
		deleteAddress.Serve(s.DeleteAddress)}
}

var _ api.Accounts = (*Client)(nil)

func (c *Client) Register(ctx context.Context, in api.Registration) (api.Customer, error) {
	return registerAccount.Call(ctx, c.c, in)
}

func (c *Client) Authenticate(ctx context.Context, email, password, clientIP string) (api.Customer, error) {
	return authenticate.Call(ctx, c.c, email, password, clientIP)
}

func (c *Client) UpdateProfile(ctx context.Context, customerID, name string) (api.Customer, error) {
	return updateProfile.Call(ctx, c.c, customerID, name)
}

func (c *Client) AddAddress(ctx context.Context, customerID string, a api.Address) (api.Address, error) {
	return addAddress.Call(ctx, c.c, customerID, a)
}

func (c *Client) UpdateAddress(ctx context.Context, customerID string, a api.Address) (api.Address, error) {
	return updateAddress.Call(ctx, c.c, customerID, a)
}

func (c *Client) DeleteAddress(ctx context.Context, customerID, addressID string) error {
	return deleteAddress.Call(ctx, c.c, customerID, addressID)
}
