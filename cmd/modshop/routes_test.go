package main

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/testkit"
)

// routeAccess is the access decision for every route the binary registers,
// keyed "METHOD path" (echo path syntax). A route that is registered but
// missing here fails TestRouteAccess, so a new route cannot ship without
// someone deciding who may call it.
//
// Classes: public (anyone; a token is ignored), optional (anyone; a bad
// token is 401), customer (a signed-in customer or admin), admin (role
// admin), internal (MODSHOP_INTERNAL_TOKEN only).
var routeAccess = map[string]string{
	// platform
	"GET /healthz":                      "public",
	"GET /readyz":                       "public",
	"GET /metrics":                      "public",
	"GET /openapi.json":                 "public",
	"GET /docs":                         "public",
	"GET /docs/docs.js":                 "public",
	"GET /docs/redoc.standalone.js":     "public",
	"GET /v1/admin/events/dead-letters": "admin",
	"POST /v1/admin/events/dead-letters/:module/:id/replay": "admin",

	// catalog
	"GET /v1/categories":                   "public",
	"GET /v1/products":                     "public",
	"GET /v1/search":                       "public",
	"POST /v1/admin/search/reindex":        "admin",
	"GET /v1/products/:id-or-slug":         "public",
	"POST /v1/admin/categories":            "admin",
	"GET /v1/admin/products":               "admin",
	"GET /v1/admin/products/:id":           "admin",
	"POST /v1/admin/products":              "admin",
	"PATCH /v1/admin/products/:id":         "admin",
	"DELETE /v1/admin/products/:id":        "admin",
	"POST /v1/admin/products/:id/variants": "admin",
	"PATCH /v1/admin/variants/:id":         "admin",

	// customers
	"POST /v1/auth/register":      "public",
	"POST /v1/auth/login":         "public",
	"POST /v1/auth/refresh":       "public",
	"POST /v1/auth/logout":        "public",
	"GET /v1/me":                  "customer",
	"PATCH /v1/me":                "customer",
	"GET /v1/me/addresses":        "customer",
	"POST /v1/me/addresses":       "customer",
	"PATCH /v1/me/addresses/:id":  "customer",
	"DELETE /v1/me/addresses/:id": "customer",
	"GET /v1/admin/customers/:id": "admin",

	// inventory
	"GET /v1/admin/inventory":                   "admin",
	"GET /v1/admin/inventory/:sku":              "admin",
	"POST /v1/admin/inventory/:sku/adjustments": "admin",
	"GET /v1/admin/inventory/:sku/adjustments":  "admin",

	// cart: a guest cart's id is its capability; an owned cart answers only
	// its owner's token (404 to others)
	"POST /v1/carts":                      "optional",
	"GET /v1/carts/:id":                   "optional",
	"POST /v1/carts/:id/items":            "optional",
	"PATCH /v1/carts/:id/items/:item_id":  "optional",
	"DELETE /v1/carts/:id/items/:item_id": "optional",
	"GET /v1/me/cart":                     "customer",
	"POST /v1/me/cart/merge":              "customer",

	// payments
	"GET /v1/admin/payments":     "admin",
	"GET /v1/admin/payments/:id": "admin",
	// orders
	"POST /v1/carts/:id/checkout":       "optional",
	"GET /v1/checkouts/:id":             "optional",
	"POST /v1/orders":                   "optional",
	"GET /v1/orders":                    "customer",
	"GET /v1/orders/:id":                "optional",
	"POST /v1/orders/:id/cancel":        "optional",
	"GET /v1/admin/orders":              "admin",
	"GET /v1/admin/orders/:id":          "admin",
	"POST /v1/admin/orders/:id/ship":    "admin",
	"POST /v1/admin/orders/:id/deliver": "admin",
	"POST /v1/admin/orders/:id/cancel":  "admin",
	"POST /v1/admin/orders/:id/refund":  "admin",

	// web: the cart, checkout and order pages (modules/web/internal/site/cart.go).
	// Public to the bearer check: a page knows its visitor by the session
	// cookie, and an order page answers 404 to anyone but its reader.
	"GET /cart":                   "public",
	"POST /cart/items":            "public",
	"POST /cart/items/:id":        "public",
	"POST /cart/items/:id/remove": "public",
	"GET /checkout":               "public",
	"POST /checkout":              "public",
	"GET /orders/:id":             "public",
}

// decision is a route's access class: from routeAccess, and "internal" for
// every /internal/v2/<module>/<op> route (a module's api served to remote
// callers), which must never be reachable without the internal token.
func decision(key string) (string, bool) {
	if c, ok := routeAccess[key]; ok {
		return c, true
	}
	if _, path, _ := strings.Cut(key, " "); strings.HasPrefix(path, "/internal/v2/") {
		return "internal", true
	}
	return "", false
}

const routesInternalToken = "routes-test-internal-token-0123456789"

// TestRouteAccess starts every module of the binary and checks each
// registered route against routeAccess: the table must name it, its declared
// Access must match the table, and the platform must enforce it for no
// token, a malformed token, a customer's token and an admin's token.
func TestRouteAccess(t *testing.T) {
	shop := testkit.Start(t, modules, testkit.Options{Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": routesInternalToken}})
	registered := registeredRoutes(shop)

	var missing, stale, mismatched []string
	for key, declared := range registered {
		want, ok := decision(key)
		switch {
		case !ok:
			missing = append(missing, testkit.Fmt("%q: %q,", key, declared))
		case want != declared:
			mismatched = append(mismatched, testkit.Fmt("%s: the table says %s, the route declares %s", key, want, declared))
		}
	}
	for key := range routeAccess {
		if _, ok := registered[key]; !ok {
			stale = append(stale, key)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	sort.Strings(mismatched)
	if len(missing) > 0 {
		t.Errorf("%d registered routes have no access decision in routeAccess (cmd/modshop/routes_test.go); "+
			"add each with the class it should have (shown: what it declares now):\n\t%s", len(missing), strings.Join(missing, "\n\t"))
	}
	if len(mismatched) > 0 {
		t.Errorf("routes whose declared Access differs from routeAccess:\n\t%s", strings.Join(mismatched, "\n\t"))
	}
	if len(stale) > 0 {
		t.Errorf("routeAccess lists routes the binary does not register (remove them):\n\t%s", strings.Join(stale, "\n\t"))
	}

	tokens := []struct {
		name, header string
	}{
		{"no token", ""},
		{"malformed token", "Bearer not-a-jwt"},
		{"customer token", "Bearer " + shop.Token("routes-test-customer", auth.RoleCustomer)},
		{"admin token", "Bearer " + shop.AdminToken()},
	}
	keys := make([]string, 0, len(registered))
	for key := range registered {
		if _, decided := decision(key); decided {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		class, _ := decision(key)
		t.Run(key, func(t *testing.T) {
			for _, tok := range tokens {
				res := call(shop, key, map[string]string{"Authorization": tok.header})
				checkAccess(t, class, tok.name, res)
			}
			if class == "internal" {
				res := call(shop, key, map[string]string{httpx.InternalTokenHeader: routesInternalToken})
				expectPassed(t, "internal token", res)
			}
		})
	}
}

// checkAccess asserts what the access layer must answer for a class and a
// kind of caller.
func checkAccess(t *testing.T, class, caller string, res testkit.Response) {
	t.Helper()
	switch {
	case class == "internal":
		expectProblem(t, caller, res, 401, "unauthorized")
	case class == "public":
		expectPassed(t, caller, res)
	case caller == "malformed token":
		expectProblem(t, caller, res, 401, "unauthorized")
	case caller == "no token" && class == "optional":
		expectPassed(t, caller, res)
	case caller == "no token":
		expectProblem(t, caller, res, 401, "unauthorized")
	case caller == "customer token" && class == "admin":
		expectProblem(t, caller, res, 403, "forbidden")
	default: // a customer or admin on a route open to them
		expectPassed(t, caller, res)
	}
}

func expectProblem(t *testing.T, caller string, res testkit.Response, status int, code string) {
	t.Helper()
	if res.Status != status || res.Code() != code || !strings.HasPrefix(res.Header.Get("Content-Type"), httpx.ProblemContentType) {
		t.Errorf("%s: got %d %q (%s), want %d %s problem; body: %s", caller, res.Status, res.Code(), res.Header.Get("Content-Type"), status, code, res.Body)
	}
}

// expectPassed: the access check let the request through. The handler may
// still refuse the empty request (400, 404, 422, or 401 invalid_credentials
// for a sign-in); only the access layer's own answers count as a refusal.
func expectPassed(t *testing.T, caller string, res testkit.Response) {
	t.Helper()
	if res.Status == http.StatusUnauthorized && res.Code() == "unauthorized" || res.Status == http.StatusForbidden && res.Code() == "forbidden" {
		t.Errorf("%s: refused with %d %s; body: %s", caller, res.Status, res.Code(), res.Body)
	}
	if res.Status >= 500 {
		t.Errorf("%s: %d; body: %s", caller, res.Status, res.Body)
	}
}

// registeredRoutes maps every route echo serves to its declared access
// class: module routes as their RouteSet declares, and routes the platform
// registers directly (health, metrics, OpenAPI) as public.
func registeredRoutes(shop *testkit.Shop) map[string]string {
	out := map[string]string{}
	for _, r := range shop.Runtime.Server().Echo.Routes() {
		out[r.Method+" "+r.Path] = httpx.Public.String()
	}
	for _, set := range shop.Runtime.Server().RouteSets() {
		for _, r := range set.Routes {
			out[r.Method+" "+r.Path] = r.Access.String()
		}
	}
	return out
}

// call sends the route an empty request: path parameters get a placeholder,
// methods with a body get {}.
func call(shop *testkit.Shop, key string, header map[string]string) testkit.Response {
	method, path, _ := strings.Cut(key, " ")
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || s == "*" {
			segs[i] = "00000000-0000-0000-0000-000000000000"
		}
	}
	req := testkit.Req{Method: method, Path: strings.Join(segs, "/"), Header: map[string]string{}}
	for k, v := range header {
		if v != "" {
			req.Header[k] = v
		}
	}
	if slices.Contains([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, method) {
		req.Body = "{}"
	}
	return shop.Do(req)
}
