package remote_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
	"github.com/modshop/modshop/platform/tracing"
)

const token = "remote-test-internal-token"

type probeIn struct {
	Text string `json:"text"`
}

type probeOut struct {
	Text     string        `json:"text"`
	Subject  string        `json:"subject"`
	Role     string        `json:"role"`
	TraceID  string        `json:"trace_id"`
	Deadline time.Duration `json:"deadline"`
}

var (
	errShort = errs.Define("probe.short", errs.KindConflict, "out_of_stock", "not enough")
	// errOther has errShort's code: it must never be taken for it.
	errOther = errs.Define("probe.other", errs.KindConflict, "out_of_stock", "not enough either")
)

// The probe's operations, as a module's remote.go declares them.
var (
	echo         = remote.Op1[probeIn, probeOut]{Name: "echo", Retry: remote.Retry}
	fail         = remote.Op1[probeIn, probeOut]{Name: "fail"}
	flakyOnce    = remote.Op1[probeIn, int64]{Name: "flaky"}
	flakyRetried = remote.Op1[probeIn, int64]{Name: "flaky", Retry: remote.Retry}
	flakyIf      = remote.Op1[probeIn, int64]{Name: "flaky", RetryIf: func(in probeIn) bool { return in.Text == "key" }}
	size         = remote.Op1[probeIn, int]{Name: "size", Retry: remote.Retry}
	split        = remote.Op2Pair[string, int, []string, string]{Name: "split", Retry: remote.Retry}
	forget       = remote.Cmd2[string, int]{Name: "forget"}
	counter      = remote.Op0[int64]{Name: "count"}
)

// server runs a module "probe" whose internal routes exercise the wire.
func server(t *testing.T, flaky *atomic.Int64) *testkit.Shop {
	t.Helper()
	routes := func() httpx.RouteSet {
		return remote.Routes("probe",
			echo.Serve(func(ctx context.Context, in probeIn) (probeOut, error) {
				p, _ := auth.FromContext(ctx)
				d, _ := ctx.Deadline()
				return probeOut{Text: in.Text, Subject: p.Subject, Role: string(p.Role), TraceID: traceID(ctx), Deadline: time.Until(d)}, nil
			}),
			fail.Serve(func(ctx context.Context, in probeIn) (probeOut, error) {
				switch in.Text {
				case "invalid":
					return probeOut{}, errs.Invalid(errs.FieldError{Field: "text", Message: "is wrong"})
				case "other":
					return probeOut{}, errOther
				}
				return probeOut{}, fmt.Errorf("wrapped: %w", errShort.With("unavailable", []map[string]any{{"sku": "A", "available": 1}}))
			}),
			flakyOnce.Serve(func(ctx context.Context, in probeIn) (int64, error) {
				if n := flaky.Add(1); n < 3 {
					return n, errs.Unavailable("not yet")
				}
				return flaky.Load(), nil
			}),
			size.Serve(func(ctx context.Context, in probeIn) (int, error) { return len(in.Text), nil }),
			split.Serve(func(ctx context.Context, s string, n int) ([]string, string, error) {
				return strings.SplitN(s, ",", n), "rest", nil
			}),
			forget.Serve(func(ctx context.Context, s string, n int) error {
				flaky.Add(int64(n))
				return nil
			}),
			counter.Serve(func(ctx context.Context) (int64, error) { return flaky.Load(), nil }),
		)
	}
	mod := fx.Module("probe", modkit.Routes(routes))
	return testkit.Start(t, []app.Module{{Name: "probe", Local: mod}}, testkit.Options{Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": token}})
}

func TestCallCarriesIdentityTraceAndDeadline(t *testing.T) {
	shop := server(t, new(atomic.Int64))
	c := remote.NewClient("probe", shop.URL, token)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "cust-1", Role: auth.RoleCustomer})
	ctx = tracing.FromTraceparent(ctx, "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := echo.Call(ctx, c, probeIn{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "hi" || out.Subject != "cust-1" || out.Role != "customer" || out.TraceID != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("the callee saw %+v", out)
	}
	if out.Deadline <= 0 || out.Deadline > 3*time.Second {
		t.Fatalf("the callee's deadline is %s away, want the caller's 3s", out.Deadline)
	}
	// Without a trace, one is started.
	if out, err = echo.Call(context.Background(), c, probeIn{}); err != nil || len(out.TraceID) != 32 {
		t.Fatalf("new trace %q, %v", out.TraceID, err)
	}
}

func TestTypedErrorsSurviveTheWire(t *testing.T) {
	shop := server(t, new(atomic.Int64))
	c := remote.NewClient("probe", shop.URL, token)
	_, err := fail.Call(context.Background(), c, probeIn{})
	e := errs.As(err)
	if !errors.Is(err, errShort) || errors.Is(err, errOther) || e.Kind != errs.KindConflict || e.Message != "not enough" || e.ID() != "probe.short" {
		t.Fatalf("got %#v", err)
	}
	if _, ok := e.Extra[remote.ErrorIDMember]; ok {
		t.Fatalf("the error id is an extra member: %v", e.Extra)
	}
	if _, err := fail.Call(context.Background(), c, probeIn{Text: "other"}); !errors.Is(err, errOther) || errors.Is(err, errShort) {
		t.Fatalf("another error of the same code: %#v", err)
	}
	if u, ok := e.Extra["unavailable"].([]any); !ok || len(u) != 1 || u[0].(map[string]any)["sku"] != "A" {
		t.Fatalf("extra members: %#v", e.Extra)
	}
	_, err = fail.Call(context.Background(), c, probeIn{Text: "invalid"})
	if e := errs.As(err); e == nil || e.Kind != errs.KindValidation || len(e.Fields) != 1 || e.Fields[0].Field != "text" {
		t.Fatalf("validation error: %#v", err)
	}
	ctx := t.Context()
	// A malformed input is the callee's 400: a wrong type, an unknown
	// field, another number of arguments.
	for name, call := range map[string]func() error{
		"wrong type": func() error {
			_, err := remote.Op1[map[string]any, probeOut]{Name: "echo"}.Call(ctx, c, map[string]any{"text": 5})
			return err
		},
		"unknown field": func() error {
			_, err := remote.Op1[map[string]any, probeOut]{Name: "echo"}.Call(ctx, c, map[string]any{"texts": "x"})
			return err
		},
		"two arguments": func() error {
			_, err := remote.Op2[probeIn, int, probeOut]{Name: "echo"}.Call(ctx, c, probeIn{}, 1)
			return err
		},
		"none": func() error { _, err := remote.Op0[probeOut]{Name: "echo"}.Call(ctx, c); return err },
	} {
		if err := call(); errs.As(err) == nil || errs.As(err).Kind != errs.KindBadRequest {
			t.Errorf("%s: %v, want 400", name, err)
		}
	}
}

func TestOperationsOfEveryShape(t *testing.T) {
	var n atomic.Int64
	shop := server(t, &n)
	c := remote.NewClient("probe", shop.URL, token)
	ctx := t.Context()
	if page, next, err := split.Call(ctx, c, "a,b,c", 2); err != nil || len(page) != 2 || page[1] != "b,c" || next != "rest" {
		t.Fatalf("pair: %q %q %v", page, next, err)
	}
	if err := forget.Call(ctx, c, "x", 5); err != nil {
		t.Fatal(err)
	}
	if got, err := counter.Call(ctx, c); err != nil || got != 5 {
		t.Fatalf("after a command of 5: %d, %v", got, err)
	}
}

// A route the process does not have answers a bare 404, which is no api
// error, however much its code looks like one: the operation is
// unavailable there.
func TestABare404IsNoAPIError(t *testing.T) {
	shop := server(t, new(atomic.Int64))
	c := remote.NewClient("probe", shop.URL, token)
	errNotFound := errs.Define("probe.not_found", errs.KindNotFound, "not_found", "no such probe")
	_, err := remote.Op1[string, int]{Name: "missing"}.Call(t.Context(), c, "x")
	if e := errs.As(err); !remote.IsUnavailable(err) || errors.Is(err, errNotFound) || !strings.Contains(e.Message, "does not serve missing") {
		t.Fatalf("a missing route: %#v", err)
	}
}

func TestOnlyIdempotentCallsAreRetried(t *testing.T) {
	var n atomic.Int64
	shop := server(t, &n)
	c := remote.NewClient("probe", shop.URL, token)
	if _, err := flakyOnce.Call(context.Background(), c, probeIn{}); !remote.IsUnavailable(err) || n.Load() != 1 {
		t.Fatalf("a call that is not idempotent: %v after %d attempts, want 503 after 1", err, n.Load())
	}
	n.Store(0)
	if got, err := flakyRetried.Call(context.Background(), c, probeIn{}); err != nil || got != 3 {
		t.Fatalf("an idempotent call: %d, %v; want success at the third attempt", got, err)
	}
	n.Store(0)
	if _, err := flakyIf.Call(context.Background(), c, probeIn{}); !remote.IsUnavailable(err) || n.Load() != 1 {
		t.Fatalf("RetryIf false: %v after %d attempts, want 503 after 1", err, n.Load())
	}
	n.Store(0)
	if got, err := flakyIf.Call(context.Background(), c, probeIn{Text: "key"}); err != nil || got != 3 {
		t.Fatalf("RetryIf true: %d, %v; want success at the third attempt", got, err)
	}
}

func TestInternalRoutesNeedTheToken(t *testing.T) {
	shop := server(t, new(atomic.Int64))
	for _, tok := range []string{"", "wrong-token-of-some-length"} {
		_, err := echo.Call(context.Background(), remote.NewClient("probe", shop.URL, tok), probeIn{})
		if e := errs.As(err); e == nil || e.Kind != errs.KindUnauthorized {
			t.Fatalf("token %q: %v, want 401", tok, err)
		}
	}
}

func TestUnreachableModuleIsUnavailableQuickly(t *testing.T) {
	c := remote.NewClient("probe", "http://127.0.0.1:1", token)
	start := time.Now()
	_, err := echo.Call(context.Background(), c, probeIn{})
	if !remote.IsUnavailable(err) || time.Since(start) > 2*time.Second {
		t.Fatalf("%v after %s, want 503 fast", err, time.Since(start))
	}
	if !strings.Contains(errs.As(err).Message, "probe") {
		t.Fatalf("the message names the module: %q", errs.As(err).Message)
	}
	if err := c.Ping(context.Background()); err == nil {
		t.Fatal("Ping of a module that is down succeeded")
	}
}

func TestInternalBodiesMayBeLargerThanPublicOnes(t *testing.T) {
	shop := server(t, new(atomic.Int64))
	c := remote.NewClient("probe", shop.URL, token)
	big := strings.Repeat("x", 3<<20)
	if n, err := size.Call(context.Background(), c, probeIn{Text: big}); err != nil || n != len(big) {
		t.Fatalf("3 MiB internal call: %d, %v", n, err)
	}
	r := shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/nothing", Body: `{"text":"` + big + `"}`})
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("public 3 MiB body: %d", r.Status)
	}
}

// Calls are measured from the caller's side, by module, op and outcome;
// clients of several modules share one registry.
func TestCallsAreMeasured(t *testing.T) {
	shop := server(t, new(atomic.Int64))
	reg := prometheus.NewRegistry()
	c, err := remote.NewClient("probe", shop.URL, token).Measured(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.NewClient("other", "http://127.0.0.1:1", token).Measured(reg); err != nil {
		t.Fatalf("a second client on the registry: %v", err)
	}
	down, err := remote.NewClient("down", "http://127.0.0.1:1", token).Measured(reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for range 2 {
		if _, err := echo.Call(ctx, c, probeIn{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fail.Call(ctx, c, probeIn{}); err == nil {
		t.Fatal("fail succeeded")
	}
	if _, err := fail.Call(ctx, down, probeIn{}); err == nil {
		t.Fatal("a call to a process that is not there succeeded")
	}
	got := map[string]uint64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["module"]+"."+labels["op"]+" "+labels["outcome"]] = m.GetHistogram().GetSampleCount()
		}
	}
	want := map[string]uint64{"probe.echo ok": 2, "probe.fail error": 1, "down.fail unavailable": 1}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("series %v, want %v", got, want)
		}
	}
}

func init() { tracing.IDsOnly() }

// traceID is the trace id of ctx's span, or "".
func traceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// A Local client runs the served function itself, in a span of its own
// under the caller's, with the caller's identity; its errors are the api's
// own, unencoded; an operation the module did not list is an internal
// error, not a call over a wire that is not there.
func TestLocalCallsRunTheServedFunctionInAChildSpan(t *testing.T) {
	var seen trace.SpanContext
	var who string
	c := remote.Local("probe",
		echo.Serve(func(ctx context.Context, in probeIn) (probeOut, error) {
			seen = trace.SpanContextFromContext(ctx)
			p, _ := auth.FromContext(ctx)
			who = p.Subject
			return probeOut{Text: in.Text + "!"}, nil
		}),
		fail.Serve(func(context.Context, probeIn) (probeOut, error) { return probeOut{}, errShort.With("sku", "A") }),
		forget.Serve(func(context.Context, string, int) error { return nil }),
	)
	ctx := tracing.FromTraceparent(context.Background(), "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01")
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: "cust-1", Role: auth.RoleCustomer})
	out, err := echo.Call(ctx, c, probeIn{Text: "hi"})
	if err != nil || out.Text != "hi!" || who != "cust-1" {
		t.Fatalf("echo = %+v, %v (caller %q)", out, err, who)
	}
	if seen.TraceID().String() != "0123456789abcdef0123456789abcdef" || seen.SpanID().String() == "0123456789abcdef" {
		t.Fatalf("the call's span %s/%s is not a child of the caller's", seen.TraceID(), seen.SpanID())
	}
	if _, err := fail.Call(ctx, c, probeIn{}); !errors.Is(err, errShort) || errors.Is(err, errOther) {
		t.Fatalf("fail = %v, want errShort itself", err)
	}
	if err := forget.Call(ctx, c, "x", 1); err != nil {
		t.Fatalf("forget = %v", err)
	}
	if _, err := counter.Call(ctx, c); errs.As(err) == nil || errs.As(err).Kind != errs.KindInternal {
		t.Fatalf("an operation not served here = %v, want an internal error", err)
	}
}
