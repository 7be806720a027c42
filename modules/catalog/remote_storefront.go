package catalog

import (
	"context"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/httpapi"
	"github.com/modshop/modshop/platform/remote"
)

// The operations of api.Storefront: reads, retried when the catalog cannot
// be reached.
var (
	publishedProduct = remote.Op1[string, api.ProductView]{Name: "published_product", Retry: remote.Retry}
	browse           = remote.Op1[api.BrowseQuery, api.ProductPage]{Name: "browse", Retry: remote.Retry}
	shopCategories   = remote.Op0[[]api.Category]{Name: "shop_categories", Retry: remote.Retry}
)

// storefrontEndpoints serve api.Storefront from the public reads' cache.
func storefrontEndpoints(r *httpapi.Reads) []remote.Endpoint {
	return []remote.Endpoint{publishedProduct.Serve(r.PublishedProduct), browse.Serve(r.Browse),
		shopCategories.Serve(r.ShopCategories)}
}

var _ api.Storefront = (*Client)(nil)

func (c *Client) PublishedProduct(ctx context.Context, idOrSlug string) (api.ProductView, error) {
	return publishedProduct.Call(ctx, c.c, idOrSlug)
}

func (c *Client) Browse(ctx context.Context, q api.BrowseQuery) (api.ProductPage, error) {
	return browse.Call(ctx, c.c, q)
}

func (c *Client) ShopCategories(ctx context.Context) ([]api.Category, error) {
	return shopCategories.Call(ctx, c.c)
}
