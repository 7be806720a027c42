// Package httpapi serves the orders module's routes: checkout of a cart,
// order placement (with Idempotency-Key), the shopper's orders and the
// admin's order desk.
package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/domain"
	"github.com/modshop/modshop/modules/orders/internal/service"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/idempotency"
)

// CheckoutRequest starts a checkout of a cart.
type CheckoutRequest struct {
	Email           string       `json:"email" doc:"defaults to the account's e-mail for a signed-in customer"`
	ShippingAddress *api.Address `json:"shipping_address"`
}

// OrderRequest places an order from an open checkout.
type OrderRequest struct {
	CheckoutID    string `json:"checkout_id"`
	PaymentMethod string `json:"payment_method" doc:"test methods: pm_card_visa, pm_card_mastercard (approve); pm_card_chargeDeclined, pm_card_insufficientFunds (decline)"`
}

// ShipRequest ships an order.
type ShipRequest struct {
	TrackingNumber string `json:"tracking_number" doc:"1..100 characters"`
}

// OrderList is a page of orders, newest first.
type OrderList struct {
	Items      []api.Order `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

// Handler serves the routes.
type Handler struct{ svc *service.Service }

var pageParams = httpx.PageParams()

var idempotencyKey = httpx.Param{Name: "Idempotency-Key", Type: "string", Required: true,
	Description: "a key of the client's choosing, up to 255 characters: the same key with the same body answers the first response again (the same order); with another body it is 422 idempotency_key_reused"}

// Routes are the orders module's routes.
func Routes(svc *service.Service) httpx.RouteSet {
	h := &Handler{svc: svc}
	statusParam := httpx.Param{Name: "status", Type: "string", Description: "only orders in this status",
		Enum: []string{"placed", "shipped", "delivered", "cancelled", "refunded"}}
	return httpx.RouteSet{Module: "orders",
		Description: "Checkout (a cart frozen, its stock reserved), orders placed from a checkout with an Idempotency-Key, and their life: ship, deliver, cancel, refund.",
		Schemas:     map[string]any{"ShippingAddress": api.Address{}, "OrderPayment": api.Payment{}},
		Routes: []httpx.Route{
			{Method: http.MethodPost, Path: "/v1/carts/:id/checkout", Access: httpx.OptionalAuth, Handler: h.checkout, Status: http.StatusCreated,
				Summary: "Check a cart out: freeze lines and prices, reserve the stock", Request: exampleCheckout, Response: exampleCheckoutShown, Errors: []int{http.StatusConflict}},
			{Method: http.MethodGet, Path: "/v1/checkouts/:id", Access: httpx.OptionalAuth, Handler: h.getCheckout,
				Summary: "A checkout", Response: exampleCheckoutShown},
			{Method: http.MethodPost, Path: "/v1/orders", Access: httpx.OptionalAuth, Handler: h.place, Status: http.StatusCreated,
				Summary: "Place an order from a checkout", Request: exampleOrderReq, Response: exampleOrder,
				Description: "Authorizes the payment and turns the checkout's reservation into a sale. The payment is captured when the order ships.",
				Header:      []httpx.Param{idempotencyKey},
				Errors:      []int{http.StatusPaymentRequired, http.StatusNotFound, http.StatusConflict}},
			{Method: http.MethodGet, Path: "/v1/orders", Access: httpx.Customer, Handler: h.mine,
				Summary: "The signed-in customer's orders, newest first", Query: pageParams, Response: OrderList{}},
			{Method: http.MethodGet, Path: "/v1/orders/:id", Access: httpx.OptionalAuth, Handler: h.get,
				Summary: "An order, for its customer or a guest with its token",
				Query:   []httpx.Param{{Name: "token", Type: "string", Description: "a guest order's guest_token"}}, Response: exampleOrder},
			{Method: http.MethodPost, Path: "/v1/orders/:id/cancel", Access: httpx.OptionalAuth, Handler: h.cancel,
				Summary: "Cancel an order while it is placed: payment voided, stock back on hand",
				Query:   []httpx.Param{{Name: "token", Type: "string", Description: "a guest order's guest_token"}}, Response: exampleOrder, Errors: []int{http.StatusConflict}},
			{Method: http.MethodGet, Path: "/v1/admin/orders", Access: httpx.Admin, Handler: h.adminList,
				Summary: "All orders, newest first", Query: append([]httpx.Param{statusParam}, pageParams...), Response: OrderList{}},
			{Method: http.MethodGet, Path: "/v1/admin/orders/:id", Access: httpx.Admin, Handler: h.adminGet,
				Summary: "One order", Response: exampleOrder},
			{Method: http.MethodPost, Path: "/v1/admin/orders/:id/ship", Access: httpx.Admin, Handler: h.ship,
				Summary: "Ship a placed order (captures the payment)", Request: exampleShip, Response: exampleOrder, Errors: []int{http.StatusConflict}},
			{Method: http.MethodPost, Path: "/v1/admin/orders/:id/deliver", Access: httpx.Admin, Handler: h.command(domain.Deliver),
				Summary: "Mark a shipped order delivered", Response: exampleOrder, Errors: []int{http.StatusConflict}},
			{Method: http.MethodPost, Path: "/v1/admin/orders/:id/cancel", Access: httpx.Admin, Handler: h.command(domain.Cancel),
				Summary: "Cancel a placed order: payment voided, stock back on hand", Response: exampleOrder, Errors: []int{http.StatusConflict}},
			{Method: http.MethodPost, Path: "/v1/admin/orders/:id/refund", Access: httpx.Admin, Handler: h.command(domain.Refund),
				Summary: "Refund a shipped or delivered order", Response: exampleOrder, Errors: []int{http.StatusConflict}},
		}}
}

// caller is the signed-in account's id, or "" for a guest. An admin is an
// account too and shops as one, as in the cart.
func caller(c echo.Context) string {
	p, _ := auth.FromContext(c.Request().Context())
	return p.Subject
}

func (h *Handler) checkout(c echo.Context) error {
	var req CheckoutRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	out, err := h.svc.Checkout(c.Request().Context(), c.Param("id"), caller(c),
		service.CheckoutRequest{Email: req.Email, ShippingAddress: req.ShippingAddress})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (h *Handler) getCheckout(c echo.Context) error {
	out, err := h.svc.GetCheckout(c.Request().Context(), c.Param("id"), caller(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) place(c echo.Context) error {
	key := c.Request().Header.Get(idempotency.Header)
	if key == "" {
		return api.ErrIdempotencyKeyMissing
	}
	var req OrderRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	reply, err := h.svc.PlaceOrder(c.Request().Context(), caller(c), key,
		service.PlaceRequest{CheckoutID: req.CheckoutID, PaymentMethod: req.PaymentMethod})
	if err != nil {
		return err
	}
	if reply.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	if reply.Err != nil {
		return reply.Err
	}
	return c.JSON(reply.Status, reply.Order)
}

func (h *Handler) mine(c echo.Context) error {
	id := caller(c)
	if id == "" {
		return errs.Forbidden("only customers have orders of their own")
	}
	return h.list(c, id, "")
}

func (h *Handler) adminList(c echo.Context) error {
	return h.list(c, "", c.QueryParam("status"))
}

func (h *Handler) list(c echo.Context, customerID, status string) error {
	var fe errs.Fields
	limit := int(httpx.QueryInt(c, "limit", 20, 1, 100, &fe))
	if err := fe.Err(); err != nil {
		return err
	}
	items, next, err := h.svc.ListOrders(c.Request().Context(), customerID, status, c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	if items == nil {
		items = []api.Order{}
	}
	return c.JSON(http.StatusOK, OrderList{Items: items, NextCursor: next})
}

func (h *Handler) reader(c echo.Context) service.Reader {
	return service.Reader{CustomerID: caller(c), GuestToken: c.QueryParam("token")}
}

func (h *Handler) get(c echo.Context) error {
	o, err := h.svc.GetOrder(c.Request().Context(), c.Param("id"), h.reader(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (h *Handler) cancel(c echo.Context) error {
	o, err := h.svc.Apply(c.Request().Context(), c.Param("id"), domain.Cancel, h.reader(c), nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (h *Handler) adminGet(c echo.Context) error {
	o, err := h.svc.GetOrder(c.Request().Context(), c.Param("id"), service.Reader{Admin: true})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (h *Handler) ship(c echo.Context) error {
	var req ShipRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	if err := service.CheckTracking(req.TrackingNumber); err != nil {
		return err
	}
	o, err := h.svc.Apply(c.Request().Context(), c.Param("id"), domain.Ship, service.Reader{Admin: true}, &req.TrackingNumber)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (h *Handler) command(cmd domain.Command) echo.HandlerFunc {
	return func(c echo.Context) error {
		o, err := h.svc.Apply(c.Request().Context(), c.Param("id"), cmd, service.Reader{Admin: true}, nil)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, o)
	}
}
