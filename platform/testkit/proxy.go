package testkit

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// Proxy is an HTTP server in front of target (a shop's URL) that passes
// every request on, unchanged, unless intercept answers it itself (and
// returns true); intercept may also just look at the request. It stops when
// the test ends.
func Proxy(t testing.TB, target string, intercept func(w http.ResponseWriter, r *http.Request) bool) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("proxy target %q: %v", target, err)
	}
	fwd := httputil.NewSingleHostReverseProxy(u)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept != nil && intercept(w, r) {
			return
		}
		fwd.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}
