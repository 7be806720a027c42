// Package httpapi serves GET /v1/search.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/search/internal/engine"
	"github.com/modshop/modshop/modules/search/internal/service"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
)

// Result is the answer of GET /v1/search.
type Result struct {
	Items      []Item  `json:"items"`
	Total      int     `json:"total"`
	Facets     Facets  `json:"facets"`
	NextCursor *string `json:"next_cursor"`
}

// Item is one matching product.
type Item struct {
	ProductID string        `json:"product_id"`
	Slug      string        `json:"slug"`
	Title     string        `json:"title"`
	Snippet   string        `json:"snippet" doc:"HTML: an escaped fragment with matches in <mark>"`
	PriceFrom catalog.Money `json:"price_from"`
	InStock   bool          `json:"in_stock"`
	Score     float64       `json:"score"`
}

// Facets are counts over all matches.
type Facets struct {
	Category []CategoryCount `json:"category"`
	Price    []PriceBand     `json:"price"`
	InStock  []StockCount    `json:"in_stock"`
}

// CategoryCount counts matches in one category (value is the category id).
type CategoryCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
	Slug  string `json:"slug,omitempty"`
	Name  string `json:"name,omitempty"`
}

// PriceBand counts matches with from <= price_from < to; to is null for the last band.
type PriceBand struct {
	From  int64  `json:"from"`
	To    *int64 `json:"to"`
	Count int    `json:"count"`
}

// StockCount counts matches in or out of stock.
type StockCount struct {
	Value bool `json:"value"`
	Count int  `json:"count"`
}

// Handler serves search.
type Handler struct {
	svc      *service.Service
	currency string
	cache    *cache
}

// Routes are the search module's routes. Answers are cached (see
// CacheConfig), with metrics in reg when it is not nil. Building them calls
// nothing on svc (Remote builds them with none).
func Routes(svc *service.Service, currency string, cfg CacheConfig, reg prometheus.Registerer) httpx.RouteSet {
	return NewHandler(svc, currency, cfg, reg).Routes()
}

// NewHandler makes the handler and its cache, which serves both the route
// and api.Searcher (query.go); it calls nothing on svc.
func NewHandler(svc *service.Service, currency string, cfg CacheConfig, reg prometheus.Registerer) *Handler {
	return &Handler{svc: svc, currency: currency, cache: newCache(svc, cfg, reg)}
}

// Routes are the search route, answered from h's cache.
func (h *Handler) Routes() httpx.RouteSet {
	return httpx.RouteSet{Module: "search",
		Description: "Full-text search over published products: typo-tolerant, ranked, with facets; its read model follows catalog and inventory events.",
		Schemas:     map[string]any{"SearchHit": Item{}},
		Routes: []httpx.Route{{
			Method: http.MethodGet, Path: "/v1/search", Access: httpx.Public, Handler: h.search,
			Summary: "Search published products: typo-tolerant, ranked, with facets",
			Query: []httpx.Param{
				{Name: "q", Type: "string", Description: "free text; empty lists everything matching the filters"},
				{Name: "category", Type: "string", Description: "category slug or id (includes its subcategories)"},
				{Name: "min_price", Type: "integer", Description: "inclusive, minor units, on the lowest variant price"},
				{Name: "max_price", Type: "integer", Description: "inclusive, minor units"},
				{Name: "in_stock", Type: "boolean", Description: "only products with (true) or without (false) stock"},
				{Name: "sort", Type: "string", Description: "order (default relevance)", Enum: []string{"relevance", "price_asc", "price_desc", "newest"}},
				httpx.PageParams()[0], httpx.PageParams()[1],
			},
			Response: exampleResult,
		}}}
}

func (h *Handler) search(c echo.Context) error {
	var fe errs.Fields
	q := service.Query{Category: c.QueryParam("category")}
	q.Text = c.QueryParam("q")
	q.MinPrice = httpx.QueryOptInt(c, "min_price", 0, 1_000_000_000, &fe)
	q.MaxPrice = httpx.QueryOptInt(c, "max_price", 0, 1_000_000_000, &fe)
	q.Limit = int(httpx.QueryInt(c, "limit", engine.DefaultLimit, 1, engine.MaxLimit, &fe))
	q.Cursor = c.QueryParam("cursor")
	switch v := c.QueryParam("in_stock"); v {
	case "":
	case "true", "false":
		b := v == "true"
		q.InStock = &b
	default:
		fe.Add("in_stock", "must be true or false")
	}
	switch v := c.QueryParam("sort"); v {
	case "", engine.SortRelevance, engine.SortPriceAsc, engine.SortPriceDesc, engine.SortNewest:
		q.Sort = v
	default:
		fe.Add("sort", "must be one of relevance, price_asc, price_desc, newest")
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		fe.Add("max_price", "must not be below min_price")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	pretty := httpx.WantsPretty(c)
	e, err := h.cache.answer(c.Request().Context(), key(q, pretty), func(ctx context.Context) (any, error) {
		res, err := h.svc.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		return h.result(ctx, res), nil
	}, pretty)
	if err != nil {
		return err
	}
	return writeEntry(c, e)
}

// result is the engine's result as the API shows it.
func (h *Handler) result(ctx context.Context, res engine.Result) Result {
	out := Result{Items: make([]Item, len(res.Items)), Total: res.Total}
	for i, it := range res.Items {
		out.Items[i] = Item{ProductID: it.ProductID, Slug: it.Slug, Title: it.Title, Snippet: it.Snippet,
			PriceFrom: catalog.Money{Amount: it.PriceFrom, Currency: h.currency}, InStock: it.InStock, Score: it.Score}
	}
	out.Facets.Category = make([]CategoryCount, len(res.Facets.Category))
	for i, f := range res.Facets.Category {
		slug, name := h.svc.CategoryLabel(ctx, f.Value)
		out.Facets.Category[i] = CategoryCount{Value: f.Value, Count: f.Count, Slug: slug, Name: name}
	}
	out.Facets.Price = make([]PriceBand, len(res.Facets.Price))
	for i, b := range res.Facets.Price {
		out.Facets.Price[i] = PriceBand{From: b.From, Count: b.Count}
		if b.To >= 0 {
			to := b.To
			out.Facets.Price[i].To = &to
		}
	}
	out.Facets.InStock = make([]StockCount, len(res.Facets.InStock))
	for i, f := range res.Facets.InStock {
		out.Facets.InStock[i] = StockCount{Value: f.Value == "true", Count: f.Count}
	}
	if res.NextCursor != "" {
		out.NextCursor = &res.NextCursor
	}
	return out
}

// AdminRoutes let an admin rebuild the index of a running process. The
// rebuild runs in the background (a large catalog takes longer than a
// request may); a second request while one runs is 409.
func AdminRoutes(svc *service.Service, log *slog.Logger) []httpx.Route {
	var running atomic.Bool
	return []httpx.Route{{
		Method: http.MethodPost, Path: "/v1/admin/search/reindex", Access: httpx.Admin, Status: http.StatusAccepted,
		Summary: "Rebuild the search read model and index from the catalog, in the background",
		Handler: func(c echo.Context) error {
			if !running.CompareAndSwap(false, true) {
				return errs.Conflict("conflict", "a reindex is already running")
			}
			// Taken now: echo reuses c for another request once this one returns.
			ctx := context.WithoutCancel(c.Request().Context())
			go func() {
				defer running.Store(false)
				n, err := svc.Reindex(ctx)
				if err != nil {
					log.Error("reindex failed", "module", "search", "err", err)
					return
				}
				log.Info("reindex done", "module", "search", "products", n)
			}()
			return c.JSON(http.StatusAccepted, ReindexStarted{Status: "started"})
		},
		Response: ReindexStarted{},
	}}
}

// ReindexStarted acknowledges a reindex request.
type ReindexStarted struct {
	Status string `json:"status"`
}
