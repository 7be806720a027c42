package cart

import (
	"context"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/service"
	"github.com/modshop/modshop/platform/remote"
)

// The operations of api.Shopping. Only MyCart is retried: a customer has
// one active cart (a unique index), so asking twice makes one. Create
// would make a second guest cart, and adding or removing twice is not
// doing it once.
var (
	createCart = remote.Op1[string, api.Cart]{Name: "create"}
	myCart     = remote.Op1[string, api.Cart]{Name: "my_cart", Retry: remote.Retry}
	addItem    = remote.Op3[string, string, api.NewItem, api.Cart]{Name: "add_item"}
	updateItem = remote.Op3[string, string, api.ItemChange, api.Cart]{Name: "update_item"}
	removeItem = remote.Op3[string, string, string, api.Cart]{Name: "remove_item"}
)

// shoppingEndpoints serve api.Shopping with the service's use cases, as
// the public routes call them.
func shoppingEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{
		createCart.Serve(s.Create),
		myCart.Serve(s.MyCart),
		addItem.Serve(func(ctx context.Context, cartID, customerID string, it api.NewItem) (api.Cart, error) {
			return s.AddItem(ctx, cartID, customerID, it.SKU, &it.Quantity)
		}),
		updateItem.Serve(func(ctx context.Context, cartID, customerID string, ch api.ItemChange) (api.Cart, error) {
			return s.UpdateItem(ctx, cartID, customerID, ch.ItemID, &ch.Quantity)
		}),
		removeItem.Serve(s.RemoveItem),
	}
}

var _ api.Shopping = (*Client)(nil)

func (c *Client) Create(ctx context.Context, customerID string) (api.Cart, error) {
	return createCart.Call(ctx, c.c, customerID)
}

func (c *Client) MyCart(ctx context.Context, customerID string) (api.Cart, error) {
	return myCart.Call(ctx, c.c, customerID)
}

func (c *Client) AddItem(ctx context.Context, cartID, customerID string, item api.NewItem) (api.Cart, error) {
	return addItem.Call(ctx, c.c, cartID, customerID, item)
}

func (c *Client) UpdateItem(ctx context.Context, cartID, customerID string, change api.ItemChange) (api.Cart, error) {
	return updateItem.Call(ctx, c.c, cartID, customerID, change)
}

func (c *Client) RemoveItem(ctx context.Context, cartID, customerID, itemID string) (api.Cart, error) {
	return removeItem.Call(ctx, c.c, cartID, customerID, itemID)
}
