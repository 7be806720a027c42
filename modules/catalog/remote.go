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
	func(c *remote.Client) (api.Catalog, api.Admin) { cl := NewClient(c); return cl, cl })

// The wire form of the calls that take or give more than one value.
type (
	idIn struct {
		ID string `json:"id"`
	}
	productsIn struct {
		Cursor string `json:"cursor"`
		Limit  int    `json:"limit"`
	}
	productsOut struct {
		Page []api.Product `json:"page"`
		Next string        `json:"next"`
	}
	none struct{}
)

// internalRoutes serve the api to remote callers.
func internalRoutes(s *service.Service) httpx.RouteSet {
	return remote.Routes(Name,
		remote.Op("variants_by_sku", func(ctx context.Context, skus []string) (map[string]api.VariantInfo, error) {
			return s.VariantsBySKU(ctx, skus)
		}),
		remote.Op("product", func(ctx context.Context, in idIn) (api.Product, error) { return s.Product(ctx, in.ID) }),
		remote.Op("products", func(ctx context.Context, in productsIn) (productsOut, error) {
			page, next, err := s.Products(ctx, in.Cursor, in.Limit)
			return productsOut{page, next}, err
		}),
		remote.Op("categories", func(ctx context.Context, _ none) ([]api.Category, error) { return s.Categories(ctx) }),
		remote.Op("create_category", func(ctx context.Context, in api.NewCategory) (api.Category, error) {
			return s.CreateCategory(ctx, in)
		}),
		remote.Op("create_product", func(ctx context.Context, in api.NewProduct) (api.Product, error) {
			return s.CreateProduct(ctx, in)
		}),
		remote.Op("import_products", func(ctx context.Context, in []api.NewProduct) (int, error) {
			return s.ImportProducts(ctx, in)
		}),
	)
}

// Client is api.Catalog and api.Admin over HTTP. The reads are retried when
// the catalog cannot be reached; the writes never are (a create that did
// happen would answer slug_taken the second time).
type Client struct{ c *remote.Client }

var (
	_ api.Catalog = (*Client)(nil)
	_ api.Admin   = (*Client)(nil)
)

// NewClient makes the client.
func NewClient(c *remote.Client) *Client { return &Client{c: c} }

func (c *Client) VariantsBySKU(ctx context.Context, skus []string) (map[string]api.VariantInfo, error) {
	var out map[string]api.VariantInfo
	if err := c.c.Call(ctx, "variants_by_sku", skus, &out, true); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) Product(ctx context.Context, id string) (api.Product, error) {
	var out api.Product
	if err := c.c.Call(ctx, "product", idIn{id}, &out, true); err != nil {
		return api.Product{}, err
	}
	return out, nil
}

func (c *Client) Products(ctx context.Context, cursor string, limit int) ([]api.Product, string, error) {
	var out productsOut
	if err := c.c.Call(ctx, "products", productsIn{cursor, limit}, &out, true); err != nil {
		return nil, "", err
	}
	return out.Page, out.Next, nil
}

func (c *Client) Categories(ctx context.Context) ([]api.Category, error) {
	var out []api.Category
	if err := c.c.Call(ctx, "categories", none{}, &out, true); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) CreateCategory(ctx context.Context, in api.NewCategory) (api.Category, error) {
	var out api.Category
	if err := c.c.Call(ctx, "create_category", in, &out, false); err != nil {
		return api.Category{}, err
	}
	return out, nil
}

func (c *Client) CreateProduct(ctx context.Context, in api.NewProduct) (api.Product, error) {
	var out api.Product
	if err := c.c.Call(ctx, "create_product", in, &out, false); err != nil {
		return api.Product{}, err
	}
	return out, nil
}

// ImportProducts is not retried either, though a repeated import skips the
// slugs the first one created: a caller that wants a retry makes it, and
// sees how many products each attempt created.
func (c *Client) ImportProducts(ctx context.Context, in []api.NewProduct) (int, error) {
	var n int
	if err := c.c.Call(ctx, "import_products", in, &n, false); err != nil {
		return 0, err
	}
	return n, nil
}
