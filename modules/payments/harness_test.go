package payments_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/payments"
	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/modules/payments/internal/provider"
	"github.com/modshop/modshop/modules/payments/internal/service"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/clock"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// The payments module runs alone here. Beside it runs a test module named
// "orders" (the module that calls payments) with a real outbox, whose probe
// consumer records every payment event the real bus delivers. The provider
// is the real test provider behind a wrapper that records each call and
// fails on cue.

var ctx = context.Background()

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// received is a payment event as the probe got it.
type received struct {
	Name  string
	Event api.PaymentEvent
}

type probe struct {
	mu  sync.Mutex
	got []received
}

func (p *probe) add(name string, e api.PaymentEvent) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, received{Name: name, Event: e})
	return nil
}

// of lists the events of one payment in the order they arrived.
func (p *probe) of(id string) []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []received
	for _, r := range p.got {
		if r.Event.PaymentID == id {
			out = append(out, r)
		}
	}
	return out
}

func (p *probe) consumer(ob *events.Outbox) events.Consumer {
	return ob.Consumer("probe",
		events.On(func(_ context.Context, _ *events.Tx, e api.PaymentAuthorized) error {
			return p.add(api.EventPaymentAuthorized, e.PaymentEvent)
		}),
		events.On(func(_ context.Context, _ *events.Tx, e api.PaymentCaptured) error {
			return p.add(api.EventPaymentCaptured, e.PaymentEvent)
		}),
		events.On(func(_ context.Context, _ *events.Tx, e api.PaymentVoided) error {
			return p.add(api.EventPaymentVoided, e.PaymentEvent)
		}),
		events.On(func(_ context.Context, _ *events.Tx, e api.PaymentRefunded) error {
			return p.add(api.EventPaymentRefunded, e.PaymentEvent)
		}),
		events.On(func(_ context.Context, _ *events.Tx, e api.PaymentFailed) error {
			return p.add(api.EventPaymentFailed, e.PaymentEvent)
		}),
	)
}

// errProviderDown is the outage the flaky provider stages.
var errProviderDown = errors.New("provider: connection refused")

// flakyProvider is the test provider with failures on cue:
//   - down: every call fails before it reaches the provider;
//   - lose: calls reach the provider, which acts on them, but the answer is
//     lost on the way back (the process died, or the network cut);
//   - forget: CheckMethod lets every method through, as a real provider's
//     adapter may, and the provider refuses an unknown one when called.
type flakyProvider struct {
	provider.Provider
	down, lose, forget atomic.Bool
	// delay holds every call that long before it reaches the provider, so
	// that racing callers all get there before any answer is recorded.
	delay atomic.Int64 // time.Duration
	// afterCall runs once the provider has answered a call (tests cancel
	// the caller's context in it).
	afterCall atomic.Pointer[func()]

	mu      sync.Mutex
	calls   []call
	answers map[string]provider.Authorization // authorizations the provider gave, by key
}

// call is one call that reached the flaky provider.
type call struct{ Op, Key string }

func (f *flakyProvider) record(op, key string) error {
	time.Sleep(time.Duration(f.delay.Load()))
	if f.down.Load() {
		return errProviderDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{op, key})
	return nil
}

// answer passes on the provider's answer, or loses it.
func (f *flakyProvider) answer(err error) error {
	if fn := f.afterCall.Load(); fn != nil {
		(*fn)()
	}
	if f.lose.Load() {
		return errors.New("provider: connection reset after the request was sent")
	}
	return err
}

func (f *flakyProvider) CheckMethod(method string) error {
	if f.forget.Load() {
		return nil
	}
	return f.Provider.CheckMethod(method)
}

func (f *flakyProvider) Authorize(ctx context.Context, key string, amount int64, currency, method string) (provider.Authorization, error) {
	if err := f.record("authorize", key); err != nil {
		return provider.Authorization{}, err
	}
	a, err := f.Provider.Authorize(ctx, key, amount, currency, method)
	if err == nil {
		f.mu.Lock()
		f.answers[key] = a
		f.mu.Unlock()
	}
	if err := f.answer(err); err != nil {
		return provider.Authorization{}, err
	}
	return a, nil
}

func (f *flakyProvider) Capture(ctx context.Context, key, ref string, amount int64) error {
	if err := f.record("capture", key); err != nil {
		return err
	}
	return f.answer(f.Provider.Capture(ctx, key, ref, amount))
}

func (f *flakyProvider) Void(ctx context.Context, key, ref string) error {
	if err := f.record("void", key); err != nil {
		return err
	}
	return f.answer(f.Provider.Void(ctx, key, ref))
}

func (f *flakyProvider) Refund(ctx context.Context, key, ref string, amount int64) error {
	if err := f.record("refund", key); err != nil {
		return err
	}
	return f.answer(f.Provider.Refund(ctx, key, ref, amount))
}

// callsOf counts the calls of an operation that reached the provider, by key.
func (f *flakyProvider) callsOf(op string) map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, c := range f.calls {
		if c.Op == op {
			out[c.Key]++
		}
	}
	return out
}

func (f *flakyProvider) answered(key string) (provider.Authorization, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.answers[key]
	return a, ok
}

// env is a running payments module with handles the tests use.
type env struct {
	shop  *testkit.Shop
	pay   api.Payments
	svc   *service.Service
	prov  *flakyProvider
	probe *probe
	clock *clock.Fake
}

// internalToken lets the contract suite call payments over HTTP.
const internalToken = "payments-test-internal-token"

// start runs the payments module on a fake clock at t0, with the probe and
// the flaky provider.
func start(t testing.TB, db testkit.DB) *env {
	t.Helper()
	e := &env{probe: &probe{}, clock: clock.NewFake(t0), prov: &flakyProvider{answers: map[string]provider.Authorization{}}}
	orders := fx.Module("orders",
		modkit.Storage("orders"),
		modkit.Consumer(e.probe.consumer),
	)
	e.shop = testkit.Start(t, []app.Module{{Name: payments.Name, Local: payments.Module}, {Name: "orders", Local: orders}},
		testkit.Options{DB: &db, Env: map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken}, Extra: []fx.Option{
			fx.Supply(fx.Annotate(e.clock, fx.As(new(clock.Clock)))),
			fx.Decorate(func(p provider.Provider) provider.Provider { e.prov.Provider = p; return e.prov }),
			fx.Populate(&e.pay, &e.svc),
		}})
	return e
}

// drain delivers the pending events that no relay is sending already.
func (e *env) drain(t testing.TB) {
	t.Helper()
	if err := e.shop.Runtime.Bus().Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
}

// eventsOf waits until the probe holds n events of the payment and returns
// them; it fails when there are more, after a moment for strays to arrive.
func (e *env) eventsOf(t testing.TB, id string, n int) []received {
	t.Helper()
	e.drain(t)
	testkit.Eventually(t, 5*time.Second, func() bool { return len(e.probe.of(id)) >= n }, "%d events of payment %s (got %v)", n, id, e.probe.of(id))
	time.Sleep(20 * time.Millisecond)
	e.drain(t)
	got := e.probe.of(id)
	if len(got) != n {
		t.Fatalf("payment %s has %d events, want %d: %+v", id, len(got), n, got)
	}
	return got
}

// authorize authorizes an amount of EUR with a method, failing the test on
// an error.
func (e *env) authorize(t testing.TB, id, reference, method string, amount int64) api.Payment {
	t.Helper()
	p, err := e.pay.Authorize(ctx, api.AuthorizeRequest{ID: id, Reference: reference, Amount: amount, Currency: "EUR", Method: method})
	if err != nil {
		t.Fatalf("authorize %s: %v", id, err)
	}
	return p
}
