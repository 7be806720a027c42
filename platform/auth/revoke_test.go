package auth_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/auth"
)

func TestRevokedSessionsTokensAreRefused(t *testing.T) {
	k := auth.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	tok, _, err := k.Sign(auth.Principal{Subject: "c1", Role: auth.RoleCustomer, Session: "fam1"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := k.Sign(auth.Principal{Subject: "c1", Role: auth.RoleCustomer, Session: "fam2"}, time.Minute)
	if p, err := k.Verify(tok); err != nil || p.Session != "fam1" {
		t.Fatalf("before: %+v %v", p, err)
	}
	k.Revoke("fam1")
	if _, err := k.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("a revoked session's token verified: %v", err)
	}
	if _, err := k.Verify(other); err != nil {
		t.Fatalf("another session's token refused: %v", err)
	}
	k.SetRevoked(nil) // the reload no longer lists it (its tokens expired)
	if _, err := k.Verify(tok); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkVerify is the cost per request of checking an access token,
// without revocations and with 10,000 sessions revoked within the last
// access-token life (a map lookup).
//
//	go test -run '^$' -bench Verify ./platform/auth/
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprintf("revoked=%d", n), func(b *testing.B) {
			k := auth.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("fam%d", i)
			}
			k.SetRevoked(ids)
			tok, _, _ := k.Sign(auth.Principal{Subject: "c1", Role: auth.RoleCustomer, Session: "live"}, time.Hour)
			for b.Loop() {
				if _, err := k.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
