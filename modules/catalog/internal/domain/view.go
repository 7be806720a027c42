package domain

import "github.com/modshop/modshop/modules/catalog/api"

// API is the product as the api package shows it, prices in currency.
func (p Product) API(currency string) api.Product {
	out := api.Product{
		ID: p.ID, Slug: p.Slug, Title: p.Title, Description: p.Description,
		CategoryID: cloneID(p.CategoryID), Status: p.Status,
		Variants:  make([]api.Variant, len(p.Variants)),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Version: p.Version,
	}
	for i, v := range p.Variants {
		out.Variants[i] = v.API(currency)
	}
	return out
}

// API is the variant as the api package shows it.
func (v Variant) API(currency string) api.Variant {
	return api.Variant{ID: v.ID, SKU: v.SKU, Title: v.Title,
		Price: api.Money{Amount: v.Price, Currency: currency}, Attributes: cloneAttrs(v.Attributes)}
}

// Snapshot is the product's state as its events carry it; path is its
// category's path from the root (nil without a category).
func (p Product) Snapshot(currency string, path []string) api.ProductSnapshot {
	s := api.ProductSnapshot{
		ProductID: p.ID, Slug: p.Slug, Title: p.Title, Description: p.Description,
		CategoryID: cloneID(p.CategoryID), CategoryPath: append([]string{}, path...), Status: p.Status,
		Variants:  make([]api.VariantPayload, len(p.Variants)),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Version: p.Version,
	}
	for i, v := range p.Variants {
		s.Variants[i] = api.VariantPayload{VariantID: v.ID, SKU: v.SKU, Title: v.Title,
			Price: api.Money{Amount: v.Price, Currency: currency}}
	}
	return s
}
