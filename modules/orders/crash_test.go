package orders_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/orders/api"
	"github.com/modshop/modshop/modules/orders/internal/service"
	paymentsapi "github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/testkit"
)

// The saga survives a crash at every step. The shop runs in a child process
// (this test binary, running TestCrashChild); it exits hard (os.Exit, no
// cleanup) right after the step under test, while an order request is in
// flight. A new process on the same database then finishes the placement
// (its recovery worker, or the shopper's retry with the same key), and the
// invariants hold: one order, one authorization, stock sold once.

const (
	envChild   = "ORDERS_CRASH_CHILD"
	envCrashAt = "ORDERS_CRASH_AT"
	envDBURL   = "ORDERS_CRASH_DB"
	crashExit  = 3
)

// TestCrashChild is the child process; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	if os.Getenv(envChild) == "" {
		t.Skip("runs only as the child process of TestSagaSurvivesACrashAtEveryStep")
	}
	crashAt := os.Getenv(envCrashAt)
	tuning := &orders.Tuning{Lease: time.Second, AfterStep: func(step string) {
		if step == crashAt {
			os.Exit(crashExit)
		}
	}}
	env := map[string]string{"MODSHOP_RESERVATION_TTL": os.Getenv("MODSHOP_RESERVATION_TTL")}
	if env["MODSHOP_RESERVATION_TTL"] == "" {
		delete(env, "MODSHOP_RESERVATION_TTL")
	}
	db := testkit.DB{URL: os.Getenv(envDBURL)}
	e := startWith(t, db, options{env: env, tuning: tuning})
	if os.Getenv("ORDERS_CRASH_SEED") != "" {
		e.product(t, 3000, 5, "CRASH")
	}
	fmt.Printf("READY %s\n", e.shop.URL)
	select {} // until killed or crashed
}

type child struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

// spawn starts the shop in a child process on db; crashAt "" never crashes.
func spawn(t *testing.T, db testkit.DB, crashAt string, extraEnv ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), envChild+"=1", envCrashAt+"="+crashAt, envDBURL+"="+db.URL)
	cmd.Env = append(cmd.Env, extraEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- u
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
	select {
	case c.url = <-ready:
	case err := <-c.done:
		c.done <- err
		t.Fatalf("child exited before it was ready: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("child not ready within 60s\n%s", stderr.String())
	}
	return c
}

// exited waits for a crashed child and checks it crashed where asked.
func (c *child) exited(t *testing.T) {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err
		var ee *exec.ExitError
		if !asExit(err, &ee) || ee.ExitCode() != crashExit {
			t.Fatalf("child ended with %v, want exit code %d (the crash)", err, crashExit)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the child did not crash")
	}
}

func asExit(err error, target **exec.ExitError) bool { return errors.As(err, target) }

var crashClient = &http.Client{Timeout: 20 * time.Second}

type answer struct {
	status int
	body   []byte
}

func (a answer) code() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(a.body, &p)
	return p.Code
}

// call sends a request; a transport error (the process died) is status 0.
func call(t *testing.T, method, url, token string, body any, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := crashClient.Do(req)
	if err != nil {
		return answer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: b}
}

func expect(t *testing.T, a answer, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	return a
}

func TestSagaSurvivesACrashAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 10 processes")
	}
	admin, _, err := auth.NewKeys([]byte(testkit.JWTSecret)).Sign(auth.Principal{Subject: "admin-test", Role: auth.RoleAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{service.AfterClaim, service.AfterAuthorize, service.AfterCommit, service.AfterOrderSaved} {
		t.Run(step, func(t *testing.T) {
			db := testkit.SQLite(t)
			first := spawn(t, db, step, "ORDERS_CRASH_SEED=1")
			checkoutID := guestCheckout(t, first.url)
			key := "crash-" + step
			body := map[string]any{"checkout_id": checkoutID, "payment_method": "pm_card_visa"}
			if a := call(t, http.MethodPost, first.url+"/v1/orders", "", body, "Idempotency-Key", key); a.status != 0 {
				t.Fatalf("the request was answered (%d %s) although the process crashed", a.status, a.body)
			}
			first.exited(t)

			second := spawn(t, db, "")
			// The recovery worker finishes the placement once its lease ran
			// out; the shopper's retry with the key gets the order.
			var o api.Order
			deadline := time.Now().Add(20 * time.Second)
			for {
				a := call(t, http.MethodPost, second.url+"/v1/orders", "", body, "Idempotency-Key", key)
				if a.status == http.StatusCreated {
					if err := json.Unmarshal(a.body, &o); err != nil {
						t.Fatal(err)
					}
					break
				}
				if a.status != http.StatusConflict || a.code() != "request_in_progress" || time.Now().After(deadline) {
					t.Fatalf("retry after the crash: %d %s", a.status, a.body)
				}
				time.Sleep(100 * time.Millisecond)
			}
			checkInvariants(t, second.url, admin, checkoutID, &o, 3)
			// And once more: the same answer.
			var again api.Order
			json.Unmarshal(expect(t, call(t, http.MethodPost, second.url+"/v1/orders", "", body, "Idempotency-Key", key), http.StatusCreated).body, &again)
			if again.ID != o.ID || again.Number != o.Number {
				t.Fatalf("replay after recovery: %s %s, first %s %s", again.ID, again.Number, o.ID, o.Number)
			}
		})
	}
	// Crashed after the authorization, restarted after the reservation
	// expired: the saga cannot finish, so it undoes what it did.
	t.Run("compensated", func(t *testing.T) {
		db := testkit.SQLite(t)
		first := spawn(t, db, service.AfterAuthorize, "ORDERS_CRASH_SEED=1", "MODSHOP_RESERVATION_TTL=2s")
		checkoutID := guestCheckout(t, first.url)
		body := map[string]any{"checkout_id": checkoutID, "payment_method": "pm_card_visa"}
		call(t, http.MethodPost, first.url+"/v1/orders", "", body, "Idempotency-Key", "late")
		first.exited(t)
		time.Sleep(2500 * time.Millisecond)
		second := spawn(t, db, "")
		deadline := time.Now().Add(20 * time.Second)
		for {
			a := call(t, http.MethodPost, second.url+"/v1/orders", "", body, "Idempotency-Key", "late")
			if a.status == http.StatusConflict && a.code() == "checkout_expired" {
				break
			}
			if a.code() != "request_in_progress" || time.Now().After(deadline) {
				t.Fatalf("retry after the crash: %d %s", a.status, a.body)
			}
			time.Sleep(100 * time.Millisecond)
		}
		checkInvariants(t, second.url, admin, checkoutID, nil, 5)
	})
}

// guestCheckout checks out 2 units of CRASH for a guest.
func guestCheckout(t *testing.T, url string) string {
	t.Helper()
	var c struct {
		ID string `json:"id"`
	}
	json.Unmarshal(expect(t, call(t, http.MethodPost, url+"/v1/carts", "", nil), http.StatusCreated).body, &c)
	expect(t, call(t, http.MethodPost, url+"/v1/carts/"+c.ID+"/items", "", map[string]any{"sku": "CRASH", "quantity": 2}), http.StatusCreated)
	var co api.Checkout
	json.Unmarshal(expect(t, call(t, http.MethodPost, url+"/v1/carts/"+c.ID+"/checkout", "", checkoutBody("crash@example.com")), http.StatusCreated).body, &co)
	return co.ID
}

// checkInvariants: no order without an authorized payment, no captured or
// authorized payment without an order, no unit sold twice.
func checkInvariants(t *testing.T, url, admin, checkoutID string, want *api.Order, onHand int64) {
	t.Helper()
	var list struct {
		Items []api.Order `json:"items"`
	}
	json.Unmarshal(expect(t, call(t, http.MethodGet, url+"/v1/admin/orders", admin, nil), http.StatusOK).body, &list)
	var pays struct {
		Items []paymentsapi.Payment `json:"items"`
	}
	json.Unmarshal(expect(t, call(t, http.MethodGet, url+"/v1/admin/payments?reference="+checkoutID, admin, nil), http.StatusOK).body, &pays)
	var level struct {
		OnHand   int64 `json:"on_hand"`
		Reserved int64 `json:"reserved"`
	}
	// The stock may still be settling (a release after compensation).
	deadline := time.Now().Add(10 * time.Second)
	for {
		json.Unmarshal(expect(t, call(t, http.MethodGet, url+"/v1/admin/inventory/CRASH", admin, nil), http.StatusOK).body, &level)
		if level.Reserved == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if level.OnHand != onHand || level.Reserved != 0 {
		t.Fatalf("CRASH on_hand %d reserved %d, want %d and 0", level.OnHand, level.Reserved, onHand)
	}
	if want == nil {
		if len(list.Items) != 0 {
			t.Fatalf("%d orders, want none", len(list.Items))
		}
		for _, p := range pays.Items {
			if p.Status == paymentsapi.StatusAuthorized || p.Status == paymentsapi.StatusCaptured {
				t.Fatalf("payment %s is %s without an order", p.ID, p.Status)
			}
		}
		if len(pays.Items) != 1 || pays.Items[0].Status != paymentsapi.StatusVoided {
			t.Fatalf("payments %+v, want the one authorization voided", pays.Items)
		}
		return
	}
	if len(list.Items) != 1 || list.Items[0].ID != want.ID || list.Items[0].Status != api.StatusPlaced {
		t.Fatalf("orders %+v, want only %s placed", list.Items, want.ID)
	}
	if len(pays.Items) != 1 || pays.Items[0].ID != want.Payment.ID || pays.Items[0].Status != paymentsapi.StatusAuthorized {
		t.Fatalf("payments %+v, want one authorization, the order's", pays.Items)
	}
}
