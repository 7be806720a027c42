package site

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/errs"
)

// A form's CSRF token is the HMAC of a per-browser secret (its own
// HttpOnly cookie) under the shop's key. A cross-site page can neither read
// the cookie nor compute the token; SameSite=Lax keeps the cookie off
// cross-site POSTs anyway, and a POST whose Origin is another site is
// refused outright. The token does not depend on the session, so the
// sign-in form works for a guest and stays valid across sign-in.

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Site) sign(secret string) string {
	m := hmac.New(sha256.New, s.d.CSRFKey)
	m.Write([]byte("web.csrf:" + secret))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfToken is the token of this browser's forms, making the browser's
// secret on its first visit.
func (s *Site) csrfToken(c echo.Context) string {
	if ck, err := c.Cookie(cookieCSRF); err == nil && len(ck.Value) == 43 {
		return s.sign(ck.Value)
	}
	secret := randomToken()
	s.setCookie(c, cookieCSRF, secret, SessionTTL)
	// The request's own later reads (csrf check of this very request) see it.
	c.Request().AddCookie(&http.Cookie{Name: cookieCSRF, Value: secret}) //nolint:gosec // G124: a request's cookie, never sent to a browser

	return s.sign(secret)
}

// ErrCSRF is a form that did not come from this site's page.
var ErrCSRF = errs.Define("web.csrf", errs.KindForbidden, "forbidden",
	"the form has expired or did not come from this shop; reload the page and try again")

// checkForm refuses a POST from another origin or without this browser's
// token.
func (s *Site) checkForm(c echo.Context, v *Visit) error {
	r := c.Request()
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return ErrCSRF
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return ErrCSRF
	}
	got := c.FormValue("csrf")
	if got == "" || !hmac.Equal([]byte(got), []byte(v.CSRF)) {
		return ErrCSRF
	}
	return nil
}
