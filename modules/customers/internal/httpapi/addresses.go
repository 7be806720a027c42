package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
)

// AddressRequest is the body of POST /v1/me/addresses.
type AddressRequest struct {
	Name       string `json:"name" doc:"1 to 200 characters"`
	Line1      string `json:"line1" doc:"1 to 200 characters"`
	Line2      string `json:"line2,omitempty" doc:"up to 200 characters"`
	City       string `json:"city" doc:"1 to 200 characters"`
	PostalCode string `json:"postal_code" doc:"1 to 20 letters, digits, spaces or hyphens"`
	Country    string `json:"country" doc:"ISO 3166-1 alpha-2 code, e.g. DE"`
	Phone      string `json:"phone,omitempty" doc:"5 to 15 digits, optionally with + and separators; at most 32 characters"`
}

// AddressPatch is the body of PATCH /v1/me/addresses/{id}; an absent field
// is unchanged, "" clears an optional one.
type AddressPatch struct {
	Name       *string `json:"name,omitempty"`
	Line1      *string `json:"line1,omitempty"`
	Line2      *string `json:"line2,omitempty"`
	City       *string `json:"city,omitempty"`
	PostalCode *string `json:"postal_code,omitempty"`
	Country    *string `json:"country,omitempty"`
	Phone      *string `json:"phone,omitempty"`
}

// AddressList is a page of the address book.
type AddressList struct {
	Items      []api.Address `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

func (h *Handler) addresses(c echo.Context) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var fe errs.Fields
	limit := httpx.QueryInt(c, "limit", 20, 1, 100, &fe)
	if err := fe.Err(); err != nil {
		return err
	}
	page, err := h.svc.Addresses(c.Request().Context(), p.Subject, c.QueryParam("cursor"), int(limit))
	if err != nil {
		return err
	}
	out := AddressList{Items: page.Items}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) addAddress(c echo.Context) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req AddressRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	a, err := h.svc.AddAddress(c.Request().Context(), p.Subject, domain.AddressFields(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func (h *Handler) updateAddress(c echo.Context) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req AddressPatch
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	a, err := h.svc.UpdateAddress(c.Request().Context(), p.Subject, c.Param("id"), domain.AddressPatch(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) deleteAddress(c echo.Context) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAddress(c.Request().Context(), p.Subject, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
