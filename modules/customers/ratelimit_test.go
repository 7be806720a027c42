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
// count against the same e-mail.
func TestFailedSignInsPerEmailAreLimitedAcrossProcesses(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		clk := &clock{}
		cfg := service.Config{Now: clk.Now}
		a := start(t, db, opts{cfg: cfg})
		b := start(t, db, opts{cfg: cfg})
		register(t, a, "kim@example.com", "password1", "Kim")
		window := service.DefaultLimits.PerEmail.Window

		for i := range service.DefaultLimits.PerEmail.Max { // 5 failures, alternating processes
			shop := []*testkit.Shop{a, b}[i%2]
			testkit.ExpectProblem(t, login(shop, "KIM@example.com", "wrong"), 401, "invalid_credentials")
		}
		first := expectLimited(t, login(a, "kim@example.com", "wrong"), window)
		expectLimited(t, login(b, "kim@example.com", "wrong"), window)
		// While limited even the right password is refused: the limit is
		// what stops guessing, so it cannot depend on the guess.
		expectLimited(t, login(b, "kim@example.com", "password1"), window)
		// Another account is not affected.
		register(t, b, "lee@example.com", "password1", "Lee")
		mustLogin(t, a, "lee@example.com", "password1")

		clk.Advance(time.Duration(first-1) * time.Second)
		expectLimited(t, login(a, "kim@example.com", "password1"), window)
		clk.Advance(2 * time.Second) // the window is over
		mustLogin(t, a, "kim@example.com", "password1")
	})
}

func TestSuccessfulSignInClearsTheEmailCounter(t *testing.T) {
	shop := start(t, testkit.SQLite(t), opts{})
	register(t, shop, "max@example.com", "password1", "Max")
	max := service.DefaultLimits.PerEmail.Max
	for range max - 1 {
		testkit.ExpectProblem(t, login(shop, "max@example.com", "wrong"), 401, "invalid_credentials")
	}
	mustLogin(t, shop, "max@example.com", "password1")
	for range max { // a full allowance again
		testkit.ExpectProblem(t, login(shop, "max@example.com", "wrong"), 401, "invalid_credentials")
	}
	expectLimited(t, login(shop, "max@example.com", "wrong"), service.DefaultLimits.PerEmail.Window)
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
		if want := service.DefaultLimits.PerEmail.Max; got[401] != want || got[429] != n-want {
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
