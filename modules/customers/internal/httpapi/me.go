package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/httpx"
)

// ProfilePatch is the body of PATCH /v1/me; an absent field is unchanged.
type ProfilePatch struct {
	Name *string `json:"name,omitempty" doc:"1 to 200 characters"`
}

func (h *Handler) me(c echo.Context) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	cust, err := h.svc.Customer(c.Request().Context(), p.Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cust)
}

func (h *Handler) updateMe(c echo.Context) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req ProfilePatch
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	cust, err := h.svc.UpdateProfile(c.Request().Context(), p.Subject, service.ProfileChange{Name: req.Name})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cust)
}

func (h *Handler) adminCustomer(c echo.Context) error {
	cust, err := h.svc.Customer(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cust)
}
