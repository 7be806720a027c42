package catalog

import (
	"context"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/httpapi"
	"github.com/modshop/modshop/modules/catalog/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/remote"
)

// Remote gives a process that does not run the catalog its api over HTTP
// (MODSHOP_REMOTE_CATALOG), and forwards the catalog's public routes there.
var Remote = remote.Module(Descriptor, func() httpx.RouteSet { return httpapi.Routes(nil, httpapi.CacheConfig{}, nil) },
	func(c *remote.Client) (api.Catalog, api.Admin, api.Storefront) { cl := NewClient(c); return cl, cl, cl },
	func(c *remote.Client) api.BackOffice { return NewClient(c) })

// The operations of api.Catalog and api.Admin, one per method. The reads
// are retried when the catalog cannot be reached; the writes never are (a
// create that did happen would answer slug_taken the second time, and a
// repeated import skips the slugs the first one created: a caller that
// wants a retry makes it, and sees how many products each attempt created).
var (
	variantsBySKU  = remote.Op1[[]string, map[string]api.VariantInfo]{Name: "variants_by_sku", Retry: remote.Retry}
	product        = remote.Op1[string, api.Product]{Name: "product", Retry: remote.Retry}
	products       = remote.Op2Pair[string, int, []api.Product, string]{Name: "products", Retry: remote.Retry}
	categories     = remote.Op0[[]api.Category]{Name: "categories", Retry: remote.Retry}
	createCategory = remote.Op1[api.NewCategory, api.Category]{Name: "create_category"}
	createProduct  = remote.Op1[api.NewProduct, api.Product]{Name: "create_product"}
	importProducts = remote.Op1[[]api.NewProduct, int]{Name: "import_products"}
)

// endpoints are the module's api, one typed operation per method: served
// to remote callers (internalRoutes) and to this process's other modules
// (Local).
func endpoints(s *service.Service, r *httpapi.Reads) []remote.Endpoint {
	eps := []remote.Endpoint{variantsBySKU.Serve(s.VariantsBySKU), product.Serve(s.Product), products.Serve(s.Products),
		categories.Serve(s.Categories), createCategory.Serve(s.CreateCategory), createProduct.Serve(s.CreateProduct),
		importProducts.Serve(s.ImportProducts)}
	eps = append(eps, backOfficeEndpoints(s)...)
	return append(eps, storefrontEndpoints(r)...)
}

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service, r *httpapi.Reads) httpx.RouteSet {
	return remote.Routes(Name, endpoints(s, r)...)
}

// Local is the api as this process's other modules call it: through the
// same operations, run in process.
func Local(s *service.Service, r *httpapi.Reads) *Client {
	return NewClient(remote.Local(Name, endpoints(s, r)...))
}

// Client is api.Catalog, api.Admin and api.Storefront over HTTP.
type Client struct{ c *remote.Client }

var (
	_ api.Catalog = (*Client)(nil)
	_ api.Admin   = (*Client)(nil)
)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) VariantsBySKU(ctx context.Context, skus []string) (map[string]api.VariantInfo, error) {
	return variantsBySKU.Call(ctx, c.c, skus)
}

func (c *Client) Product(ctx context.Context, id string) (api.Product, error) {
	return product.Call(ctx, c.c, id)
}

func (c *Client) Products(ctx context.Context, cursor string, limit int) ([]api.Product, string, error) {
	return products.Call(ctx, c.c, cursor, limit)
}

func (c *Client) Categories(ctx context.Context) ([]api.Category, error) {
	return categories.Call(ctx, c.c)
}

func (c *Client) CreateCategory(ctx context.Context, in api.NewCategory) (api.Category, error) {
	return createCategory.Call(ctx, c.c, in)
}

func (c *Client) CreateProduct(ctx context.Context, in api.NewProduct) (api.Product, error) {
	return createProduct.Call(ctx, c.c, in)
}

func (c *Client) ImportProducts(ctx context.Context, in []api.NewProduct) (int, error) {
	return importProducts.Call(ctx, c.c, in)
}
