// Package site is the web module's pages: the storefront and the back
// office, rendered on the server with html/template from what the other
// modules' apis answer. Every page works without JavaScript; assets/app.js
// only enhances (a second click on a form's button does nothing, a select
// submits its form). Pages carry a strict Content-Security-Policy (no
// inline script or style), every form a CSRF token, and the session lives
// in an HttpOnly SameSite=Lax cookie.
//
// The handlers are grouped by area, one file each: storefront.go (home,
// categories, search, products), cart.go (cart, checkout, orders),
// account.go (register, sign-in, account) and admin*.go (the back office).
package site

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	cart "github.com/modshop/modshop/modules/cart/api"
	catalog "github.com/modshop/modshop/modules/catalog/api"
	customers "github.com/modshop/modshop/modules/customers/api"
	inventory "github.com/modshop/modshop/modules/inventory/api"
	orders "github.com/modshop/modshop/modules/orders/api"
	payments "github.com/modshop/modshop/modules/payments/api"
	search "github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/modules/web/internal/store"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
)

// Deps are what the pages are made from: the other modules' apis (in this
// process or over HTTP, the pages cannot tell), the module's sessions, and
// this process's event bus (the back office shows its dead letters).
type Deps struct {
	Catalog   catalog.Catalog
	Carts     cart.Carts
	Customers customers.Customers
	Orders    orders.Orders
	Inventory inventory.Inventory
	Payments  payments.Payments
	// Shopping and Shop change carts and place orders for the cart,
	// checkout and order pages (cart.go).
	Shopping cart.Shopping
	Shop     orders.Shop

	Sessions *store.Store
	Bus      *events.Bus
	// CSRFKey signs the forms' tokens (derived from the shop's secret, so
	// every replica accepts every other's).
	CSRFKey []byte
	Clock   clock.Clock
	Log     *slog.Logger
	// PageCacheBytes bounds the product pages' content kept rendered
	// (fragments.go); 0: 8 MiB.
	PageCacheBytes int

	// account pages (account.go)
	Accounts customers.Accounts
	Merger   cart.Merger
	History  orders.History

	// back office (orders, customers): every order and its commands, every account
	OrderDesk        orders.BackOffice
	CustomerAccounts customers.BackOffice

	// storefront: published products with their stock, from the catalog's
	// read cache, and the shop's search.
	Storefront catalog.Storefront
	Search     search.Searcher

	// The back office of products and stock (admin_catalog.go): the
	// catalog's and inventory's write sides and back-office reads, and the
	// shop currency that prices are typed in.
	CatalogAdmin        catalog.Admin
	CatalogBackOffice   catalog.BackOffice
	InventoryAdmin      inventory.Admin
	InventoryBackOffice inventory.BackOffice
	Currency            string
}

// Site serves the pages.
type Site struct {
	d         Deps
	views     *views
	fragments *fragments // kept content of product pages
}

// New makes the site; it fails when a template does not parse.
func New(d Deps) (*Site, error) {
	d.Clock = clock.Or(d.Clock)
	v, err := parseViews()
	if err != nil {
		return nil, err
	}
	if d.PageCacheBytes <= 0 {
		d.PageCacheBytes = 8 << 20
	}
	return &Site{d: d, views: v, fragments: newFragments(d.PageCacheBytes)}, nil
}

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 30 * 24 * time.Hour

// Cookie names. None is readable by script.
const (
	cookieSession = "modshop_session" // a signed-in visitor's session secret
	cookieCart    = "modshop_cart"    // a guest's cart id (the cart's capability)
	cookieCSRF    = "modshop_csrf"    // the secret the forms' CSRF tokens are bound to
	cookieFlash   = "modshop_flash"   // a one-time notice for the next page
)

// PageCSP is every page's Content-Security-Policy: script and style only
// from this origin's files (never inline, never eval), forms only to this
// origin, no framing.
const PageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Access is who may open a page.
type Access int

const (
	Anyone   Access = iota // guests and signed-in visitors
	SignedIn               // others are sent to /signin
	Admin                  // the admin role; guests are sent to /signin, others refused
)

// Handler answers one page request.
type Handler func(c echo.Context, v *Visit) error

// Page is one route of the site.
type Page struct {
	Method string
	Path   string
	Access Access
	Handle Handler
}

// Routes are the site's pages and assets, hidden from the OpenAPI document
// (which describes the JSON API). The httpx access check is Public: the
// site authenticates by its own cookie, not by a bearer token.
func (s *Site) Routes() httpx.RouteSet {
	var pages []Page
	pages = append(pages, s.storefrontPages()...)
	pages = append(pages, s.cartPages()...)
	pages = append(pages, s.accountPages()...)
	pages = append(pages, s.adminPages()...)
	rs := httpx.RouteSet{Module: "web", Description: "The storefront and back office (HTML)."}
	for _, p := range pages {
		rs.Routes = append(rs.Routes, httpx.Route{Method: p.Method, Path: p.Path, Access: httpx.Public, Hidden: true,
			Handler: s.wrap(p), Summary: "web page " + p.Path})
	}
	rs.Routes = append(rs.Routes, s.assetRoutes()...)
	return rs
}

// Visitor is who is asking: a guest (zero value) or a signed-in customer.
type Visitor struct {
	CustomerID string
	Email      string
	Name       string
	Role       string
}

// SignedIn reports whether the visitor has signed in.
func (v Visitor) SignedIn() bool { return v.CustomerID != "" }

// IsAdmin reports whether the visitor may use the back office.
func (v Visitor) IsAdmin() bool { return v.Role == string(customers.RoleAdmin) }

// Visit is one request's visitor, CSRF token and guest cart.
type Visit struct {
	Visitor Visitor
	// CSRF is the token this visitor's forms carry.
	CSRF string
	// GuestCart is a guest's cart id from its cookie ("" for none).
	GuestCart string
	flash     string
	secret    string // the session cookie's value, when signed in
	site      *Site
	c         echo.Context
}

func (s *Site) wrap(p Page) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", PageCSP)
		h.Set(echo.HeaderCacheControl, "no-store")
		v, err := s.visit(c)
		if err != nil {
			return s.fail(c, v, err)
		}
		if c.Request().Method == http.MethodPost {
			if err := s.checkForm(c, v); err != nil {
				return s.fail(c, v, err)
			}
		}
		switch {
		case p.Access != Anyone && !v.Visitor.SignedIn():
			return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		case p.Access == Admin && !v.Visitor.IsAdmin():
			return s.fail(c, v, errs.Forbidden("the back office is for the admin role"))
		case p.Access == Admin:
			// The role in the session is a copy from sign-in: ask again.
			cu, err := s.d.Customers.Customer(c.Request().Context(), v.Visitor.CustomerID)
			if err != nil || cu.Role != customers.RoleAdmin {
				return s.fail(c, v, errs.Forbidden("the back office is for the admin role"))
			}
		}
		if err := p.Handle(c, v); err != nil {
			return s.fail(c, v, err)
		}
		return nil
	}
}

// visit reads the request's cookies: the session (an unknown or expired one
// is cleared), the guest cart, the CSRF secret (made on first visit) and a
// flash notice.
func (s *Site) visit(c echo.Context) (*Visit, error) {
	v := &Visit{site: s, c: c}
	ctx := c.Request().Context()
	if ck, err := c.Cookie(cookieSession); err == nil && ck.Value != "" {
		sess, err := s.d.Sessions.Get(ctx, ck.Value, s.d.Clock.Now())
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.clearCookie(c, cookieSession)
		case err != nil:
			return v, err
		default:
			v.secret = ck.Value
			v.Visitor = Visitor{CustomerID: sess.CustomerID, Email: sess.Email, Name: sess.Name, Role: sess.Role}
		}
	}
	if ck, err := c.Cookie(cookieCart); err == nil && validID(ck.Value) {
		v.GuestCart = ck.Value
	}
	v.CSRF = s.csrfToken(c)
	if ck, err := c.Cookie(cookieFlash); err == nil && ck.Value != "" {
		if msg, err := url.QueryUnescape(ck.Value); err == nil {
			v.flash = msg
		}
		s.clearCookie(c, cookieFlash)
	}
	return v, nil
}

// validID accepts what a cart id can look like (the cart module's are 26
// lower-case base32 characters; letters, digits, '-' and '_' are let
// through), so that a tampered cookie is not sent on to the cart module.
func validID(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Ctx is the request's context.
func (v *Visit) Ctx() context.Context { return v.c.Request().Context() }

// Redirect answers a form with 303 See Other to path, with a notice for
// the next page (flash may be "").
func (v *Visit) Redirect(path, flash string) error {
	if flash != "" {
		v.site.setCookie(v.c, cookieFlash, url.QueryEscape(flash), 60*time.Second)
	}
	return v.c.Redirect(http.StatusSeeOther, path)
}

// Render answers with a page: the named template in the layout, with data.
func (v *Visit) Render(status int, name, title string, data any) error {
	return v.site.render(v.c, v, status, name, title, data)
}

// SetGuestCart remembers a guest's cart in its cookie ("" forgets it).
func (v *Visit) SetGuestCart(id string) {
	v.GuestCart = id
	if id == "" {
		v.site.clearCookie(v.c, cookieCart)
		return
	}
	v.site.setCookie(v.c, cookieCart, id, 30*24*time.Hour)
}

// SignIn starts a session for a customer (ending the one before, if any).
func (v *Visit) SignIn(cu customers.Customer) error {
	if v.secret != "" {
		_ = v.site.d.Sessions.Delete(v.Ctx(), v.secret)
	}
	secret := randomToken()
	now := v.site.d.Clock.Now()
	err := v.site.d.Sessions.Create(v.Ctx(), secret, store.Session{CustomerID: cu.ID, Email: cu.Email, Name: cu.Name,
		Role: string(cu.Role), CreatedAt: now, ExpiresAt: now.Add(SessionTTL)})
	if err != nil {
		return err
	}
	v.secret = secret
	v.Visitor = Visitor{CustomerID: cu.ID, Email: cu.Email, Name: cu.Name, Role: string(cu.Role)}
	v.site.setCookie(v.c, cookieSession, secret, SessionTTL)
	return nil
}

// SignOut ends the visitor's session.
func (v *Visit) SignOut() error {
	if v.secret != "" {
		if err := v.site.d.Sessions.Delete(v.Ctx(), v.secret); err != nil {
			return err
		}
	}
	v.secret, v.Visitor = "", Visitor{}
	v.site.clearCookie(v.c, cookieSession)
	return nil
}

// Rename changes the name the visitor's sessions show.
func (v *Visit) Rename(name string) error {
	v.Visitor.Name = name
	return v.site.d.Sessions.Rename(v.Ctx(), v.Visitor.CustomerID, name)
}

func (s *Site) setCookie(c echo.Context, name, value string, ttl time.Duration) {
	//nolint:gosec // G124: Secure whenever the request came over TLS (or X-Forwarded-Proto says so); plain http on localhost must work too
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(ttl / time.Second), HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https"})
}

func (s *Site) clearCookie(c echo.Context, name string) {
	//nolint:gosec // G124: as in setCookie
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https"})
}

// SafeNext is a sign-in's "next" target when it is a path on this site,
// and "/account" otherwise (never another origin).
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/account"
	}
	return next
}
