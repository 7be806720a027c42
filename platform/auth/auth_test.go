package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/modshop/modshop/platform/auth"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

type testClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

func claims(sub, role string, exp time.Time) testClaims {
	c := testClaims{Role: role, RegisteredClaims: jwt.RegisteredClaims{Subject: sub, Issuer: "modshop", IssuedAt: jwt.NewNumericDate(time.Now())}}
	if !exp.IsZero() {
		c.ExpiresAt = jwt.NewNumericDate(exp)
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestVerify(t *testing.T) {
	t.Parallel()
	k := auth.NewKeys(secret)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	good, _, err := k.Sign(auth.Principal{Subject: "c1", Role: auth.RoleCustomer}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		token string
		want  auth.Principal // zero: must be refused
	}{
		{"signed by Sign", good, auth.Principal{Subject: "c1", Role: auth.RoleCustomer}},
		{"admin HS256", sign(t, jwt.SigningMethodHS256, secret, claims("a1", "admin", later)), auth.Principal{Subject: "a1", Role: auth.RoleAdmin}},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("a1", "admin", later)), auth.Principal{}},
		{"HS384 with the right secret", sign(t, jwt.SigningMethodHS384, secret, claims("a1", "admin", later)), auth.Principal{}},
		{"RS256", sign(t, jwt.SigningMethodRS256, rsaKey, claims("a1", "admin", later)), auth.Principal{}},
		{"another secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), claims("a1", "admin", later)), auth.Principal{}},
		{"tampered payload", parts[0] + "." + sign(t, jwt.SigningMethodHS256, []byte("x"), claims("a1", "admin", later))[len(parts[0])+1:], auth.Principal{}},
		{"bad signature", parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), auth.Principal{}},
		{"expired", sign(t, jwt.SigningMethodHS256, secret, claims("c1", "customer", time.Now().Add(-time.Minute))), auth.Principal{}},
		{"no expiry", sign(t, jwt.SigningMethodHS256, secret, claims("c1", "customer", time.Time{})), auth.Principal{}},
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, secret, func() testClaims { c := claims("c1", "customer", later); c.Issuer = "evil"; return c }()), auth.Principal{}},
		{"no subject", sign(t, jwt.SigningMethodHS256, secret, claims("", "customer", later)), auth.Principal{}},
		{"unknown role", sign(t, jwt.SigningMethodHS256, secret, claims("c1", "root", later)), auth.Principal{}},
		{"garbage", "not.a.jwt", auth.Principal{}},
		{"empty", "", auth.Principal{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := k.Verify(tt.token)
			if tt.want == (auth.Principal{}) {
				if err == nil || !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", p, err)
				}
				return
			}
			if err != nil || p != tt.want {
				t.Fatalf("Verify = %+v, %v; want %+v", p, err, tt.want)
			}
		})
	}
}

func TestLoadKeys(t *testing.T) {
	t.Parallel()
	t.Run("an explicit secret is used as is", func(t *testing.T) {
		t.Parallel()
		k, err := auth.LoadKeys(string(secret), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		tok, _, _ := k.Sign(auth.Principal{Subject: "s", Role: auth.RoleAdmin}, time.Minute)
		if _, err := auth.NewKeys(secret).Verify(tok); err != nil {
			t.Fatalf("a token of LoadKeys(secret) must verify with NewKeys(secret): %v", err)
		}
	})
	t.Run("a generated key is kept and reused", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data")
		k1, err := auth.LoadKeys("", dir)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, "jwt.key"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("jwt.key: %v, mode %v; want 0600", err, st.Mode())
		}
		k2, err := auth.LoadKeys("", dir)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, _ := k1.Sign(auth.Principal{Subject: "s", Role: auth.RoleCustomer}, time.Minute)
		if _, err := k2.Verify(tok); err != nil {
			t.Fatalf("the second load must use the same key: %v", err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("the data folder holds %d entries, want only jwt.key", len(ents))
		}
	})
	t.Run("processes starting at once agree on one key", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		keys := make([]*auth.Keys, 16)
		errs := make([]error, 16)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() { keys[i], errs[i] = auth.LoadKeys("", dir) })
		}
		wg.Wait()
		for i, k := range keys {
			if errs[i] != nil {
				t.Fatalf("LoadKeys %d: %v", i, errs[i])
			}
			s, _, _ := k.Sign(auth.Principal{Subject: "s", Role: auth.RoleCustomer}, time.Minute)
			for _, other := range keys {
				if _, err := other.Verify(s); err != nil {
					t.Fatalf("keys disagree: %v", err)
				}
			}
		}
	})
	t.Run("a corrupt key file is refused", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "jwt.key"), []byte("zz\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.LoadKeys("", dir); err == nil {
			t.Fatal("LoadKeys accepted a corrupt key file")
		}
	})
}

func TestPrincipalContext(t *testing.T) {
	t.Parallel()
	ctx := auth.WithPrincipal(t.Context(), auth.Principal{Subject: "a", Role: auth.RoleAdmin})
	p, ok := auth.FromContext(ctx)
	if !ok || !p.IsAdmin() || p.Subject != "a" {
		t.Fatalf("FromContext = %+v, %v", p, ok)
	}
	if _, ok := auth.FromContext(t.Context()); ok {
		t.Fatal("an empty context has no principal")
	}
}
