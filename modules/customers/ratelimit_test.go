package customers_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/testkit"
)

// expectLimited checks a 429 rate_limited with a Retry-After in seconds
// within (0, window].
func expectLimited(t *testing.T, res testkit.Response, window time.Duration) int {
	t.Helper()
	testkit.ExpectProblem(t, res, 429, "rate_limited")
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > int(window/time.Second) {
		t.Fatalf("Retry-After %q, want whole seconds in 1..%d", res.Header.Get("Retry-After"), int(window/time.Second))
	}
	return secs
}

// Two processes on one database share the counters: failures on either
// count against the same account and address.
func TestFailedSignInsPerAccountAndAddressAreDelayedAcrossProcesses(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		clk := &clock{}
		cfg := service.Config{Now: clk.Now}
		a := start(t, db, opts{cfg: cfg})
		b := start(t, db, opts{cfg: cfg})
		register(t, a, "kim@example.com", "password1", "Kim")
		lim := service.DefaultLimits.PerAccountAddress

		for i := range lim.Free { // 5 failures, alternating processes
			shop := []*testkit.Shop{a, b}[i%2]
			testkit.ExpectProblem(t, login(shop, "KIM@example.com", "wrong"), 401, "invalid_credentials")
		}
		first := expectLimited(t, login(a, "kim@example.com", "wrong"), lim.Max)
		expectLimited(t, login(b, "kim@example.com", "wrong"), lim.Max)
		// While waiting even the right password is refused from this
		// address: the delay is what stops guessing, so it cannot depend on
		// the guess.
		expectLimited(t, login(b, "kim@example.com", "password1"), lim.Max)
		// Another account is not affected.
		register(t, b, "lee@example.com", "password1", "Lee")
		mustLogin(t, a, "lee@example.com", "password1")

		clk.Advance(time.Duration(first) * time.Second) // the wait is over
		mustLogin(t, a, "kim@example.com", "password1")
	})
}

func TestSuccessfulSignInClearsTheAccountCounter(t *testing.T) {
	shop := start(t, testkit.SQLite(t), opts{})
	register(t, shop, "max@example.com", "password1", "Max")
	free := service.DefaultLimits.PerAccountAddress.Free
	for range free - 1 {
		testkit.ExpectProblem(t, login(shop, "max@example.com", "wrong"), 401, "invalid_credentials")
	}
	mustLogin(t, shop, "max@example.com", "password1")
	for range free { // a full allowance again
		testkit.ExpectProblem(t, login(shop, "max@example.com", "wrong"), 401, "invalid_credentials")
	}
	expectLimited(t, login(shop, "max@example.com", "wrong"), service.DefaultLimits.PerAccountAddress.Max)
}

// One client trying many accounts is stopped by the per-address limit, and a
// made-up X-Forwarded-For does not make it a new client.
func TestFailedSignInsPerAddressAreLimited(t *testing.T) {
	shop := start(t, testkit.SQLite(t), opts{})
	register(t, shop, "ned@example.com", "password1", "Ned")
	lim := service.DefaultLimits.PerAddress
	for i := range lim.Max {
		testkit.ExpectProblem(t, login(shop, testkit.Fmt("victim%d@example.com", i), "guess"), 401, "invalid_credentials")
	}
	expectLimited(t, login(shop, "fresh@example.com", "guess"), lim.Window)
	spoofed := shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/auth/login",
		Body:   map[string]string{"email": "fresh2@example.com", "password": "guess"},
		Header: map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.8"}})
	expectLimited(t, spoofed, lim.Window)
}

// The attempt is counted before the password is checked, so a burst of
// parallel guesses gets exactly the allowance, not one guess per request.
func TestParallelGuessesGetExactlyTheAllowance(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := start(t, db, opts{})
		register(t, shop, "ora@example.com", "password1", "Ora")
		const n = 16
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- login(shop, "ora@example.com", "guess").Status
			}()
		}
		wg.Wait()
		close(statuses)
		got := map[int]int{}
		for s := range statuses {
			got[s]++
		}
		if want := service.DefaultLimits.PerAccountAddress.Free; got[401] != want || got[429] != n-want {
			t.Fatalf("statuses %v, want %d × 401 and %d × 429", got, want, n-want)
		}
	})
}

// A successful sign-in gives its place in the address counter back, so
// people behind one address who sign in correctly never use it up.
func TestSuccessfulSignInDoesNotCountAgainstTheAddress(t *testing.T) {
	shop := start(t, testkit.SQLite(t), opts{})
	register(t, shop, "pat@example.com", "password1", "Pat")
	lim := service.DefaultLimits.PerAddress
	for i := range lim.Max - 1 {
		testkit.ExpectProblem(t, login(shop, testkit.Fmt("nobody%d@example.com", i), "guess"), 401, "invalid_credentials")
	}
	for range 3 {
		mustLogin(t, shop, "pat@example.com", "password1")
	}
	testkit.ExpectProblem(t, login(shop, "last@example.com", "guess"), 401, "invalid_credentials") // the 20th failure
	expectLimited(t, login(shop, "pat@example.com", "password1"), lim.Window)
}

// loginFrom signs in as a client at addr (the shop believes X-Forwarded-For
// from its trusted proxy, the test's loopback).
func loginFrom(shop *testkit.Shop, addr, email, password string) testkit.Response {
	return shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/auth/login",
		Body:   map[string]string{"email": email, "password": password},
		Header: map[string]string{"X-Forwarded-For": addr}})
}

// TestStrangerCannotLockOutTheOwner: failures are counted per account and
// client address with growing delays, so a stranger guessing the admin's
// password slows only themselves: the owner signs in from their own address
// at once, on SQLite and PostgreSQL.
func TestStrangerCannotLockOutTheOwner(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		clk := &clock{}
		shop := start(t, db, opts{cfg: service.Config{Now: clk.Now}, env: map[string]string{"MODSHOP_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}})
		register(t, shop, "boss@example.com", "password1", "Boss")
		const stranger, owner = "198.51.100.7", "203.0.113.9"
		lim := service.DefaultLimits.PerAccountAddress
		for range lim.Free {
			testkit.ExpectProblem(t, loginFrom(shop, stranger, "boss@example.com", "guess"), 401, "invalid_credentials")
		}
		// The stranger now waits, longer after each guess.
		var waits []int
		for range 3 {
			secs := expectLimited(t, loginFrom(shop, stranger, "boss@example.com", "guess"), lim.Max)
			waits = append(waits, secs)
			clk.Advance(time.Duration(secs) * time.Second)
			testkit.ExpectProblem(t, loginFrom(shop, stranger, "boss@example.com", "guess"), 401, "invalid_credentials")
		}
		if !(waits[0] < waits[1] && waits[1] < waits[2]) {
			t.Errorf("delays %v do not grow", waits)
		}
		// Even the right password waits from the stranger's address...
		expectLimited(t, loginFrom(shop, stranger, "boss@example.com", "password1"), lim.Max)
		// ...but the owner, from their own address, is not refused.
		testkit.Expect(t, loginFrom(shop, owner, "boss@example.com", "password1"), 200)
		// Nor from a third address after a few mistakes of their own.
		testkit.ExpectProblem(t, loginFrom(shop, "192.0.2.1", "boss@example.com", "typo"), 401, "invalid_credentials")
		testkit.Expect(t, loginFrom(shop, "192.0.2.1", "boss@example.com", "password1"), 200)
	})
}

func registerFrom(shop *testkit.Shop, addr, email string) testkit.Response {
	return shop.Do(testkit.Req{Method: http.MethodPost, Path: "/v1/auth/register",
		Body:   map[string]string{"email": email, "password": "password1", "name": "N"},
		Header: map[string]string{"X-Forwarded-For": addr}})
}

// TestRegistrationsAreLimitedPerAddress: each registration costs an
// argon2id hash, so one address gets PerAddressRegistrations of them (409s
// for taken e-mails included), then 429 with Retry-After; other addresses
// are not affected. A parallel burst gets exactly the allowance.
func TestRegistrationsAreLimitedPerAddress(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := start(t, db, opts{env: map[string]string{"MODSHOP_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}})
		lim := service.DefaultLimits.PerAddressRegistrations
		const n = 48
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses <- registerFrom(shop, "198.51.100.20", testkit.Fmt("flood%d@example.com", i)).Status })
		}
		wg.Wait()
		close(statuses)
		got := map[int]int{}
		for s := range statuses {
			got[s]++
		}
		if got[201] != lim.Max || got[429] != n-lim.Max {
			t.Fatalf("statuses %v, want %d × 201 and %d × 429", got, lim.Max, n-lim.Max)
		}
		expectLimited(t, registerFrom(shop, "198.51.100.20", "one-more@example.com"), lim.Window)
		testkit.Expect(t, registerFrom(shop, "198.51.100.21", "neighbour@example.com"), 201)
	})
}
