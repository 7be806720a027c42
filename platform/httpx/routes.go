package httpx

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
)

// Access is who may call a route. Every route must choose one: the zero value
// is refused at registration, so a new route cannot ship without a decision.
type Access int

const (
	accessUnset  Access = iota
	Public              // anyone; a bearer token, if sent, is ignored
	OptionalAuth        // anyone; a valid bearer token identifies the caller, a bad one is 401
	Customer            // a signed-in customer or admin
	Admin               // role admin
	Internal            // another modshop process, with MODSHOP_INTERNAL_TOKEN
)

func (a Access) String() string {
	if a < accessUnset || a > Internal {
		return "invalid"
	}
	return [...]string{"unset", "public", "optional", "customer", "admin", "internal"}[a]
}

// Param documents a query or header parameter.
type Param struct {
	Name        string
	Type        string // "string", "integer", "boolean"
	Description string
	Enum        []string
	Minimum     *int64 // bounds of an integer
	Maximum     *int64
	Default     any
	Required    bool
}

// PageParams are the limit and cursor of a list route (limit 1..100,
// default 20; the cursor is next_cursor of the page before).
func PageParams() []Param {
	lo, hi := int64(1), int64(100)
	return []Param{
		{Name: "limit", Type: "integer", Description: "how many items a page holds", Minimum: &lo, Maximum: &hi, Default: 20},
		{Name: "cursor", Type: "string", Description: "next_cursor of the previous page; absent for the first page"},
	}
}

// Route is one HTTP endpoint of a module, with what the OpenAPI document
// says of it.
type Route struct {
	Method  string
	Path    string // echo syntax: /v1/products/:id
	Access  Access
	Handler echo.HandlerFunc
	Summary string
	Query   []Param
	// Description says more than the summary; the document adds who may
	// call the route either way.
	Description string
	Header      []Param // request headers the route reads (Idempotency-Key)
	// Request is a value of the JSON body type, if the route takes one;
	// unless it is the zero value, it is the body's example in the document.
	Request any
	// Response is a value of the success body type (nil for 204); unless
	// it is the zero value, it is the answer's example.
	Response any
	Status   int   // success status; default 200
	Errors   []int // 4xx statuses of the route's own, beyond those its access, parameters and body imply
	Hidden   bool  // not in the OpenAPI document (internal routes)
}

// RouteSet is what a module contributes to the HTTP server.
type RouteSet struct {
	Module string
	// Description is the module's tag in the OpenAPI document.
	Description string
	// Schemas names types of the module's documents that would otherwise
	// clash with another module's type of the same Go name: name → a value
	// of the type.
	Schemas map[string]any
	Routes  []Route
}

// access enforces a route's Access. An answer that may depend on who asks
// (every route but a public read: carts, checkouts, orders, /v1/me, admin,
// sign-in) says Cache-Control: no-store, refusals included, so that no
// shared cache keeps one caller's answer for another; public reads
// (catalog, search) set their own caching (CachedJSON).
func access(a Access, keys *auth.Keys, internalToken string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if m := c.Request().Method; a != Public || (m != http.MethodGet && m != http.MethodHead) {
				c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
			}
			if a == Public {
				return next(c)
			}
			if a == Internal {
				if !internalAuthorized(c.Request(), internalToken) {
					return errs.Unauthorized("internal token required")
				}
				return next(c)
			}
			p, present, err := principal(c.Request(), keys)
			switch {
			case err != nil:
				return errs.Unauthorized("the access token is invalid or expired")
			case !present && a == OptionalAuth:
				return next(c)
			case !present:
				return errs.Unauthorized("a bearer access token is required")
			case a == Admin && p.Role != auth.RoleAdmin:
				return errs.Forbidden("this route requires the admin role")
			case a == Customer && p.Role != auth.RoleCustomer && p.Role != auth.RoleAdmin:
				return errs.Forbidden("this route requires a customer account")
			}
			c.SetRequest(c.Request().WithContext(auth.WithPrincipal(c.Request().Context(), p)))
			return next(c)
		}
	}
}

func principal(r *http.Request, keys *auth.Keys) (auth.Principal, bool, error) {
	h := r.Header.Get(echo.HeaderAuthorization)
	if h == "" {
		return auth.Principal{}, false, nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return auth.Principal{}, true, auth.ErrInvalidToken
	}
	if keys == nil {
		return auth.Principal{}, true, auth.ErrInvalidToken
	}
	p, err := keys.Verify(strings.TrimSpace(token))
	if err == nil && p.Role == auth.RoleService {
		err = auth.ErrInvalidToken // service identities only travel on internal routes
	}
	return p, true, err
}

// validate refuses a route without a decision or a handler.
func (r Route) validate(module string) error {
	switch {
	case r.Access == accessUnset:
		return fmt.Errorf("route %s %s of %s has no Access decision", r.Method, r.Path, module)
	case r.Access < accessUnset || r.Access > Internal:
		return fmt.Errorf("route %s %s of %s has an unknown Access %d", r.Method, r.Path, module, int(r.Access))
	case !slices.Contains([]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}, r.Method):
		return fmt.Errorf("route %s %s of %s: unknown method", r.Method, r.Path, module)
	case r.Handler == nil:
		return fmt.Errorf("route %s %s of %s has no handler", r.Method, r.Path, module)
	case !strings.HasPrefix(r.Path, "/"):
		return fmt.Errorf("route %s %s of %s: path must start with /", r.Method, r.Path, module)
	}
	return nil
}
