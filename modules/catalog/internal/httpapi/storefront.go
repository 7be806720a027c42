package httpapi

import (
	"context"
	"slices"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/service"
)

// api.Storefront is answered from the same cache as the public routes, under
// the same keys (as without ?pretty): the cached entry holds the rows and
// their stock, so a warm product page costs a map lookup and no encoding.

var _ api.Storefront = (*Reads)(nil)

// PublishedProduct is one published product with its variants'
// availability and its category (api.Storefront).
func (r *Reads) PublishedProduct(ctx context.Context, ref string) (api.ProductView, error) {
	e, err := r.h.productEntry(ctx, ref, false)
	if err != nil {
		return api.ProductView{}, err
	}
	p := *e.page.product
	// The cached product is shared by every request: the caller gets its
	// own slice of variants.
	p.Variants = slices.Clone(p.Variants)
	v := api.ProductView{Product: p, Availability: make([]int64, len(p.Variants))}
	for i, vr := range p.Variants {
		v.Availability[i] = e.stock[vr.SKU]
	}
	if p.CategoryID != nil {
		// The categories are one cached answer too: no query per page.
		c, ok, err := r.category(ctx, *p.CategoryID)
		if err != nil {
			return api.ProductView{}, err
		}
		if ok {
			v.Category = &c
		}
	}
	return v, nil
}

// Browse is a page of published products (api.Storefront).
func (r *Reads) Browse(ctx context.Context, q api.BrowseQuery) (api.ProductPage, error) {
	req := service.ListRequest{Category: q.Category, MinPrice: q.MinPrice, MaxPrice: q.MaxPrice,
		Sort: q.Sort, Limit: q.Limit, Cursor: q.Cursor}.Normalized()
	if err := req.Check().Err(); err != nil {
		return api.ProductPage{}, err
	}
	out := api.ProductPage{Items: []api.ProductSummary{}}
	if q.Category != "" {
		// GET /v1/products lists nothing for an unknown category; a page
		// that names one is not found.
		c, ok, err := r.category(ctx, q.Category)
		if err != nil {
			return api.ProductPage{}, err
		}
		if !ok {
			return api.ProductPage{}, api.ErrCategoryNotFound
		}
		out.Category = &c
	}
	e, err := r.h.listEntry(ctx, req, false)
	if err != nil {
		return api.ProductPage{}, err
	}
	l := e.page.list
	out.Next = l.Next
	for _, p := range l.Products {
		s := api.ProductSummary{ID: p.ID, Slug: p.Slug, Title: p.Title, CategoryID: p.CategoryID}
		for i, v := range p.Variants {
			if i == 0 || v.Price.Amount < s.PriceFrom.Amount {
				s.PriceFrom = v.Price
			}
			if i == 0 || v.Price.Amount > s.PriceTo.Amount {
				s.PriceTo = v.Price
			}
			s.Available += e.stock[v.SKU]
		}
		out.Items = append(out.Items, s)
	}
	return out, nil
}

// ShopCategories is the category tree from the cache (api.Storefront).
func (r *Reads) ShopCategories(ctx context.Context) ([]api.Category, error) {
	e, err := r.h.categoriesEntry(ctx, false)
	if err != nil {
		return nil, err
	}
	return slices.Clone(e.page.cats), nil
}

// category finds a category by id or slug in the cached tree, without
// copying the tree.
func (r *Reads) category(ctx context.Context, idOrSlug string) (api.Category, bool, error) {
	e, err := r.h.categoriesEntry(ctx, false)
	if err != nil {
		return api.Category{}, false, err
	}
	for _, c := range e.page.cats {
		if c.ID == idOrSlug || c.Slug == idOrSlug {
			return c, true, nil
		}
	}
	return api.Category{}, false, nil
}
