package customers_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/testkit"
)

func TestRefreshRotatesAndAReplayRevokesTheFamily(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := start(t, db, opts{})
		first := register(t, shop, "fay@example.com", "password1", "Fay")
		other := mustLogin(t, shop, "fay@example.com", "password1") // a second session

		var second session
		res := testkit.Expect(t, refresh(shop, first.RefreshToken), 200)
		res.JSON(t, &second)
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Error("refresh answer may be cached")
		}
		if second.RefreshToken == first.RefreshToken || second.TokenType != "Bearer" || second.ExpiresIn != 900 {
			t.Fatalf("refresh gave %+v", second)
		}
		if p, err := shop.Keys.Verify(second.AccessToken); err != nil || p.Subject != first.Customer.ID || p.Role != auth.RoleCustomer {
			t.Fatalf("refreshed access token: %+v, %v", p, err)
		}
		var third session
		testkit.Expect(t, refresh(shop, second.RefreshToken), 200).JSON(t, &third)

		// The first token was spent: presenting it again is a replay. It
		// fails, and so does the newest token of its family.
		testkit.ExpectProblem(t, refresh(shop, first.RefreshToken), 401, "unauthorized")
		testkit.ExpectProblem(t, refresh(shop, third.RefreshToken), 401, "unauthorized")
		testkit.ExpectProblem(t, refresh(shop, second.RefreshToken), 401, "unauthorized")
		// Another session of the same customer is not affected.
		testkit.Expect(t, refresh(shop, other.RefreshToken), 200)

		d := rawDB(t, db)
		if n := count(t, d, "SELECT COUNT(*) FROM customers_refresh_tokens WHERE token_hash = ? OR token_hash = ?", first.RefreshToken, second.RefreshToken); n != 0 {
			t.Fatal("refresh tokens are stored in the clear")
		}
		if n := count(t, d, "SELECT COUNT(*) FROM customers_token_families WHERE revoked_at IS NOT NULL"); n != 1 {
			t.Fatalf("%d revoked families, want the replayed one only", n)
		}
	})
}

func TestConcurrentUseOfOneRefreshTokenIsAReplay(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := start(t, db, opts{})
		s := register(t, shop, "gus@example.com", "password1", "Gus")
		const n = 8
		statuses := make([]int, n)
		bodies := make([]session, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := refresh(shop, s.RefreshToken)
				statuses[i] = res.Status
				if res.Status == 200 {
					res.JSON(t, &bodies[i])
				}
			}()
		}
		wg.Wait()
		ok := 0
		for i, st := range statuses {
			switch st {
			case 200:
				ok++
				// The winner's new token died with the family.
				testkit.ExpectProblem(t, refresh(shop, bodies[i].RefreshToken), 401, "unauthorized")
			case 401:
			default:
				t.Fatalf("status %d", st)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent refreshes with one token succeeded, want exactly 1", ok, n)
		}
	})
}

func TestRefreshRefusesBadTokens(t *testing.T) {
	clk := &clock{}
	shop := start(t, testkit.SQLite(t), opts{cfg: service.Config{Now: clk.Now}})
	s := register(t, shop, "hal@example.com", "password1", "Hal")
	for name, token := range map[string]string{
		"malformed":           "not-a-token",
		"unknown":             strings.Repeat("A", 43),
		"access token":        s.AccessToken,
		"one character short": s.RefreshToken[:42],
	} {
		t.Run(name, func(t *testing.T) { testkit.ExpectProblem(t, refresh(shop, token), 401, "unauthorized") })
	}
	testkit.ExpectProblem(t, refresh(shop, ""), 422, "validation_failed")
	testkit.ExpectProblem(t, shop.Post("/v1/auth/refresh", "", map[string]any{"refresh_token": 42}), 400, "bad_request")

	// Refresh tokens expire after 30 days.
	clk.Advance(service.RefreshTokenTTL + time.Minute)
	testkit.ExpectProblem(t, refresh(shop, s.RefreshToken), 401, "unauthorized")
}

func TestLogoutRevokesTheSessionAndAnswersAlike(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := start(t, db, opts{})
		s := register(t, shop, "ida@example.com", "password1", "Ida")
		other := mustLogin(t, shop, "ida@example.com", "password1")
		var rotated session
		testkit.Expect(t, refresh(shop, s.RefreshToken), 200).JSON(t, &rotated)

		logout := func(token string) testkit.Response {
			return shop.Post("/v1/auth/logout", "", map[string]string{"refresh_token": token})
		}
		// Logging out with the spent token ends its whole session too.
		testkit.Expect(t, logout(s.RefreshToken), 204)
		testkit.ExpectProblem(t, refresh(shop, rotated.RefreshToken), 401, "unauthorized")
		// Unknown, malformed or repeated: the same 204, nothing to learn.
		for _, tok := range []string{rotated.RefreshToken, strings.Repeat("B", 43), "garbage"} {
			if res := logout(tok); res.Status != 204 || len(res.Body) != 0 {
				t.Fatalf("logout(%q) = %d %s, want an empty 204", tok, res.Status, res.Body)
			}
		}
		testkit.ExpectProblem(t, logout(""), 422, "validation_failed")
		// The other session lives on.
		testkit.Expect(t, refresh(shop, other.RefreshToken), 200)
	})
}

// Access tokens are verified by the platform in every process; here the
// customers routes show that every kind of bad token is a 401 that changes
// nothing, and a wrong role a 403.
func TestBadAccessTokensAreRefused(t *testing.T) {
	shop := start(t, testkit.SQLite(t), opts{})
	s := register(t, shop, "jon@example.com", "password1", "Jon")
	sub := s.Customer.ID
	claims := jwt.MapClaims{"sub": sub, "role": "customer", "iss": "modshop",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	sign := func(m jwt.SigningMethod, key any) string {
		tok, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	expired, _, err := shop.Keys.Sign(auth.Principal{Subject: sub, Role: auth.RoleCustomer}, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, _ := auth.NewKeys([]byte("another-shop-secret-0123456789abcdef")).Sign(auth.Principal{Subject: sub, Role: auth.RoleCustomer}, time.Hour)
	parts := strings.Split(s.AccessToken, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	promoted := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"customer"`, `"admin"`, 1)))
	bad := map[string]string{
		"expired":            expired,
		"another key":        foreign,
		"alg none":           sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		"HS384 with our key": sign(jwt.SigningMethodHS384, []byte(testkit.JWTSecret)),
		"HS512 with our key": sign(jwt.SigningMethodHS512, []byte(testkit.JWTSecret)),
		"role edited":        parts[0] + "." + promoted + "." + parts[2],
		"no signature":       parts[0] + "." + parts[1] + ".",
		"garbage":            "garbage",
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			if tok == s.AccessToken || tok == "" {
				t.Fatal("test setup: not a bad token")
			}
			testkit.ExpectProblem(t, shop.Get("/v1/me", tok), 401, "unauthorized")
			testkit.ExpectProblem(t, shop.Do(testkit.Req{Method: http.MethodPatch, Path: "/v1/me", Token: tok, Body: map[string]string{"name": "Hacked"}}), 401, "unauthorized")
		})
	}
	testkit.ExpectProblem(t, shop.Do(testkit.Req{Method: http.MethodGet, Path: "/v1/me", Header: map[string]string{"Authorization": "Basic " + s.AccessToken}}), 401, "unauthorized")
	testkit.ExpectProblem(t, shop.Get("/v1/me", ""), 401, "unauthorized")
	testkit.ExpectProblem(t, shop.Get("/v1/admin/customers/"+sub, s.AccessToken), 403, "forbidden")

	var me map[string]any
	testkit.Expect(t, shop.Get("/v1/me", s.AccessToken), 200).JSON(t, &me)
	if me["name"] != "Jon" {
		t.Fatalf("a refused request changed the name to %v", me["name"])
	}
}
