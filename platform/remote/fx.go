package remote

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
)

// Module is what a module's Remote option is made of (d is the module's
// descriptor, shown by `modshop modules` with where the module runs), for a process that
// does not run the module: a client of the process that does (at
// MODSHOP_REMOTE_<MODULE>), a readiness check of it, the module's public
// routes forwarded there (so clients see one API), and the constructors
// given, which turn the *Client into the module's api interfaces.
//
// routes is the module's public route table (its handlers are not called:
// each route is served by a reverse proxy to the remote process).
func Module(d modkit.Descriptor, routes func() httpx.RouteSet, constructors ...any) fx.Option {
	module := d.Name
	apis.Lock()
	apis.constructors[module] = constructors
	apis.Unlock()
	return fx.Module(module+".remote",
		modkit.Describe(func(cfg config.Config) modkit.Descriptor { out := d; out.Remote = cfg.Remotes[module]; return out }),
		fx.Provide(fx.Private, func(cfg config.Config, reg prometheus.Registerer) (*Client, error) {
			base := cfg.Remotes[module]
			if base == "" {
				return nil, fmt.Errorf("module %s runs elsewhere: set MODSHOP_REMOTE_%s to its URL", module, strings.ToUpper(module))
			}
			return NewClient(module, base, cfg.InternalToken).Measured(reg)
		}),
		fx.Provide(constructors...),
		modkit.Check(func(c *Client) httpx.Check { return httpx.Check{Name: httpx.RemoteCheckPrefix + module, Fn: c.Ping} }),
		modkit.Routes(func(c *Client) (httpx.RouteSet, error) { return Forward(c, routes()) }),
	)
}

// Forward serves a route set by forwarding every request, unchanged, to
// the client's process with echo's proxy (which also passes the client's
// address on in X-Real-IP). The process being down is a 503 unavailable.
func Forward(c *Client, rs httpx.RouteSet) (httpx.RouteSet, error) {
	target, err := url.Parse(c.BaseURL())
	if err != nil {
		return httpx.RouteSet{}, fmt.Errorf("remote %s: %w", c.Module(), err)
	}
	proxy := middleware.ProxyWithConfig(middleware.ProxyConfig{
		Balancer:  middleware.NewRoundRobinBalancer([]*middleware.ProxyTarget{{Name: c.Module(), URL: target}}),
		Transport: c.http.Transport,
		ErrorHandler: func(ec echo.Context, err error) error {
			return c.unavailable("forward "+ec.Request().URL.Path, err)
		},
	})
	handler := proxy(func(echo.Context) error { return nil })
	out := httpx.RouteSet{Module: rs.Module, Description: rs.Description, Schemas: rs.Schemas}
	for _, r := range rs.Routes {
		r.Handler = handler
		out.Routes = append(out.Routes, r)
	}
	return out, nil
}

var apis = struct {
	sync.Mutex
	constructors map[string][]any // by module
}{constructors: map[string][]any{}}

// APIs are the api values a module's Remote option provides over c (the
// interface results of its constructors that take only c), by interface
// type: a test calls every method of each to check it reaches an operation
// the module serves.
func APIs(c *Client) map[reflect.Type]any {
	apis.Lock()
	ctors := apis.constructors[c.module]
	apis.Unlock()
	out := map[reflect.Type]any{}
	for _, ctor := range ctors {
		f := reflect.ValueOf(ctor)
		if f.Kind() != reflect.Func || f.Type().NumIn() != 1 || f.Type().In(0) != reflect.TypeOf(c) {
			continue
		}
		for i, v := range f.Call([]reflect.Value{reflect.ValueOf(c)}) {
			if t := f.Type().Out(i); t.Kind() == reflect.Interface && t != reflect.TypeFor[error]() {
				out[t] = v.Interface()
			}
		}
	}
	return out
}
