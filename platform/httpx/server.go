// Package httpx is modshop's HTTP layer: one echo server, its middleware, the
// one error mapper, strict JSON binding, access checks and the OpenAPI
// document built from the routes modules contribute.
package httpx

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/tracing"
)

// InternalTokenHeader carries MODSHOP_INTERNAL_TOKEN on module-to-module calls.
const InternalTokenHeader = "X-Modshop-Internal-Token"

// Check is one readiness check (database, event bus, a remote module).
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
	// ShowReason puts the check's error text in the /readyz answer. Leave
	// it off for checks whose errors may name hosts, users or addresses
	// (they are logged instead); set it for those that only say how far
	// the process is, such as an index catching up.
	ShowReason bool
}

// Config configures the server.
type Config struct {
	Addr          string        // listen address
	InternalToken string        // required on Internal routes; empty = never served
	Timeout       time.Duration // per-request deadline; default 10 s
	// Unavailable, when set, recognises errors of a dependency that cannot
	// be reached (database.IsUnavailable): they answer 503, not 500.
	Unavailable func(error) bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
}

// clientIP is how the server tells a client's address. By default it is
// the TCP peer's: X-Forwarded-For is anyone's to forge, and limits per
// client address must not be dodged with it. Behind proxies (a load
// balancer, or a modshop process forwarding a remote module's routes) that
// are listed as trusted, the client is the right-most address in
// X-Forwarded-For that is not itself a trusted proxy; a request from any
// other peer is still that peer.
func clientIP(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	// Only the listed ranges: echo would otherwise also trust loopback,
	// link-local and private addresses.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Server is the process's HTTP server.
type Server struct {
	Echo    *echo.Echo
	cfg     Config
	log     *slog.Logger
	sets    []RouteSet
	checks  []Check
	ready   atomic.Bool
	srv     *http.Server
	ln      net.Listener
	openapi []byte
}

// NewServer builds the server and registers every route set. keys verifies
// bearer tokens; it may be nil for a server that has only Public routes.
func NewServer(cfg Config, sets []RouteSet, checks []Check, keys *auth.Keys, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(log, cfg.Unavailable)
	e.IPExtractor = clientIP(cfg.TrustedProxies)
	s := &Server{Echo: e, cfg: cfg, log: log, checks: checks}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Module < sets[j].Module })
	s.sets = sets

	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "modshop_http_requests_total", Help: "HTTP requests by route and status."}, []string{"method", "route", "status"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "modshop_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}}, []string{"method", "route"})
	reg.MustRegister(reqs, lat)

	e.Use(
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}),
		traceRequests(),
		observe(log, reqs, lat),
		recoverPanics(log),
		refuseBadText,
		middleware.SecureWithConfig(middleware.SecureConfig{
			XSSProtection: "0", ContentTypeNosniff: "nosniff", XFrameOptions: "DENY",
			ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'", ReferrerPolicy: "no-referrer",
		}),
		// "1MiB", not "1M": echo reads "1M" as 1,000,000 bytes.
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1MiB", Skipper: isInternal}),
		// A module's api served to remote callers takes what it takes in
		// process (an import of 10,000 products is about 10 MiB), and runs
		// under its caller's deadline (platform/remote), not the public one.
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "64MiB", Skipper: func(c echo.Context) bool { return !isInternal(c) }}),
		middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: cfg.Timeout, Skipper: isInternal}),
		func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				if isInternal(c) {
					// The server's write timeout is the public one; an
					// internal call may write later (its caller's deadline).
					_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(InternalMaxDuration))
				}
				return next(c)
			}
		},
	)

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(200, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	e.GET("/openapi.json", func(c echo.Context) error { return c.Blob(200, echo.MIMEApplicationJSON, s.openapi) })
	registerDocs(e)

	gate := s.gate()
	seen := map[string]string{}
	for _, set := range sets {
		for _, r := range set.Routes {
			if err := r.validate(set.Module); err != nil {
				return nil, err
			}
			id := r.Method + " " + routeShape(r.Path)
			if other, dup := seen[id]; dup {
				return nil, fmt.Errorf("route %s of %s is already registered by %s", id, set.Module, other)
			}
			seen[id] = set.Module
			// The module first, so that even a refused request is logged with it.
			e.Add(r.Method, r.Path, r.Handler, withModule(set.Module), gate, access(r.Access, keys, cfg.InternalToken))
		}
	}
	doc, err := marshalIndent(OpenAPI(sets))
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	return s, nil
}

// RouteSets are the registered sets.
func (s *Server) RouteSets() []RouteSet { return s.sets }

// SetReady opens (or closes) the /v1 routes; until then they answer 503.
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

func (s *Server) gate() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !s.ready.Load() {
				return echo.NewHTTPError(http.StatusServiceUnavailable)
			}
			return next(c)
		}
	}
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	failed := map[string]string{}
	if !s.ready.Load() {
		failed["startup"] = "migrations or the event bus have not started yet"
	}
	// ?scope=local leaves out the remote modules: what another process
	// asks, so two processes that call each other do not wait on each
	// other's readiness in a circle.
	local := c.QueryParam("scope") == "local"
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range s.checks {
		if local && strings.HasPrefix(ch.Name, RemoteCheckPrefix) {
			continue
		}
		wg.Go(func() {
			if err := ch.Fn(ctx); err != nil {
				// The cause goes to the log: it may name hosts and users.
				s.log.Warn("readiness check failed", "check", ch.Name, "err", err)
				mu.Lock()
				defer mu.Unlock()
				failed[ch.Name] = "not answering"
				switch {
				case ctx.Err() != nil:
					failed[ch.Name] = "timed out"
				case ch.ShowReason:
					failed[ch.Name] = err.Error()
				}
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failed": failed})
	}
	return c.JSON(200, map[string]any{"status": "ready"})
}

// Listen binds the address (so a caller knows the port before serving).
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Echo,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      s.cfg.Timeout + 5*time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for requests in flight until ctx ends;
// then it closes the connections still open.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	return err
}

// routeShape is a path with its parameter names dropped: echo routes
// /v1/x/:id and /v1/x/:key to the same handler.
func routeShape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = ":"
		}
	}
	return strings.Join(segs, "/")
}

// withModule tags the request with the module that serves it, for logs.
func withModule(module string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set("module", module)
			return next(c)
		}
	}
}

func observe(log *slog.Logger, reqs *prometheus.CounterVec, lat *prometheus.HistogramVec) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // write the problem now, so the status below is the real one
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			status := c.Response().Status
			d := time.Since(start)
			method := methodLabel(c.Request().Method)
			reqs.WithLabelValues(method, route, statusClass(status)).Inc()
			lat.WithLabelValues(method, route).Observe(d.Seconds())
			if route != "/healthz" && route != "/metrics" {
				mod, _ := c.Get("module").(string)
				m := c.Request().Method
				if method == "other" && len(m) > 32 {
					m = m[:32] + "…" // a stranger's method is not logged whole either
				}
				lvl := slog.LevelInfo
				if status >= 500 {
					lvl = slog.LevelError
				}
				log.LogAttrs(c.Request().Context(), lvl, "http",
					slog.String("method", m), slog.String("path", c.Request().URL.Path),
					slog.String("route", route), slog.Int("status", status), slog.Duration("duration", d),
					slog.Int64("bytes", c.Response().Size), slog.String("module", mod),
					slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
					slog.String("remote", c.RealIP()))
			}
			return nil
		}
	}
}

// refuseBadText answers 400 to a path or query that holds a NUL byte or
// invalid UTF-8, before any handler passes it to a database: PostgreSQL
// refuses NUL in text (a 500), and neither is ever part of a valid id,
// slug, search or cursor. Bodies are checked by Bind.
func refuseBadText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		if badText(u.Path) {
			return errs.BadRequest("the path holds a NUL byte or invalid UTF-8")
		}
		if u.RawQuery != "" {
			for k, vs := range c.QueryParams() {
				bad := badText(k)
				for _, v := range vs {
					bad = bad || badText(v)
				}
				if bad {
					return errs.BadRequest("the query holds a NUL byte or invalid UTF-8")
				}
			}
		}
		return next(c)
	}
}

// badText: s holds a NUL byte or is not valid UTF-8.
func badText(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)
}

// methodLabel is the request method as a metric label, from a bounded set:
// a client chooses its method, and a label taken as sent would grow the
// metrics without limit.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// statusClass is a status as a metric label: "2xx", "4xx", ...
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

func recoverPanics(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					err = fmt.Errorf("panic: %v", p)
					log.Error("handler panicked", "panic", fmt.Sprint(p), "path", c.Request().URL.Path)
				}
			}()
			return next(c)
		}
	}
}

// RemoteCheckPrefix names the readiness checks of remote modules.
const RemoteCheckPrefix = "remote:"

// InternalPrefix starts the paths of the routes modules serve to each
// other.
const InternalPrefix = "/internal/"

// InternalMaxDuration bounds an internal call (a reindex, a large import).
const InternalMaxDuration = 10 * time.Minute

func isInternal(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, InternalPrefix) }

func internalAuthorized(r *http.Request, token string) bool {
	got := r.Header.Get(InternalTokenHeader)
	return token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

func newRequestID() string {
	var b [12]byte
	_, _ = randRead(b[:])
	return strings.ToLower(base32enc.EncodeToString(b[:]))
}

var httpTracer = tracing.Tracer("platform/httpx")

// knownMethods bound what a span name takes from the request line.
var knownMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true}

// traceRequests gives every request a server span, named by its method and
// route pattern. It continues the caller's trace when the request carries
// a W3C traceparent: a remote module's call does, so the callee's spans
// join the caller's trace. Probes and metrics scrapes get none.
func traceRequests() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			route := c.Path()
			switch route {
			case "/healthz", "/readyz", "/metrics":
				return next(c)
			case "":
				route = "unmatched"
			}
			r := c.Request()
			method := r.Method
			if !knownMethods[method] {
				method = "HTTP"
			}
			ctx := tracing.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := httpTracer.Start(ctx, method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", method), attribute.String("http.route", route)))
			defer span.End()
			c.SetRequest(r.WithContext(ctx))
			err := next(c)
			if err != nil {
				c.Error(err) // write the problem now, so the status below is the real one
			}
			status := c.Response().Status
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return nil
		}
	}
}
