// Package remote carries a module's api interface over HTTP, for a process
// that does not run that module: each api method is one typed operation
// (op.go), declared once in the module's remote.go and used by both the
// internal route that serves it (Serve) and the client that calls it (Call).
//
// The wire: POST /internal/v2/<module>/<op> with the operation's arguments
// as a JSON array; 200 with its result as JSON (204 for a command), or an
// RFC 9457 problem whose code, kind (from the status), message, field
// errors and extra members come back as an *errs.Error, restored as the
// very api error it was from its error_id member, so errors.Is against the
// api's errors works on both sides. Every call carries the internal token
// (compared in constant time by the server), a deadline, the caller's
// identity and a W3C trace context. Only operations declared to be retried
// are.
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/tracing"
)

// Headers of an internal call.
const (
	SubjectHeader  = "X-Modshop-Caller-Subject"
	RoleHeader     = "X-Modshop-Caller-Role"
	DeadlineHeader = "X-Modshop-Deadline" // RFC 3339 with nanoseconds
)

// Defaults of a client.
const (
	DefaultTimeout = 30 * time.Second          // a call's deadline when its context has none
	maxTimeout     = httpx.InternalMaxDuration // the longest deadline a server accepts
	maxAttempts    = 3                         // for idempotent calls
)

// Path is the internal route of a module's operation. The version changes
// with the wire format, so a process never misreads one of another format:
// it answers a bare 404.
func Path(module, op string) string { return "/internal/v2/" + module + "/" + op }

// Client calls one remote module.
type Client struct {
	module  string
	base    string
	token   string
	http    *http.Client             // for https calls, readiness checks and forwarded routes
	calls   *transport               // for http calls; nil for https
	latency *prometheus.HistogramVec // nil: calls are not measured
	local   map[string]any           // set by Local: op → the function that serves it here
}

// Local is a client of a module that runs in this process: a call goes
// through the same typed operation as over the wire, but runs the function
// the endpoint serves, directly (no encoding, no HTTP), in a span of its own
// named like the remote call's. A module hands other modules its api as
// NewClient(remote.Local(...)), so that a call looks the same to its
// caller, and in a trace, wherever the module runs.
func Local(module string, eps ...Endpoint) *Client {
	c := &Client{module: module, local: make(map[string]any, len(eps))}
	for _, ep := range eps {
		c.local[ep.Op] = ep.fn
	}
	return c
}

// inProcess is the function of op when c is Local, and ctx in the call's
// span; ok is false for a client over the wire.
func inProcess[F any](ctx context.Context, c *Client, op string) (fn F, _ context.Context, span trace.Span, ok bool, err error) {
	if c.local == nil {
		return fn, ctx, nil, false, nil
	}
	ctx, span = callTracer.Start(ctx, c.module+"."+op, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("rpc.system", "modshop.local"), attribute.String("rpc.service", c.module), attribute.String("rpc.method", op)))
	fn, ok = c.local[op].(F)
	if !ok {
		// A declaration served with another function type cannot compile;
		// this is an operation the module did not list in its endpoints.
		err = errs.Internal(fmt.Errorf("%s.%s is not served in this process", c.module, op))
		tracing.End(span, err)
		return fn, ctx, nil, false, err
	}
	return fn, ctx, span, true, nil
}

// NewClient makes a client of module at baseURL (scheme, host and port),
// authenticating with the shared internal token.
func NewClient(module, baseURL, token string) *Client {
	c := &Client{module: module, base: strings.TrimRight(baseURL, "/"), token: token, http: &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}}
	if u, err := url.Parse(c.base); err == nil && u.Scheme == "http" && u.Host != "" {
		addr := u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), "80")
		}
		c.calls = newTransport(addr)
	}
	return c
}

// Measured makes the client observe every call in
// modshop_remote_call_duration_seconds{module, op, outcome} (outcome: ok,
// error: the module answered with an error, unavailable: it could not be
// reached or answered 503), registered with reg once for all clients.
func (c *Client) Measured(reg prometheus.Registerer) (*Client, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "modshop_remote_call_duration_seconds",
		Help:    "Calls to a module in another process, from the caller's side (retries included), by outcome.",
		Buckets: []float64{.00025, .0005, .001, .002, .005, .01, .025, .05, .1, .25, 1, 5}}, []string{"module", "op", "outcome"})
	if err := reg.Register(h); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		existing, ok := are.ExistingCollector.(*prometheus.HistogramVec)
		if !ok {
			return nil, err
		}
		h = existing // another client's: one series family for all
	}
	c.latency = h
	return c, nil
}

// Module is the module the client calls.
func (c *Client) Module() string { return c.module }

// BaseURL is where the module runs.
func (c *Client) BaseURL() string { return c.base }

// call runs op with args and decodes its result into out (nil: ignore it).
// With retry it is tried again, twice at most, when the module cannot be
// reached or answers 503; otherwise once, so a caller that needs a retry
// makes it itself, with the same ids.
func (c *Client) call(ctx context.Context, op string, retry bool, args []any, out any) (err error) {
	if c.latency != nil {
		defer func(start time.Time) {
			outcome := "ok"
			switch {
			case err == nil:
			case errs.As(err).Kind == errs.KindUnavailable:
				outcome = "unavailable"
			default:
				outcome = "error"
			}
			c.latency.WithLabelValues(c.module, op, outcome).Observe(time.Since(start).Seconds())
		}(time.Now())
	}
	body, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("%s.%s: encode: %w", c.module, op, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	attempts := 1
	if retry {
		attempts = maxAttempts
	}
	var last error
	for a := range attempts {
		if a > 0 {
			select {
			case <-ctx.Done():
				return c.unavailable(op, ctx.Err())
			case <-time.After(time.Duration(a*a) * 50 * time.Millisecond):
			}
		}
		status, resp, err := c.do(ctx, op, body)
		switch {
		case err != nil:
			last = c.unavailable(op, err)
			continue
		case status == http.StatusOK || status == http.StatusNoContent:
			if out == nil || len(resp) == 0 {
				return nil
			}
			if err := json.Unmarshal(resp, out); err != nil {
				return fmt.Errorf("%s.%s: decode answer: %w", c.module, op, err)
			}
			return nil
		}
		e := decodeProblem(status, resp)
		switch {
		case status == http.StatusServiceUnavailable:
			last = e
			continue
		case status == http.StatusNotFound && e.ID() == "":
			// Every not-found of an api is a defined error that names
			// itself: a bare 404 is a process without this operation (of
			// another version, or no modshop at all), never the api's
			// not_found.
			return errs.Unavailable(fmt.Sprintf("the %s module does not serve %s", c.module, op)).
				WithCause(fmt.Errorf("%s.%s at %s: %w", c.module, op, c.base, e))
		}
		return e
	}
	return last
}

func (c *Client) do(ctx context.Context, op string, body []byte) (status int, answer []byte, err error) {
	ctx, span := callTracer.Start(ctx, c.module+"."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("rpc.system", "modshop"), attribute.String("rpc.service", c.module), attribute.String("rpc.method", op)))
	defer func() {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if err == nil && status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		tracing.End(span, err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+Path(c.module, op), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	req.Header.Set(httpx.InternalTokenHeader, c.token)
	if d, ok := ctx.Deadline(); ok {
		req.Header.Set(DeadlineHeader, d.UTC().Format(time.RFC3339Nano))
	}
	if p, ok := auth.FromContext(ctx); ok {
		req.Header.Set(SubjectHeader, p.Subject)
		req.Header.Set(RoleHeader, string(p.Role))
	}
	// The callee continues this call's span (platform/httpx reads it).
	tracing.Inject(ctx, propagation.HeaderCarrier(req.Header))
	if c.calls != nil {
		return c.calls.roundTrip(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return resp.StatusCode, b, err
}

func (c *Client) unavailable(op string, cause error) error {
	return errs.Unavailable(fmt.Sprintf("the %s module is not answering", c.module)).
		WithCause(fmt.Errorf("%s.%s at %s: %w", c.module, op, c.base, cause))
}

// ErrorIDMember is the problem member of an internal answer that names the
// api error it is (errs.Error.ID), so the caller restores that very error.
// Public answers never carry it.
const ErrorIDMember = "error_id"

// withID is err as an internal answer sends it: an api error carries its id.
func withID(err error) error {
	if e := errs.As(err); e != nil && e.Kind != errs.KindInternal && e.ID() != "" {
		return e.With(ErrorIDMember, e.ID())
	}
	return err
}

// standard members of a problem document; the rest are extra members.
var standard = map[string]bool{"type": true, "title": true, "status": true, "detail": true, "instance": true, "code": true, "errors": true, ErrorIDMember: true}

// decodeProblem turns a problem answer back into the *errs.Error it was:
// the api error its error_id names, or, without one (a route the process
// does not have answers a bare 404), an error of its code and kind that is
// no api error.
func decodeProblem(status int, body []byte) *errs.Error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return errs.New(errs.KindForStatus(status), "internal", http.StatusText(status)).WithCause(fmt.Errorf("answer %d is not a problem: %.200s", status, body))
	}
	var code, detail, id string
	_ = json.Unmarshal(m["code"], &code)
	_ = json.Unmarshal(m["detail"], &detail)
	_ = json.Unmarshal(m[ErrorIDMember], &id)
	if code == "" {
		code = "internal"
	}
	e := errs.New(errs.KindForStatus(status), code, detail)
	if raw, ok := m["errors"]; ok {
		_ = json.Unmarshal(raw, &e.Fields)
	}
	for k, raw := range m {
		if standard[k] {
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) == nil {
			if e.Extra == nil {
				e.Extra = map[string]any{}
			}
			e.Extra[k] = v
		}
	}
	return errs.Restore(id, e)
}

// Endpoint is one operation a module serves to remote callers, made by an
// operation's Serve.
type Endpoint struct {
	Op      string
	Handler echo.HandlerFunc
	fn      any // the typed function the operation serves, for Local
}

// Routes are a module's internal routes: hidden from the OpenAPI document
// and served only with the internal token.
func Routes(module string, eps ...Endpoint) httpx.RouteSet {
	rs := httpx.RouteSet{Module: module}
	for _, ep := range eps {
		rs.Routes = append(rs.Routes, httpx.Route{Method: http.MethodPost, Path: Path(module, ep.Op), Access: httpx.Internal,
			Handler: ep.Handler, Hidden: true, Summary: module + "." + ep.Op + " for remote callers"})
	}
	return rs
}

// callContext is the request's context with the caller's deadline,
// identity and trace.
func callContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx := r.Context()
	if sub := r.Header.Get(SubjectHeader); sub != "" {
		ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: sub, Role: auth.Role(r.Header.Get(RoleHeader))})
	}
	if d, err := time.Parse(time.RFC3339Nano, r.Header.Get(DeadlineHeader)); err == nil {
		if limit := time.Now().Add(maxTimeout); d.After(limit) {
			d = limit
		}
		return context.WithDeadline(ctx, d)
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

var callTracer = tracing.Tracer("platform/remote")

// IsUnavailable reports whether err says a remote module did not answer.
func IsUnavailable(err error) bool {
	e := errs.As(err)
	return e != nil && e.Kind == errs.KindUnavailable
}

// Ping asks the module's process whether it is ready itself (GET
// /readyz?scope=local: its database and event bus, not its own remotes).
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/readyz?scope=local", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s at %s: %w", c.module, c.base, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(c.module + " at " + c.base + " is not ready: " + resp.Status)
	}
	return nil
}
