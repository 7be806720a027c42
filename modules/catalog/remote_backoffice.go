package catalog

import (
	"context"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/service"
	"github.com/modshop/modshop/platform/remote"
)

// The operations of api.BackOffice. The list is a read and retried; the
// changes are not (a retried AddVariant would answer sku_taken, and a
// caller should see that its change may have happened rather than have it
// made twice).
var (
	adminProducts  = remote.Op1[api.AdminProductQuery, api.AdminProductPage]{Name: "admin_products", Retry: remote.Retry}
	updateProduct  = remote.Op2[string, api.ProductPatch, api.Product]{Name: "update_product"}
	archiveProduct = remote.Cmd1[string]{Name: "archive_product"}
	addVariant     = remote.Op2[string, api.NewVariant, api.Product]{Name: "add_variant"}
	updateVariant  = remote.Op2[string, api.VariantPatch, api.Variant]{Name: "update_variant"}
)

// backOfficeEndpoints serve api.BackOffice; endpoints (remote.go) lists
// them with the others.
func backOfficeEndpoints(s *service.Service) []remote.Endpoint {
	return []remote.Endpoint{adminProducts.Serve(s.AdminProductPage), updateProduct.Serve(s.PatchProduct),
		archiveProduct.Serve(s.ArchiveProduct), addVariant.Serve(s.AddVariant), updateVariant.Serve(s.PatchVariant)}
}

var _ api.BackOffice = (*Client)(nil)

func (c *Client) AdminProducts(ctx context.Context, q api.AdminProductQuery) (api.AdminProductPage, error) {
	return adminProducts.Call(ctx, c.c, q)
}

func (c *Client) UpdateProduct(ctx context.Context, id string, patch api.ProductPatch) (api.Product, error) {
	return updateProduct.Call(ctx, c.c, id, patch)
}

func (c *Client) ArchiveProduct(ctx context.Context, id string) error {
	return archiveProduct.Call(ctx, c.c, id)
}

func (c *Client) AddVariant(ctx context.Context, productID string, in api.NewVariant) (api.Product, error) {
	return addVariant.Call(ctx, c.c, productID, in)
}

func (c *Client) UpdateVariant(ctx context.Context, variantID string, patch api.VariantPatch) (api.Variant, error) {
	return updateVariant.Call(ctx, c.c, variantID, patch)
}
