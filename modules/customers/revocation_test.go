package customers_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit"
)

// TestAccessTokensStopAtLogoutOnEveryProcess: an access token carries its
// session (sid); after logout on one process, and after a replayed refresh
// token revokes its family, the session's access tokens are refused by
// every process on the database within seconds, long before they expire.
func TestAccessTokensStopAtLogoutOnEveryProcess(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		a := start(t, db, opts{})
		b := start(t, db, opts{})
		register(t, a, "sid@example.com", "password1", "Sid")

		// Logout on a: the access token stops on a and on b.
		s := mustLogin(t, a, "sid@example.com", "password1")
		other := mustLogin(t, b, "sid@example.com", "password1") // another session stays
		testkit.Expect(t, b.Get("/v1/me", s.AccessToken), http.StatusOK)
		testkit.Expect(t, a.Post("/v1/auth/logout", "", map[string]string{"refresh_token": s.RefreshToken}), http.StatusNoContent)
		for _, shop := range []*testkit.Shop{a, b} {
			testkit.Eventually(t, 2500*time.Millisecond, func() bool { return shop.Get("/v1/me", s.AccessToken).Status == http.StatusUnauthorized },
				"the logged-out session's access token still works")
		}
		testkit.Expect(t, a.Get("/v1/me", other.AccessToken), http.StatusOK)

		// A replayed refresh token revokes its family, access tokens included.
		s2 := mustLogin(t, a, "sid@example.com", "password1")
		var next session
		testkit.Expect(t, a.Post("/v1/auth/refresh", "", map[string]string{"refresh_token": s2.RefreshToken}), http.StatusOK).JSON(t, &next)
		testkit.Expect(t, a.Post("/v1/auth/refresh", "", map[string]string{"refresh_token": s2.RefreshToken}), http.StatusUnauthorized)
		testkit.Eventually(t, 2500*time.Millisecond, func() bool { return b.Get("/v1/me", next.AccessToken).Status == http.StatusUnauthorized },
			"an access token of a revoked family still works")
		testkit.Expect(t, b.Get("/v1/me", other.AccessToken), http.StatusOK)
	})
}
