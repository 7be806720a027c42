package service

import (
	"context"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/modules/catalog/internal/store"
)

// The api.BackOffice methods: the admin HTTP API's operations with api
// types in and out.

// AdminProductPage is AdminProducts without the stock (api.BackOffice):
// the back office asks inventory for the levels it shows.
func (s *Service) AdminProductPage(ctx context.Context, q api.AdminProductQuery) (api.AdminProductPage, error) {
	r := AdminListRequest{Status: string(q.Status), Limit: q.Limit, Cursor: q.Cursor}
	if err := r.Check().Err(); err != nil {
		return api.AdminProductPage{}, err
	}
	lq := store.ListQuery{Status: q.Status, Sort: store.SortNewest, Limit: limitOr(q.Limit)}
	if q.Cursor != "" {
		k, _ := store.DecodeCursor(q.Cursor, store.SortNewest) // checked above
		lq.After = &k
	}
	l, err := s.page(ctx, lq)
	if err != nil {
		return api.AdminProductPage{}, err
	}
	return api.AdminProductPage{Products: l.Products, Next: l.Next}, nil
}

// PatchProduct is UpdateProduct with the api's patch (api.BackOffice).
func (s *Service) PatchProduct(ctx context.Context, id string, p api.ProductPatch) (api.Product, error) {
	return s.UpdateProduct(ctx, id, domain.Patch{Slug: p.Slug, Title: p.Title, Description: p.Description,
		Status: p.Status, CategoryIDSet: p.SetCategory, NewCategoryID: p.CategoryID})
}

// PatchVariant is UpdateVariant with the api's patch (api.BackOffice).
func (s *Service) PatchVariant(ctx context.Context, id string, p api.VariantPatch) (api.Variant, error) {
	return s.UpdateVariant(ctx, id, domain.VariantPatch{Title: p.Title, Price: p.Price, Attributes: p.Attributes})
}
