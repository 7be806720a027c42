// Package httpapi serves the cart's routes: /v1/carts/... for guests and
// customers alike, and /v1/me/cart for the signed-in customer.
package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/modules/cart/api"
	"github.com/modshop/modshop/modules/cart/internal/service"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/httpx"
)

// AddItemRequest adds quantity of a SKU to a cart.
type AddItemRequest struct {
	SKU      string `json:"sku"`
	Quantity *int64 `json:"quantity" doc:"1..100; the same SKU again adds up"`
}

// UpdateItemRequest sets a line's quantity.
type UpdateItemRequest struct {
	Quantity *int64 `json:"quantity" doc:"0..100; 0 removes the line"`
}

// MergeRequest names the guest cart to merge into the customer's.
type MergeRequest struct {
	CartID string `json:"cart_id"`
}

// Handler serves the cart routes.
type Handler struct{ svc *service.Service }

// Routes are the cart's routes. Cart routes take an optional token: a guest
// cart's id is its capability, an owned cart answers only its owner (404 to
// anyone else, so its existence is not revealed).
func Routes(svc *service.Service) httpx.RouteSet {
	h := &Handler{svc: svc}
	return httpx.RouteSet{Module: "cart",
		Description: "Carts at the catalog's current prices: a guest's (its id is the capability) or a signed-in customer's.",
		Routes: []httpx.Route{
			{Method: http.MethodPost, Path: "/v1/carts", Access: httpx.OptionalAuth, Handler: h.create, Status: http.StatusCreated,
				Summary: "Create a guest cart, or (with a bearer token) get the customer's cart", Response: exampleCart},
			{Method: http.MethodGet, Path: "/v1/carts/:id", Access: httpx.OptionalAuth, Handler: h.get,
				Summary: "A cart at current prices", Response: exampleCart},
			{Method: http.MethodPost, Path: "/v1/carts/:id/items", Access: httpx.OptionalAuth, Handler: h.addItem, Status: http.StatusCreated,
				Summary: "Add a SKU to a cart", Request: exampleAddItem, Response: exampleCart, Errors: []int{http.StatusConflict}},
			{Method: http.MethodPatch, Path: "/v1/carts/:id/items/:item_id", Access: httpx.OptionalAuth, Handler: h.updateItem,
				Summary: "Change a line's quantity (0 removes it)", Request: exampleUpdate, Response: exampleCart, Errors: []int{http.StatusConflict}},
			{Method: http.MethodDelete, Path: "/v1/carts/:id/items/:item_id", Access: httpx.OptionalAuth, Handler: h.removeItem,
				Summary: "Remove a line", Response: exampleCart},
			{Method: http.MethodGet, Path: "/v1/me/cart", Access: httpx.Customer, Handler: h.mine,
				Summary: "The signed-in customer's active cart, created on first use", Response: exampleCart},
			{Method: http.MethodPost, Path: "/v1/me/cart/merge", Access: httpx.Customer, Handler: h.merge,
				Summary: "Merge a guest cart into the customer's cart", Request: exampleMerge, Response: exampleCart, Errors: []int{http.StatusNotFound, http.StatusConflict}},
		}}
}

// caller is the signed-in customer's id, or "" for a guest.
func caller(c echo.Context) string {
	p, _ := auth.FromContext(c.Request().Context())
	return p.Subject
}

func (h *Handler) create(c echo.Context) error {
	cart, err := h.svc.Create(c.Request().Context(), caller(c))
	return reply(c, http.StatusCreated, cart, err)
}

func (h *Handler) get(c echo.Context) error {
	cart, err := h.svc.CartFor(c.Request().Context(), c.Param("id"), caller(c))
	return reply(c, http.StatusOK, cart, err)
}

func (h *Handler) addItem(c echo.Context) error {
	var req AddItemRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	cart, err := h.svc.AddItem(c.Request().Context(), c.Param("id"), caller(c), req.SKU, req.Quantity)
	return reply(c, http.StatusCreated, cart, err)
}

func (h *Handler) updateItem(c echo.Context) error {
	var req UpdateItemRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	cart, err := h.svc.UpdateItem(c.Request().Context(), c.Param("id"), caller(c), c.Param("item_id"), req.Quantity)
	return reply(c, http.StatusOK, cart, err)
}

func (h *Handler) removeItem(c echo.Context) error {
	cart, err := h.svc.RemoveItem(c.Request().Context(), c.Param("id"), caller(c), c.Param("item_id"))
	return reply(c, http.StatusOK, cart, err)
}

func (h *Handler) mine(c echo.Context) error {
	cart, err := h.svc.MyCart(c.Request().Context(), caller(c))
	return reply(c, http.StatusOK, cart, err)
}

func (h *Handler) merge(c echo.Context) error {
	var req MergeRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	cart, err := h.svc.Merge(c.Request().Context(), caller(c), req.CartID)
	return reply(c, http.StatusOK, cart, err)
}

func reply(c echo.Context, status int, cart api.Cart, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, cart)
}
