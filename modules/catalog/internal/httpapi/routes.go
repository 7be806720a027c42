// Package httpapi is the catalog's part of the public /v1 API: echo
// handlers that bind and check the request, call the service and shape the
// answer. Errors go back as they are; httpx maps them to problems.
package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/modules/catalog/internal/service"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
)

// Routes are the catalog's routes. The public reads are answered from a
// cache (see CacheConfig) whose metrics go to reg when it is not nil.
// Building them calls nothing on svc (Remote builds them with none).
func Routes(svc *service.Service, cfg CacheConfig, reg prometheus.Registerer) httpx.RouteSet {
	return NewReads(svc, cfg, reg).Routes()
}

// Reads are the public reads with their cache: served as routes (Routes)
// and as api.Storefront (storefront.go), one cache for both, so a product
// page and GET /v1/products/{slug} warm each other.
type Reads struct{ h *handlers }

// NewReads makes the reads and their cache; it calls nothing on svc.
func NewReads(svc *service.Service, cfg CacheConfig, reg prometheus.Registerer) *Reads {
	return &Reads{h: &handlers{svc: svc, cache: newCache(svc, cfg, reg)}}
}

// Routes are the catalog's routes, the public reads answered from r's cache.
func (r *Reads) Routes() httpx.RouteSet {
	h := r.h
	listParams := httpx.PageParams()
	return httpx.RouteSet{Module: "catalog",
		Description: "Categories and products with their variants and prices: what the shop sells, and the admin routes that change it.",
		Routes: []httpx.Route{
			{Method: http.MethodGet, Path: "/v1/categories", Access: httpx.Public, Handler: h.categories,
				Summary: "The category tree, flat, parents first", Response: CategoryList{}},
			{Method: http.MethodGet, Path: "/v1/products", Access: httpx.Public, Handler: h.products,
				Summary: "Published products, a page at a time",
				Query: append([]httpx.Param{
					{Name: "category", Type: "string", Description: "category slug or id; includes its subcategories"},
					{Name: "min_price", Type: "integer", Description: "lowest variant price at least this (minor units)"},
					{Name: "max_price", Type: "integer", Description: "lowest variant price at most this (minor units)"},
					{Name: "sort", Type: "string", Description: "order (default newest)", Enum: []string{"newest", "price_asc", "price_desc", "title"}},
				}, listParams...),
				Response: exampleProductList},
			{Method: http.MethodGet, Path: "/v1/products/:id-or-slug", Access: httpx.Public, Handler: h.product,
				Summary: "One published product by id or slug", Response: exampleProduct},

			{Method: http.MethodPost, Path: "/v1/admin/categories", Access: httpx.Admin, Handler: h.createCategory,
				Summary: "Create a category", Request: exampleNewCategory, Response: api.Category{}, Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
			{Method: http.MethodGet, Path: "/v1/admin/products", Access: httpx.Admin, Handler: h.adminProducts,
				Summary: "Products of every status, newest first",
				Query: append([]httpx.Param{
					{Name: "status", Type: "string", Description: "only products with this status", Enum: []string{"draft", "published", "archived"}},
				}, listParams...),
				Response: ProductList{}},
			{Method: http.MethodGet, Path: "/v1/admin/products/:id", Access: httpx.Admin, Handler: h.adminProduct,
				Summary: "One product of any status", Response: Product{}},
			{Method: http.MethodPost, Path: "/v1/admin/products", Access: httpx.Admin, Handler: h.createProduct,
				Summary: "Create a product with its variants", Request: exampleNewProduct, Response: exampleProduct, Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
			{Method: http.MethodPatch, Path: "/v1/admin/products/:id", Access: httpx.Admin, Handler: h.updateProduct,
				Summary: "Change a product's slug, title, description, category or status", Request: exampleProductPatch, Response: Product{}, Errors: []int{http.StatusConflict}},
			{Method: http.MethodDelete, Path: "/v1/admin/products/:id", Access: httpx.Admin, Handler: h.archiveProduct,
				Summary: "Archive a product", Status: http.StatusNoContent},
			{Method: http.MethodPost, Path: "/v1/admin/products/:id/variants", Access: httpx.Admin, Handler: h.addVariant,
				Summary: "Add a variant; answers the product", Request: exampleNewVariant, Response: Product{}, Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
			{Method: http.MethodPatch, Path: "/v1/admin/variants/:id", Access: httpx.Admin, Handler: h.updateVariant,
				Summary: "Change a variant's title, price or attributes; answers the variant", Request: exampleVariantPatch, Response: exampleVariant},
		}}
}

type handlers struct {
	svc   *service.Service
	cache *cache
}

func (h *handlers) categories(c echo.Context) error {
	e, err := h.categoriesEntry(c.Request().Context(), httpx.WantsPretty(c))
	if err != nil {
		return err
	}
	return writeEntry(c, e)
}

func (h *handlers) categoriesEntry(ctx context.Context, pretty bool) (*entry, error) {
	return h.cache.answer(ctx, kindCategories, categoriesKey(pretty), func(ctx context.Context) (*page, error) {
		cs, err := h.svc.Categories(ctx)
		if err != nil {
			return nil, err
		}
		return categoriesPage(cs, pretty), nil
	})
}

func (h *handlers) products(c echo.Context) error {
	var fe errs.Fields
	limit := httpx.QueryInt(c, "limit", service.DefaultLimit, 1, service.MaxLimit, &fe)
	minPrice := httpx.QueryOptInt(c, "min_price", 0, domain.MaxPrice, &fe)
	maxPrice := httpx.QueryOptInt(c, "max_price", 0, domain.MaxPrice, &fe)
	if err := fe.Err(); err != nil {
		return err
	}
	r := service.ListRequest{
		Category: c.QueryParam("category"), MinPrice: minPrice, MaxPrice: maxPrice,
		Sort: c.QueryParam("sort"), Limit: int(limit), Cursor: c.QueryParam("cursor"),
	}.Normalized()
	// Checked before the cache: a refused request is never cached.
	if err := r.Check().Err(); err != nil {
		return err
	}
	e, err := h.listEntry(c.Request().Context(), r, httpx.WantsPretty(c))
	if err != nil {
		return err
	}
	return writeEntry(c, e)
}

// listEntry is the cached answer of a checked, normalized request.
func (h *handlers) listEntry(ctx context.Context, r service.ListRequest, pretty bool) (*entry, error) {
	return h.cache.answer(ctx, kindProducts, listKey(r, pretty), func(ctx context.Context) (*page, error) {
		l, err := h.svc.PublishedPage(ctx, r)
		if err != nil {
			return nil, err
		}
		return listPage(l, pretty), nil
	})
}

func (h *handlers) product(c echo.Context) error {
	e, err := h.productEntry(c.Request().Context(), c.Param("id-or-slug"), httpx.WantsPretty(c))
	if err != nil {
		return err
	}
	return writeEntry(c, e)
}

// productEntry is the cached answer of one published product;
// api.ErrProductNotFound when there is none.
func (h *handlers) productEntry(ctx context.Context, ref string, pretty bool) (*entry, error) {
	e, err := h.cache.answer(ctx, kindProduct, productKey(ref, pretty), func(ctx context.Context) (*page, error) {
		p, err := h.svc.PublishedProductOnly(ctx, ref)
		if errors.Is(err, api.ErrProductNotFound) {
			return &page{pretty: pretty, notFound: true}, nil // remembered like any answer
		}
		if err != nil {
			return nil, err
		}
		return productPage(p, pretty), nil
	})
	if err != nil {
		return nil, err
	}
	if e.page.notFound {
		return nil, api.ErrProductNotFound
	}
	return e, nil
}

func (h *handlers) createCategory(c echo.Context) error {
	var in api.NewCategory
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	cat, err := h.svc.CreateCategory(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, cat)
}

func (h *handlers) adminProducts(c echo.Context) error {
	var fe errs.Fields
	limit := httpx.QueryInt(c, "limit", service.DefaultLimit, 1, service.MaxLimit, &fe)
	if err := fe.Err(); err != nil {
		return err
	}
	l, err := h.svc.AdminProducts(c.Request().Context(), service.AdminListRequest{
		Status: c.QueryParam("status"), Limit: int(limit), Cursor: c.QueryParam("cursor"),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOut(l))
}

func (h *handlers) adminProduct(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.svc.Product(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, productOut(p, h.svc.StockOf(ctx, p)))
}

func (h *handlers) createProduct(c echo.Context) error {
	var in api.NewProduct
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := h.svc.CreateProduct(ctx, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, productOut(p, h.svc.StockOf(ctx, p)))
}

func (h *handlers) updateProduct(c echo.Context) error {
	var in ProductPatch
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := h.svc.UpdateProduct(ctx, c.Param("id"), in.domain())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, productOut(p, h.svc.StockOf(ctx, p)))
}

func (h *handlers) archiveProduct(c echo.Context) error {
	if err := h.svc.ArchiveProduct(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) addVariant(c echo.Context) error {
	var in api.NewVariant
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := h.svc.AddVariant(ctx, c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, productOut(p, h.svc.StockOf(ctx, p)))
}

func (h *handlers) updateVariant(c echo.Context) error {
	var in VariantPatch
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := h.svc.UpdateVariant(ctx, c.Param("id"), in.domain())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, variantOut(v, h.svc.StockOfSKUs(ctx, v.SKU)))
}
