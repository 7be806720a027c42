// Package httpapi serves the payments module's admin routes under
// /v1/admin/payments. Shoppers never reach payments directly: orders
// authorizes, captures, voids and refunds through api.Payments.
package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/modules/payments/internal/service"
	"github.com/modshop/modshop/modules/payments/internal/store"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
)

// PaymentList is a page of payments, newest first.
type PaymentList struct {
	Items      []api.Payment `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

// Handler serves the admin routes.
type Handler struct{ svc *service.Service }

// Routes are the payments module's routes.
func Routes(svc *service.Service) httpx.RouteSet {
	h := &Handler{svc: svc}
	return httpx.RouteSet{Module: "payments",
		Description: "Payments through the provider adapter: authorized at order, captured on shipping, voided or refunded.",
		Routes: []httpx.Route{
			{Method: http.MethodGet, Path: "/v1/admin/payments", Access: httpx.Admin, Handler: h.list,
				Summary: "List payments, newest first", Response: PaymentList{}, Query: []httpx.Param{
					{Name: "reference", Type: "string", Description: "only the payments of this reference (a checkout or order id)"},
					httpx.PageParams()[0], httpx.PageParams()[1],
				}},
			{Method: http.MethodGet, Path: "/v1/admin/payments/:id", Access: httpx.Admin, Handler: h.get,
				Summary: "One payment with its history", Response: api.Payment{}},
		}}
}

func (h *Handler) list(c echo.Context) error {
	var fe errs.Fields
	limit := int(httpx.QueryInt(c, "limit", 20, 1, 100, &fe))
	var after *store.Key
	if raw := c.QueryParam("cursor"); raw != "" {
		k, err := store.DecodeCursor(raw)
		if err != nil {
			fe.Add("cursor", "is not a cursor of this list")
		}
		after = &k
	}
	if err := fe.Err(); err != nil {
		return err
	}
	items, err := h.svc.List(c.Request().Context(), c.QueryParam("reference"), after, limit+1)
	if err != nil {
		return err
	}
	out := PaymentList{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		next := store.KeyOf(items[limit-1]).Encode()
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) get(c echo.Context) error {
	p, err := h.svc.Payment(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
