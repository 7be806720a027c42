// Package httpapi serves the customers module's public routes: /v1/auth/*
// (sign-up, sign-in, token rotation), /v1/me and /v1/me/addresses, and an
// admin lookup of a customer.
package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
)

// Handler serves the routes.
type Handler struct{ svc *service.Service }

// Routes are the customers module's routes.
func Routes(svc *service.Service) httpx.RouteSet {
	h := &Handler{svc: svc}
	return httpx.RouteSet{Module: "customers",
		Description: "Accounts: registration, sign-in with rotating refresh tokens, the signed-in customer's profile and address book.",
		Routes: []httpx.Route{
			{Method: http.MethodPost, Path: "/v1/auth/register", Access: httpx.Public, Handler: h.register, Status: http.StatusCreated,
				Summary: "Create a customer account and sign in", Request: exampleRegister, Response: exampleRegistered, Errors: []int{http.StatusConflict, http.StatusTooManyRequests}},
			{Method: http.MethodPost, Path: "/v1/auth/login", Access: httpx.Public, Handler: h.login,
				Summary: "Sign in with e-mail and password (failed sign-ins are rate limited)", Request: exampleLogin, Response: exampleTokens, Errors: []int{http.StatusUnauthorized, http.StatusTooManyRequests}},
			{Method: http.MethodPost, Path: "/v1/auth/refresh", Access: httpx.Public, Handler: h.refresh,
				Summary: "Exchange a refresh token for a new pair (the old one is spent)", Request: exampleRefresh, Response: exampleTokens, Errors: []int{http.StatusUnauthorized}},
			{Method: http.MethodPost, Path: "/v1/auth/logout", Access: httpx.Public, Handler: h.logout, Status: http.StatusNoContent,
				Summary: "End the session a refresh token belongs to", Request: exampleRefresh},

			{Method: http.MethodGet, Path: "/v1/me", Access: httpx.Customer, Handler: h.me,
				Summary: "The signed-in account", Response: exampleCustomer},
			{Method: http.MethodPatch, Path: "/v1/me", Access: httpx.Customer, Handler: h.updateMe,
				Summary: "Change the signed-in account's profile", Request: exampleProfile, Response: exampleCustomer},
			{Method: http.MethodGet, Path: "/v1/me/addresses", Access: httpx.Customer, Handler: h.addresses,
				Summary: "The signed-in customer's address book", Response: AddressList{},
				Query: httpx.PageParams()},
			{Method: http.MethodPost, Path: "/v1/me/addresses", Access: httpx.Customer, Handler: h.addAddress, Status: http.StatusCreated,
				Summary: "Add an address (at most 50)", Request: exampleAddressReq, Response: api.Address{}},
			{Method: http.MethodPatch, Path: "/v1/me/addresses/:id", Access: httpx.Customer, Handler: h.updateAddress,
				Summary: "Change some fields of an address", Request: exampleAddrPatch, Response: api.Address{}},
			{Method: http.MethodDelete, Path: "/v1/me/addresses/:id", Access: httpx.Customer, Handler: h.deleteAddress, Status: http.StatusNoContent,
				Summary: "Remove an address"},

			{Method: http.MethodGet, Path: "/v1/admin/customers/:id", Access: httpx.Admin, Handler: h.adminCustomer,
				Summary: "Look up any account", Response: api.Customer{}},
		}}
}

// caller is the signed-in principal; the route's Access guarantees one.
func caller(c echo.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(c.Request().Context())
	if !ok {
		return p, errs.Unauthorized("a bearer access token is required")
	}
	return p, nil
}
