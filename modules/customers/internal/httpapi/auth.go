package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
)

// RegisterRequest is the body of POST /v1/auth/register.
type RegisterRequest struct {
	Email    string `json:"email" doc:"compared case-insensitively"`
	Password string `json:"password" doc:"8 to 256 characters"`
	Name     string `json:"name" doc:"1 to 200 characters"`
}

// LoginRequest is the body of POST /v1/auth/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// RefreshRequest is the body of POST /v1/auth/refresh and /logout.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// TokenPair is a signed-in session's credentials.
type TokenPair struct {
	AccessToken  string `json:"access_token" doc:"a JWT for Authorization: Bearer"`
	RefreshToken string `json:"refresh_token" doc:"single use: a refresh returns a new one"`
	TokenType    string `json:"token_type" doc:"always Bearer"`
	ExpiresIn    int    `json:"expires_in" doc:"seconds until the access token expires"`
}

// RegisterResponse is the answer of POST /v1/auth/register.
type RegisterResponse struct {
	Customer api.Customer `json:"customer"`
	TokenPair
}

func pairOf(t service.Tokens) TokenPair {
	return TokenPair{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer", ExpiresIn: t.ExpiresIn}
}

func (h *Handler) register(c echo.Context) error {
	var req RegisterRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	cust, tokens, err := h.svc.Register(c.Request().Context(), service.Registration{Email: req.Email, Password: req.Password, Name: req.Name, ClientAddr: clientAddr(c)})
	if err != nil {
		return err
	}
	return tokenJSON(c, http.StatusCreated, RegisterResponse{Customer: cust, TokenPair: pairOf(tokens)})
}

func (h *Handler) login(c echo.Context) error {
	var req LoginRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	tokens, err := h.svc.Login(c.Request().Context(), service.Credentials{Email: req.Email, Password: req.Password, ClientAddr: clientAddr(c)})
	if err != nil {
		return err
	}
	return tokenJSON(c, http.StatusOK, pairOf(tokens))
}

func (h *Handler) refresh(c echo.Context) error {
	token, err := bindRefreshToken(c)
	if err != nil {
		return err
	}
	tokens, err := h.svc.Refresh(c.Request().Context(), token)
	if err != nil {
		return err
	}
	return tokenJSON(c, http.StatusOK, pairOf(tokens))
}

func (h *Handler) logout(c echo.Context) error {
	token, err := bindRefreshToken(c)
	if err != nil {
		return err
	}
	if err := h.svc.Logout(c.Request().Context(), token); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// tokenJSON writes an answer that carries tokens: no cache may keep it
// (RFC 6749, section 5.1).
func tokenJSON(c echo.Context, status int, body any) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(status, body)
}

func bindRefreshToken(c echo.Context) (string, error) {
	var req RefreshRequest
	if err := httpx.Bind(c, &req); err != nil {
		return "", err
	}
	if req.RefreshToken == "" {
		return "", errs.Invalid(errs.FieldError{Field: "refresh_token", Message: "is required"})
	}
	return req.RefreshToken, nil
}

// clientAddr is the address failed sign-ins are counted against. Without a
// configured IP extractor (trusted proxies) it is the TCP peer: echo's
// fallback would believe any X-Forwarded-For header, and a client could
// then dodge the per-address limit by inventing a new address per request.
func clientAddr(c echo.Context) string {
	if c.Echo().IPExtractor != nil {
		return c.RealIP()
	}
	return echo.ExtractIPDirect()(c.Request())
}
