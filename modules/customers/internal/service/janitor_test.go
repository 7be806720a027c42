package service

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/platform/testkit"
)

// TestJanitorsOfReplicasSweepWhatExpired: the janitors of two processes
// sweep one database at once: the refresh tokens past their expiry, the
// sessions left without a token and the ended failure windows are gone, and
// nothing else is.
func TestJanitorsOfReplicasSweepWhatExpired(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		var now atomic.Int64
		now.Store(time.Now().UnixNano())
		cfg := Config{Hashing: domain.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
			Now: func() time.Time { return time.Unix(0, now.Load()) }}
		a, h := serviceWithHandle(t, db, cfg)
		b := serviceOn(t, db, cfg)
		ctx := context.Background()
		// signUp registers n customers (a session each), signs each in again
		// (a second session) and fails a sign-in for each (a window).
		signUp := func(s *Service, prefix string, n int) {
			for i := range n {
				email := fmt.Sprintf("%s-%d@example.com", prefix, i)
				if _, _, err := s.Register(ctx, Registration{Email: email, Password: "correct horse battery", Name: "N"}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Login(ctx, Credentials{Email: email, Password: "correct horse battery"}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Login(ctx, Credentials{Email: email, Password: "wrong horse battery"}); err == nil {
					t.Fatal("a wrong password signed in")
				}
			}
		}
		signUp(a, "old", 20)
		now.Add(int64(RefreshTokenTTL + time.Hour))
		signUp(b, "new", 10)

		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, s := range []*Service{a, b, a, b} {
			wg.Go(func() {
				<-start
				if err := s.Sweep(ctx); err != nil {
					t.Errorf("sweep: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()

		count := func(query string) int64 {
			var n int64
			if err := h.Conn(ctx).Raw(query).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		for query, want := range map[string]int64{
			"SELECT COUNT(*) FROM customers_refresh_tokens": 20, // the new customers' two sessions each
			"SELECT COUNT(*) FROM customers_token_families": 20,
			"SELECT COUNT(*) FROM customers_signin_delays":  10, // the new customers' failures
			"SELECT COUNT(*) FROM customers_accounts":       30, // accounts are not the janitor's
			"SELECT COUNT(*) FROM customers_token_families f WHERE NOT EXISTS (SELECT 1 FROM customers_refresh_tokens t WHERE t.family_id = f.id)": 0,
		} {
			if got := count(query); got != want {
				t.Errorf("%s = %d, want %d", query, got, want)
			}
		}
	})
}
