package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/domain"
	"github.com/modshop/modshop/modules/catalog/internal/store"
	"github.com/modshop/modshop/platform/errs"
)

// List limits of the HTTP API.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ListRequest is the shopper's product list query.
type ListRequest struct {
	Category string // slug or id; products in it or below it
	MinPrice *int64 // inclusive, on the lowest variant price
	MaxPrice *int64
	Sort     string // newest (default), price_asc, price_desc, title
	Limit    int    // 1..100; 0 means 20
	Cursor   string
}

// Listing is a page of products with their stock.
type Listing struct {
	Products []api.Product
	Stock    Stock
	Next     string // "" on the last page
}

// Check lists the request's invalid fields.
func (r ListRequest) Check() errs.Fields {
	var f errs.Fields
	checkLimit(&f, r.Limit)
	for _, p := range []struct {
		name string
		v    *int64
	}{{"min_price", r.MinPrice}, {"max_price", r.MaxPrice}} {
		if p.v != nil {
			domain.CheckPrice(&f, p.name, *p.v)
		}
	}
	if r.MinPrice != nil && r.MaxPrice != nil && *r.MinPrice > *r.MaxPrice {
		f.Add("min_price", "must not be above max_price")
	}
	sort, ok := parseSort(r.Sort)
	if !ok {
		f.Add("sort", "must be one of newest, price_asc, price_desc, title")
	} else {
		checkCursor(&f, r.Cursor, sort)
	}
	return f
}

func checkLimit(f *errs.Fields, limit int) {
	if limit < 0 || limit > MaxLimit {
		f.Add("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit))
	}
}

func checkCursor(f *errs.Fields, cursor string, sort store.Sort) {
	if cursor == "" {
		return
	}
	if _, err := store.DecodeCursor(cursor, sort); err != nil {
		f.Add("cursor", "is not a cursor of this list (cursors are opaque; pass next_cursor back as it came, with the same sort)")
	}
}

func parseSort(s string) (store.Sort, bool) {
	if s == "" {
		return store.SortNewest, true
	}
	for _, x := range store.Sorts {
		if string(x) == s {
			return x, true
		}
	}
	return "", false
}

func limitOr(limit int) int {
	if limit == 0 {
		return DefaultLimit
	}
	return limit
}

// Normalized is the request with its defaults filled in (sort newest,
// limit 20), so that requests that mean the same page are equal.
func (r ListRequest) Normalized() ListRequest {
	if r.Sort == "" {
		r.Sort = string(store.SortNewest)
	}
	r.Limit = limitOr(r.Limit)
	return r
}

// PublishedProducts is the shopper's product list: published products only.
// A category that does not exist has no products.
func (s *Service) PublishedProducts(ctx context.Context, r ListRequest) (Listing, error) {
	l, err := s.PublishedPage(ctx, r)
	if err != nil {
		return Listing{}, err
	}
	l.Stock = s.StockOf(ctx, l.Products...)
	return l, nil
}

// PublishedPage is PublishedProducts without the stock (Listing.Stock is
// nil): what the catalog alone knows, for a cache that asks inventory on
// its own schedule.
func (s *Service) PublishedPage(ctx context.Context, r ListRequest) (Listing, error) {
	if err := r.Check().Err(); err != nil {
		return Listing{}, err
	}
	sort, _ := parseSort(r.Sort)
	q := store.ListQuery{Status: api.StatusPublished, MinPrice: r.MinPrice, MaxPrice: r.MaxPrice, Sort: sort, Limit: limitOr(r.Limit)}
	if r.Cursor != "" {
		k, _ := store.DecodeCursor(r.Cursor, sort) // checked above
		q.After = &k
	}
	if r.Category != "" {
		c, err := s.store.Category(ctx, r.Category)
		if errors.Is(err, api.ErrCategoryNotFound) {
			return Listing{Products: []api.Product{}}, nil
		}
		if err != nil {
			return Listing{}, err
		}
		q.CategoryID = c.ID
	}
	return s.page(ctx, q)
}

// AdminListRequest is the admin's product list query: every status unless
// one is named, newest first.
type AdminListRequest struct {
	Status string
	Limit  int
	Cursor string
}

// Check lists the request's invalid fields.
func (r AdminListRequest) Check() errs.Fields {
	var f errs.Fields
	checkLimit(&f, r.Limit)
	if r.Status != "" && !domain.ValidStatus(api.Status(r.Status)) {
		f.Add("status", "must be draft, published or archived")
	}
	checkCursor(&f, r.Cursor, store.SortNewest)
	return f
}

// AdminProducts is the admin's product list.
func (s *Service) AdminProducts(ctx context.Context, r AdminListRequest) (Listing, error) {
	if err := r.Check().Err(); err != nil {
		return Listing{}, err
	}
	q := store.ListQuery{Status: api.Status(r.Status), Sort: store.SortNewest, Limit: limitOr(r.Limit)}
	if r.Cursor != "" {
		k, _ := store.DecodeCursor(r.Cursor, store.SortNewest)
		q.After = &k
	}
	return s.list(ctx, q)
}

// list reads a page: a bounded number of queries (see store.List) and one
// availability call, whatever the page size.
func (s *Service) list(ctx context.Context, q store.ListQuery) (Listing, error) {
	out, err := s.page(ctx, q)
	if err != nil {
		return Listing{}, err
	}
	out.Stock = s.StockOf(ctx, out.Products...)
	return out, nil
}

// page is list without the stock.
func (s *Service) page(ctx context.Context, q store.ListQuery) (Listing, error) {
	page, err := s.store.List(ctx, q)
	if err != nil {
		return Listing{}, err
	}
	out := Listing{Products: s.apiProducts(page.Products)}
	if page.Next != nil {
		out.Next = page.Next.Encode()
	}
	return out, nil
}

func (s *Service) apiProducts(ps []domain.Product) []api.Product {
	out := make([]api.Product, len(ps))
	for i, p := range ps {
		out[i] = p.API(s.currency)
	}
	return out
}

// PublishedProduct is one published product, by id or slug, with its stock.
func (s *Service) PublishedProduct(ctx context.Context, ref string) (api.Product, Stock, error) {
	ap, err := s.PublishedProductOnly(ctx, ref)
	if err != nil {
		return api.Product{}, nil, err
	}
	return ap, s.StockOf(ctx, ap), nil
}

// PublishedProductOnly is PublishedProduct without the stock;
// api.ErrProductNotFound when no published product has that id or slug.
func (s *Service) PublishedProductOnly(ctx context.Context, ref string) (api.Product, error) {
	p, err := s.store.PublishedProduct(ctx, ref)
	if err != nil {
		return api.Product{}, err
	}
	return p.API(s.currency), nil
}

// Product returns one product of any status (api.Catalog).
func (s *Service) Product(ctx context.Context, id string) (api.Product, error) {
	p, err := s.store.Product(ctx, id)
	if err != nil {
		return api.Product{}, err
	}
	return p.API(s.currency), nil
}

// MaxReindexPage bounds a page of Products.
const MaxReindexPage = 1000

// Products pages through every product in id order (api.Catalog); a limit
// outside 1..1000 is taken as 100.
func (s *Service) Products(ctx context.Context, cursor string, limit int) ([]api.Product, string, error) {
	if limit < 1 || limit > MaxReindexPage {
		limit = 100
	}
	q := store.ListQuery{Sort: store.SortID, Limit: limit}
	if cursor != "" {
		k, err := store.DecodeCursor(cursor, store.SortID)
		if err != nil {
			return nil, "", errs.Invalid(errs.FieldError{Field: "cursor", Message: "is not a cursor of this list"})
		}
		q.After = &k
	}
	page, err := s.store.List(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if page.Next != nil {
		next = page.Next.Encode()
	}
	return s.apiProducts(page.Products), next, nil
}

// Categories returns the whole tree, flat, parents first (api.Catalog).
func (s *Service) Categories(ctx context.Context) ([]api.Category, error) {
	cs, err := s.store.Categories(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Category, len(cs))
	for i, c := range cs {
		out[i] = c.API()
	}
	return out, nil
}

// VariantsBySKU finds variants by SKU in one query (api.Catalog).
func (s *Service) VariantsBySKU(ctx context.Context, skus []string) (map[string]api.VariantInfo, error) {
	rows, err := s.store.VariantsBySKU(ctx, skus)
	if err != nil {
		return nil, err
	}
	out := make(map[string]api.VariantInfo, len(rows))
	for _, r := range rows {
		out[r.Variant.SKU] = api.VariantInfo{
			VariantID: r.Variant.ID, SKU: r.Variant.SKU, Title: r.Variant.Title,
			ProductID: r.ProductID, ProductTitle: r.ProductTitle, ProductStatus: r.ProductStatus,
			Price: api.Money{Amount: r.Variant.Price, Currency: s.currency},
		}
	}
	return out, nil
}
