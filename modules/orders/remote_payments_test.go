package orders_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/cart"
	"github.com/modshop/modshop/modules/catalog"
	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/payments"
	paymentsapi "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/remote"
	"github.com/modshop/modshop/platform/testkit"
)

// paymentsProxy stands between orders and the payments process: it passes
// every call on, remembers the id of the last authorization, and while bare
// is set answers the payment lookup with a bare 404, as a process answers a
// route it does not have.
type paymentsProxy struct {
	*httptest.Server
	bare      atomic.Bool
	mu        sync.Mutex
	paymentID string
}

func newPaymentsProxy(t *testing.T, target string) *paymentsProxy {
	t.Helper()
	p := &paymentsProxy{}
	p.Server = testkit.Proxy(t, target, func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case remote.Path(payments.Name, "payment"):
			if p.bare.Load() {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, `{"type":"/problems/not_found","title":"Not Found","status":404,"detail":"no such resource","code":"not_found"}`)
				return true
			}
		case remote.Path(payments.Name, "authorize"):
			body, _ := io.ReadAll(r.Body)
			var args []paymentsapi.AuthorizeRequest
			if err := json.Unmarshal(body, &args); err == nil && len(args) == 1 {
				p.mu.Lock()
				p.paymentID = args[0].ID
				p.mu.Unlock()
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		return false
	})
	return p
}

func (p *paymentsProxy) lastPaymentID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paymentID
}

// An authorization whose order cannot be made is voided even when payments
// runs in another process. The lookup that tells whether there is one to
// void answers a bare 404 at first (a process without that route): that is
// no "never authorized" (payments.ErrNotFound), so the placement is paused,
// not finished with the authorization left behind, and voided once the
// lookup answers.
func TestAnAuthorizationIsNotLeftBehindWhenTheRemoteAnswersABare404(t *testing.T) {
	var pay paymentsapi.Payments
	vars := map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken}
	paymentsShop := testkit.Start(t, []app.Module{{Name: payments.Name, Local: payments.Module}},
		testkit.Options{Env: vars, Extra: []fx.Option{fx.Populate(&pay)}})
	proxy := newPaymentsProxy(t, paymentsShop.URL)

	e := &env{}
	mods := []app.Module{
		{Name: inventory.Name, Local: inventory.Module},
		{Name: catalog.Name, Local: catalog.Module},
		{Name: cart.Name, Local: cart.Module},
		{Name: customers.Name, Local: customers.Module},
		{Name: payments.Name, Local: payments.Module, Remote: payments.Remote},
		{Name: orders.Name, Local: orders.Module},
	}
	shop := testkit.Start(t, mods, testkit.Options{
		Modules: []string{inventory.Name, catalog.Name, cart.Name, customers.Name, orders.Name},
		Env:     map[string]string{"MODSHOP_INTERNAL_TOKEN": internalToken, "MODSHOP_REMOTE_PAYMENTS": proxy.URL},
		Extra:   []fx.Option{fx.Populate(&e.catalog, &e.stock, &e.inv)},
	})
	e.shop = shop
	e.product(t, 1500, 5, "VOID")
	c := e.checkout(t, e.cart(t, "", item{"VOID", 1}), "")
	// The stock goes before the order is placed: the authorization comes
	// first, then the sale is refused, and the authorization must be voided.
	if err := e.inv.Release(ctx, "res_"+c.ID); err != nil {
		t.Fatalf("release the checkout's reservation: %v", err)
	}

	proxy.bare.Store(true)
	r := e.order(c.ID, "pm_card_visa", "void-me", "")
	id := proxy.lastPaymentID()
	if id == "" {
		t.Fatalf("no authorization went to payments: %d %s", r.Status, r.Body)
	}
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("order while the lookup answers a bare 404: %d %s, want 503 (paused, to be retried)", r.Status, r.Body)
	}
	if p, err := pay.Payment(ctx, id); err != nil || p.Status != paymentsapi.StatusAuthorized {
		t.Fatalf("payment %s while paused: %+v, %v; want it still authorized", id, p, err)
	}

	proxy.bare.Store(false)
	testkit.Eventually(t, 15*time.Second, func() bool {
		p, err := pay.Payment(ctx, id)
		return err == nil && p.Status == paymentsapi.StatusVoided
	}, "the authorization %s was not voided", id)
	testkit.ExpectProblem(t, e.order(c.ID, "pm_card_visa", "void-me", ""), http.StatusConflict, "checkout_expired")
}
