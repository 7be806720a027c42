// Package httpapi serves the inventory's admin routes under
// /v1/admin/inventory.
package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/service"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/idempotency"
)

// LevelList is a page of stock levels.
type LevelList struct {
	Items      []api.Level `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

// AdjustmentList is a page of a SKU's ledger, newest first.
type AdjustmentList struct {
	Items      []api.Adjustment `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// AdjustmentRequest changes a SKU's on_hand by delta.
type AdjustmentRequest struct {
	Delta  int64  `json:"delta" doc:"non-zero, -1000000..1000000"`
	Reason string `json:"reason" doc:"1..200 characters"`
}

// AdjustmentResult is the recorded adjustment and the level after it.
type AdjustmentResult struct {
	Adjustment api.Adjustment `json:"adjustment"`
	Level      api.Level      `json:"level"`
}

// Handler serves the admin routes.
type Handler struct{ svc *service.Service }

var pageParams = httpx.PageParams()

// Routes are the inventory's routes.
func Routes(svc *service.Service) httpx.RouteSet {
	h := &Handler{svc: svc}
	return httpx.RouteSet{Module: "inventory",
		Description: "Stock per SKU: on hand, reserved, available, and the ledger of adjustments.",
		Routes: []httpx.Route{
			{Method: http.MethodGet, Path: "/v1/admin/inventory", Access: httpx.Admin, Handler: h.list,
				Summary: "List stock levels by SKU", Query: pageParams, Response: LevelList{}},
			{Method: http.MethodGet, Path: "/v1/admin/inventory/:sku", Access: httpx.Admin, Handler: h.get,
				Summary: "One SKU's stock level", Response: api.Level{}},
			{Method: http.MethodPost, Path: "/v1/admin/inventory/:sku/adjustments", Access: httpx.Admin, Handler: h.adjust,
				Summary: "Change a SKU's on_hand, with a reason", Request: exampleAdjustment, Response: AdjustmentResult{}, Status: http.StatusCreated,
				Header: []httpx.Param{{Name: "Idempotency-Key", Type: "string", Description: "optional: the same key again answers the first adjustment and changes nothing"}},
				Errors: []int{http.StatusConflict}},
			{Method: http.MethodGet, Path: "/v1/admin/inventory/:sku/adjustments", Access: httpx.Admin, Handler: h.ledger,
				Summary: "A SKU's ledger of changes, newest first", Query: pageParams, Response: AdjustmentList{}},
		}}
}

func (h *Handler) list(c echo.Context) error {
	limit, cursor, err := page(c)
	if err != nil {
		return err
	}
	levels, err := h.svc.Levels(c.Request().Context(), cursor, limit+1)
	if err != nil {
		return err
	}
	out := LevelList{Items: levels}
	if len(levels) > limit {
		out.Items = levels[:limit]
		out.NextCursor = encodeCursor(levels[limit-1].SKU)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) get(c echo.Context) error {
	lvl, err := h.svc.Level(c.Request().Context(), c.Param("sku"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, lvl)
}

func (h *Handler) adjust(c echo.Context) error {
	var req AdjustmentRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	p, _ := auth.FromContext(c.Request().Context())
	adj, lvl, err := h.svc.Adjust(c.Request().Context(), c.Param("sku"), req.Delta, req.Reason, p.Subject,
		c.Request().Header.Get(idempotency.Header))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, AdjustmentResult{Adjustment: adj, Level: lvl})
}

func (h *Handler) ledger(c echo.Context) error {
	limit, cursor, err := page(c)
	if err != nil {
		return err
	}
	var before int64
	if cursor != "" {
		if before, err = strconv.ParseInt(cursor, 10, 64); err != nil || before <= 0 {
			return badCursor()
		}
	}
	items, err := h.svc.Ledger(c.Request().Context(), c.Param("sku"), before, limit+1)
	if err != nil {
		return err
	}
	out := AdjustmentList{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		out.NextCursor = encodeCursor(items[limit-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

// page reads ?limit= and the decoded ?cursor=.
func page(c echo.Context) (int, string, error) {
	var fe errs.Fields
	limit := int(httpx.QueryInt(c, "limit", 20, 1, 100, &fe))
	if err := fe.Err(); err != nil {
		return 0, "", err
	}
	raw := c.QueryParam("cursor")
	if raw == "" {
		return limit, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) == 0 {
		return 0, "", badCursor()
	}
	return limit, string(b), nil
}

// encodeCursor makes the opaque cursor of a page's last key. Keys (SKU,
// ledger id) only grow in the listing's order, so a row inserted meanwhile
// never shifts what the next page holds.
func encodeCursor(key string) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte(key))
	return &s
}

func badCursor() error {
	return errs.Invalid(errs.FieldError{Field: "cursor", Message: "is not a cursor of this list"})
}
