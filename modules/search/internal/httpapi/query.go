package httpapi

import (
	"context"
	"fmt"

	"github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/modules/search/internal/engine"
	"github.com/modshop/modshop/modules/search/internal/service"
	"github.com/modshop/modshop/platform/errs"
)

// maxPrice bounds the price filters, as GET /v1/search does.
const maxPrice = 1_000_000_000

var _ api.Searcher = (*Handler)(nil)

// Query is api.Searcher: the search GET /v1/search runs, checked the same
// way and answered from the same cache under the same key, so a search
// page and the JSON route warm each other.
func (h *Handler) Query(ctx context.Context, in api.Query) (api.Result, error) {
	q := service.Query{Category: in.Category}
	q.Text, q.MinPrice, q.MaxPrice, q.InStock = in.Text, in.MinPrice, in.MaxPrice, in.InStock
	q.Sort, q.Limit, q.Cursor = in.Sort, in.Limit, in.Cursor
	if q.Limit == 0 {
		q.Limit = engine.DefaultLimit // as the route without ?limit, so both share the key
	}
	var fe errs.Fields
	for _, p := range []struct {
		name string
		v    *int64
	}{{"min_price", q.MinPrice}, {"max_price", q.MaxPrice}} {
		if p.v != nil && (*p.v < 0 || *p.v > maxPrice) {
			fe.Add(p.name, fmt.Sprintf("must be from 0 to %d", maxPrice))
		}
	}
	if q.Limit < 1 || q.Limit > engine.MaxLimit {
		fe.Add("limit", fmt.Sprintf("must be from 1 to %d", engine.MaxLimit))
	}
	switch q.Sort {
	case "", engine.SortRelevance, engine.SortPriceAsc, engine.SortPriceDesc, engine.SortNewest:
	default:
		fe.Add("sort", "must be one of relevance, price_asc, price_desc, newest")
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		fe.Add("max_price", "must not be below min_price")
	}
	if err := fe.Err(); err != nil {
		return api.Result{}, err
	}
	e, err := h.cache.answer(ctx, key(q, false), func(ctx context.Context) (any, error) {
		res, err := h.svc.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		return h.result(ctx, res), nil
	}, false)
	if err != nil {
		return api.Result{}, err
	}
	r, ok := e.value.(Result)
	if !ok {
		return api.Result{}, fmt.Errorf("search cache: an entry of %T", e.value)
	}
	return apiResult(r), nil
}

// apiResult copies a cached answer (shared by every request) into the
// api's types.
func apiResult(r Result) api.Result {
	out := api.Result{Items: make([]api.Hit, len(r.Items)), Total: r.Total}
	for i, it := range r.Items {
		out.Items[i] = api.Hit{ProductID: it.ProductID, Slug: it.Slug, Title: it.Title, Snippet: it.Snippet,
			PriceFrom: it.PriceFrom, InStock: it.InStock}
	}
	out.Facets.Category = make([]api.CategoryCount, len(r.Facets.Category))
	for i, c := range r.Facets.Category {
		out.Facets.Category[i] = api.CategoryCount{ID: c.Value, Slug: c.Slug, Name: c.Name, Count: c.Count}
	}
	out.Facets.Price = make([]api.PriceBand, len(r.Facets.Price))
	for i, b := range r.Facets.Price {
		out.Facets.Price[i] = api.PriceBand{From: b.From, Count: b.Count}
		if b.To != nil {
			to := *b.To
			out.Facets.Price[i].To = &to
		}
	}
	out.Facets.InStock = make([]api.StockCount, len(r.Facets.InStock))
	for i, s := range r.Facets.InStock {
		out.Facets.InStock[i] = api.StockCount{InStock: s.Value, Count: s.Count}
	}
	if r.NextCursor != nil {
		out.Next = *r.NextCursor
	}
	return out
}
