package store

import (
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/testkit"
)

// open migrates the module's tables into a fresh database.
func open(t *testing.T, db testkit.DB) *gorm.DB { return testkit.Migrated(t, db, Migrations).Gorm }

func TestFailureWindows(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		g := open(t, db)
		q := queries{db: g}
		t0 := time.UnixMilli(time.Now().UnixMilli())
		const limit, window = 3, time.Minute
		for i := range limit {
			ok, ends, err := q.TakeAttempt("s", limit, window, t0.Add(time.Duration(i)*time.Second))
			if err != nil || !ok || !ends.Equal(t0.Add(window)) {
				t.Fatalf("attempt %d: ok=%v ends=%v err=%v; want allowed in the window opened at t0", i+1, ok, ends, err)
			}
		}
		ok, ends, err := q.TakeAttempt("s", limit, window, t0.Add(10*time.Second))
		if err != nil || ok || !ends.Equal(t0.Add(window)) {
			t.Fatalf("attempt over the limit: ok=%v ends=%v err=%v", ok, ends, err)
		}
		// Another subject has its own counter.
		if ok, _, _ := q.TakeAttempt("other", limit, window, t0); !ok {
			t.Fatal("one subject's failures limited another")
		}
		// A success gives its attempt back, in the same window only.
		if err := q.GiveBackAttempt("s", t0.Add(window)); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := q.TakeAttempt("s", limit, window, t0.Add(20*time.Second)); !ok {
			t.Fatal("the given-back attempt is not available")
		}
		if err := q.GiveBackAttempt("s", t0.Add(2*window)); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := q.TakeAttempt("s", limit, window, t0.Add(21*time.Second)); ok {
			t.Fatal("giving back into another window freed an attempt in this one")
		}
		// The window ends: the next attempt opens a new one.
		later := t0.Add(window)
		ok, ends, err = q.TakeAttempt("s", limit, window, later)
		if err != nil || !ok || !ends.Equal(later.Add(window)) {
			t.Fatalf("after the window: ok=%v ends=%v err=%v; want a new window", ok, ends, err)
		}
		g.Exec("DELETE FROM customers_login_failures WHERE subject = 's'")
		var n int64
		// The sweep removes ended windows only.
		if err := q.DeleteEndedWindows(t0.Add(window)); err != nil {
			t.Fatal(err)
		}
		g.Raw("SELECT COUNT(*) FROM customers_login_failures").Scan(&n)
		if n != 0 {
			t.Fatalf("%d ended windows survived the sweep", n)
		}
	})
}

// Delayed attempts: Free at once, then waits that double up to Max; a
// cleared or forgotten subject starts afresh.
func TestDelayedAttempts(t *testing.T) {
	d := Delay{Free: 2, Base: time.Second, Max: 5 * time.Second, Memory: time.Minute}
	for n, want := range map[int]time.Duration{1: 0, 2: time.Second, 3: 2 * time.Second, 4: 4 * time.Second, 5: 5 * time.Second, 50: 5 * time.Second} {
		if got := d.After(n); got != want {
			t.Errorf("After(%d) = %v, want %v", n, got, want)
		}
	}
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		g := open(t, db)
		q := queries{db: g}
		t0 := time.UnixMilli(time.Now().UnixMilli())
		take := func(at time.Time) (bool, time.Time) {
			t.Helper()
			ok, next, err := q.TakeDelayedAttempt("p", d, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok, next
		}
		if ok, _ := take(t0); !ok {
			t.Fatal("first attempt refused")
		}
		if ok, _ := take(t0); !ok {
			t.Fatal("second attempt refused")
		}
		if ok, next := take(t0); ok || !next.Equal(t0.Add(time.Second)) {
			t.Fatalf("third at once: ok=%v next=%v, want a 1 s wait", ok, next)
		}
		if ok, _ := take(t0.Add(time.Second)); !ok {
			t.Fatal("refused after the wait")
		}
		if ok, next := take(t0.Add(2 * time.Second)); ok || !next.Equal(t0.Add(3*time.Second)) {
			t.Fatalf("the wait did not double: ok=%v next=%v", ok, next)
		}
		if err := q.ClearDelay("p"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := take(t0.Add(2 * time.Second)); !ok {
			t.Fatal("a cleared subject still waits")
		}
		if err := q.DeleteForgottenDelays(t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var n int64
		g.Raw("SELECT COUNT(*) FROM customers_signin_delays").Scan(&n)
		if n != 0 {
			t.Fatalf("%d forgotten rows survived the sweep", n)
		}
	})
}

func TestExpiredTokensAreSwept(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		g := open(t, db)
		q := queries{db: g}
		now := time.Now().UTC().Truncate(time.Microsecond)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(q.InsertAccount(Account{ID: "c1", Email: "a@example.com", Name: "A", Role: "customer", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}))
		if err := q.InsertAccount(Account{ID: "c2", Email: "a@example.com", Name: "B", Role: "customer", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("second account with one e-mail: %v, want ErrDuplicate", err)
		}
		must(q.InsertFamily(Family{ID: "old", CustomerID: "c1", CreatedAt: now, LastUsedAt: now}))
		must(q.InsertFamily(Family{ID: "live", CustomerID: "c1", CreatedAt: now, LastUsedAt: now}))
		must(q.InsertRefreshToken(RefreshToken{TokenHash: "h-old", FamilyID: "old", IssuedAt: now, ExpiresAt: now.Add(-time.Second)}))
		must(q.InsertRefreshToken(RefreshToken{TokenHash: "h-live", FamilyID: "live", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}))
		must(q.DeleteExpiredTokens(now))
		if _, _, err := q.RefreshTokenByHash("h-old"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired token: %v, want swept", err)
		}
		tok, customer, err := q.RefreshTokenByHash("h-live")
		if err != nil || tok.FamilyID != "live" || customer != "c1" {
			t.Fatalf("live token: %+v %q %v", tok, customer, err)
		}
		if active, _ := q.TouchActiveFamily("old", now); active {
			t.Fatal("a family without tokens survived the sweep")
		}
		if active, _ := q.TouchActiveFamily("live", now); !active {
			t.Fatal("the live family was swept")
		}
		must(q.RevokeFamily("live", now))
		if active, _ := q.TouchActiveFamily("live", now); active {
			t.Fatal("a revoked family is active")
		}
		if used, _ := q.MarkRefreshTokenUsed("h-live", now); !used {
			t.Fatal("first use refused")
		}
		if used, _ := q.MarkRefreshTokenUsed("h-live", now); used {
			t.Fatal("second use accepted")
		}
	})
}
