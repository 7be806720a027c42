package remote_test

import (
	"go.opentelemetry.io/otel/trace"

	"context"
	"errors"
	"github.com/modshop/modshop/platform/tracing"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
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

var errShort = errs.New(errs.KindConflict, "out_of_stock", "not enough").With("unavailable", []map[string]any{{"sku": "A", "available": 1}})

// server runs a module "probe" whose internal routes exercise the wire.
func server(t *testing.T, flaky *atomic.Int64) *testkit.Shop {
	t.Helper()
	routes := func() httpx.RouteSet {
		return remote.Routes("probe",
			remote.Op("echo", func(ctx context.Context, in probeIn) (probeOut, error) {
				p, _ := auth.FromContext(ctx)
				d, _ := ctx.Deadline()
				return probeOut{Text: in.Text, Subject: p.Subject, Role: string(p.Role), TraceID: traceID(ctx), Deadline: time.Until(d)}, nil
			}),
			remote.Op("fail", func(ctx context.Context, in probeIn) (probeOut, error) {
				if in.Text == "invalid" {
					return probeOut{}, errs.Invalid(errs.FieldError{Field: "text", Message: "is wrong"})
				}
				return probeOut{}, errShort
			}),
			remote.Op("flaky", func(ctx context.Context, in probeIn) (int64, error) {
				if n := flaky.Add(1); n < 3 {
					return n, errs.Unavailable("not yet")
				}
				return flaky.Load(), nil
			}),
			remote.Op("size", func(ctx context.Context, in probeIn) (int, error) { return len(in.Text), nil }),
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
	var out probeOut
	if err := c.Call(ctx, "echo", probeIn{Text: "hi"}, &out, true); err != nil {
		t.Fatal(err)
	}
	if out.Text != "hi" || out.Subject != "cust-1" || out.Role != "customer" || out.TraceID != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("the callee saw %+v", out)
	}
	if out.Deadline <= 0 || out.Deadline > 3*time.Second {
		t.Fatalf("the callee's deadline is %s away, want the caller's 3s", out.Deadline)
	}
	// Without a trace, one is started.
	if err := c.Call(context.Background(), "echo", probeIn{}, &out, true); err != nil || len(out.TraceID) != 32 {
		t.Fatalf("new trace %q, %v", out.TraceID, err)
	}
}

func TestTypedErrorsSurviveTheWire(t *testing.T) {
	shop := server(t, new(atomic.Int64))
	c := remote.NewClient("probe", shop.URL, token)
	err := c.Call(context.Background(), "fail", probeIn{}, nil, false)
	e := errs.As(err)
	if !errors.Is(err, errShort) || e.Kind != errs.KindConflict || e.Message != "not enough" {
		t.Fatalf("got %#v", err)
	}
	if u, ok := e.Extra["unavailable"].([]any); !ok || len(u) != 1 || u[0].(map[string]any)["sku"] != "A" {
		t.Fatalf("extra members: %#v", e.Extra)
	}
	err = c.Call(context.Background(), "fail", probeIn{Text: "invalid"}, nil, false)
	if e := errs.As(err); e == nil || e.Kind != errs.KindValidation || len(e.Fields) != 1 || e.Fields[0].Field != "text" {
		t.Fatalf("validation error: %#v", err)
	}
	// A malformed input is the callee's 400.
	if err := c.Call(context.Background(), "echo", map[string]any{"text": 5}, nil, true); errs.As(err) == nil || errs.As(err).Kind != errs.KindBadRequest {
		t.Fatalf("bad input: %v", err)
	}
}

func TestOnlyIdempotentCallsAreRetried(t *testing.T) {
	var n atomic.Int64
	shop := server(t, &n)
	c := remote.NewClient("probe", shop.URL, token)
	if err := c.Call(context.Background(), "flaky", probeIn{}, nil, false); !remote.IsUnavailable(err) || n.Load() != 1 {
		t.Fatalf("a call that is not idempotent: %v after %d attempts, want 503 after 1", err, n.Load())
	}
	n.Store(0)
	var got int64
	if err := c.Call(context.Background(), "flaky", probeIn{}, &got, true); err != nil || got != 3 {
		t.Fatalf("an idempotent call: %d, %v; want success at the third attempt", got, err)
	}
}

func TestInternalRoutesNeedTheToken(t *testing.T) {
	shop := server(t, new(atomic.Int64))
	for _, tok := range []string{"", "wrong-token-of-some-length"} {
		err := remote.NewClient("probe", shop.URL, tok).Call(context.Background(), "echo", probeIn{}, nil, true)
		if e := errs.As(err); e == nil || e.Kind != errs.KindUnauthorized {
			t.Fatalf("token %q: %v, want 401", tok, err)
		}
	}
}

func TestUnreachableModuleIsUnavailableQuickly(t *testing.T) {
	c := remote.NewClient("probe", "http://127.0.0.1:1", token)
	start := time.Now()
	err := c.Call(context.Background(), "echo", probeIn{}, nil, true)
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
	var n int
	big := strings.Repeat("x", 3<<20)
	if err := c.Call(context.Background(), "size", probeIn{Text: big}, &n, true); err != nil || n != len(big) {
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
		if err := c.Call(ctx, "echo", probeIn{Text: "hi"}, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Call(ctx, "fail", probeIn{}, nil, false); err == nil {
		t.Fatal("fail succeeded")
	}
	if err := down.Call(ctx, "echo", probeIn{}, nil, false); err == nil {
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
	want := map[string]uint64{"probe.echo ok": 2, "probe.fail error": 1, "down.echo unavailable": 1}
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
