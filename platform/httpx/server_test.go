package httpx_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

const internalToken = "internal-token-0123456789"

// logBuffer collects the server's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) lines() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type item struct {
	Name     string `json:"name"`
	Quantity int    `json:"quantity"`
}

// demoRoutes is a small module that exercises every way a handler can fail.
func demoRoutes() httpx.RouteSet {
	fail := func(err error) echo.HandlerFunc { return func(echo.Context) error { return err } }
	who := func(c echo.Context) error {
		p, ok := auth.FromContext(c.Request().Context())
		return c.JSON(200, map[string]any{"subject": p.Subject, "role": p.Role, "signed_in": ok})
	}
	return httpx.RouteSet{Module: "demo", Routes: []httpx.Route{
		{Method: "GET", Path: "/v1/demo/ok", Access: httpx.Public, Handler: func(c echo.Context) error { return c.JSON(200, map[string]string{"ok": "yes"}) }, Response: map[string]string{}},
		{Method: "POST", Path: "/v1/demo/items", Access: httpx.Public, Request: item{}, Response: item{}, Status: 201, Handler: func(c echo.Context) error {
			var it item
			if err := httpx.Bind(c, &it); err != nil {
				return err
			}
			return c.JSON(201, it)
		}},
		{Method: "GET", Path: "/v1/demo/err/:kind", Access: httpx.Public, Handler: func(c echo.Context) error {
			return errorOfKind(c.Param("kind"))
		}},
		{Method: "GET", Path: "/v1/demo/panic", Access: httpx.Public, Handler: func(echo.Context) error {
			panic("secret-panic-value: SELECT * FROM customers_passwords")
		}},
		{Method: "GET", Path: "/v1/demo/slow", Access: httpx.Public, Handler: func(c echo.Context) error {
			<-c.Request().Context().Done()
			return errs.Internal(fmt.Errorf("query customers_x: %w", c.Request().Context().Err()))
		}},
		{Method: "GET", Path: "/v1/demo/plain", Access: httpx.Public, Handler: fail(errors.New("pq: relation customers_secret_table does not exist"))},
		{Method: "GET", Path: "/v1/demo/dbdown", Access: httpx.Public, Handler: fail(errs.Internal(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused to 10.0.0.7:5432")}))},
		{Method: "GET", Path: "/v1/demo/public", Access: httpx.Public, Handler: who},
		{Method: "GET", Path: "/v1/demo/optional", Access: httpx.OptionalAuth, Handler: who},
		{Method: "GET", Path: "/v1/demo/customer", Access: httpx.Customer, Handler: who},
		{Method: "GET", Path: "/v1/admin/demo", Access: httpx.Admin, Handler: who},
		{Method: "GET", Path: "/internal/demo", Access: httpx.Internal, Handler: who, Hidden: true},
		{Method: "DELETE", Path: "/v1/demo/items/:id", Access: httpx.Customer, Handler: func(c echo.Context) error { return c.NoContent(204) }},
	}}
}

func errorOfKind(kind string) error {
	switch kind {
	case "validation":
		var f errs.Fields
		f.Add("quantity", "must be from 1 to 100")
		return f.Err()
	case "out_of_stock":
		return errs.Conflict("out_of_stock", "not enough stock").With("unavailable", []map[string]any{{"sku": "A", "requested": 3, "available": 1}})
	case "rate_limited":
		return errs.New(errs.KindRateLimited, "rate_limited", "slow down").With("retry_after", 42)
	case "internal":
		return errs.Internal(errors.New("disk /var/lib/secret full"))
	}
	kinds := map[string]*errs.Error{
		"bad_request":  errs.BadRequest("bad"),
		"unauthorized": errs.Unauthorized("who are you"),
		"forbidden":    errs.Forbidden("no"),
		"not_found":    errs.NotFound("nothing here"),
		"conflict":     errs.Conflict("sku_taken", "taken"),
		"payment":      errs.New(errs.KindPaymentRequired, "payment_declined", "declined"),
		"too_large":    errs.New(errs.KindTooLarge, "payload_too_large", "big"),
		"media":        errs.New(errs.KindUnsupportedMedia, "unsupported_media_type", "json please"),
		"unavailable":  errs.Unavailable("down"),
	}
	return fmt.Errorf("wrapped once: %w", kinds[kind])
}

type testServer struct {
	*httptest.Server
	srv  *httpx.Server
	logs *logBuffer
	reg  *prometheus.Registry
}

func newServer(t *testing.T, checks []httpx.Check, sets ...httpx.RouteSet) *testServer {
	t.Helper()
	if len(sets) == 0 {
		sets = []httpx.RouteSet{demoRoutes()}
	}
	logs := &logBuffer{}
	reg := prometheus.NewRegistry()
	srv, err := httpx.NewServer(httpx.Config{InternalToken: internalToken, Timeout: 150 * time.Millisecond},
		sets, checks, auth.NewKeys(secret), reg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	srv.SetReady(true)
	ts := httptest.NewServer(srv.Echo)
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, srv: srv, logs: logs, reg: reg}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) problem(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	return m
}

func do(t *testing.T, req *http.Request) resp {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (s *testServer) request(t *testing.T, method, path string, body io.Reader, header map[string]string) resp {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// unsized hides a body's length, so the client sends it chunked.
type unsized struct{ io.Reader }

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	justFits := `{"name":"` + strings.Repeat("x", 1<<20-len(`{"name":""}`)) + `"}`
	tests := []struct {
		name   string
		method string
		path   string
		body   io.Reader
		header map[string]string
		status int
		code   string
	}{
		{"typed bad request", "GET", "/v1/demo/err/bad_request", nil, nil, 400, "bad_request"},
		{"typed validation", "GET", "/v1/demo/err/validation", nil, nil, 422, "validation_failed"},
		{"typed unauthorized", "GET", "/v1/demo/err/unauthorized", nil, nil, 401, "unauthorized"},
		{"typed forbidden", "GET", "/v1/demo/err/forbidden", nil, nil, 403, "forbidden"},
		{"typed not found", "GET", "/v1/demo/err/not_found", nil, nil, 404, "not_found"},
		{"typed conflict", "GET", "/v1/demo/err/conflict", nil, nil, 409, "sku_taken"},
		{"typed payment", "GET", "/v1/demo/err/payment", nil, nil, 402, "payment_declined"},
		{"typed too large", "GET", "/v1/demo/err/too_large", nil, nil, 413, "payload_too_large"},
		{"typed media", "GET", "/v1/demo/err/media", nil, nil, 415, "unsupported_media_type"},
		{"typed rate limited", "GET", "/v1/demo/err/rate_limited", nil, nil, 429, "rate_limited"},
		{"typed unavailable", "GET", "/v1/demo/err/unavailable", nil, nil, 503, "unavailable"},
		{"typed internal", "GET", "/v1/demo/err/internal", nil, nil, 500, "internal"},
		{"typed with extra members", "GET", "/v1/demo/err/out_of_stock", nil, nil, 409, "out_of_stock"},
		{"plain error", "GET", "/v1/demo/plain", nil, nil, 500, "internal"},
		{"database unreachable", "GET", "/v1/demo/dbdown", nil, nil, 503, "unavailable"},
		{"panic", "GET", "/v1/demo/panic", nil, nil, 500, "internal"},
		{"context timeout", "GET", "/v1/demo/slow", nil, nil, 503, "unavailable"},
		{"echo 404", "GET", "/v1/nothing/here", nil, nil, 404, "not_found"},
		{"echo 405", "PUT", "/v1/demo/ok", nil, nil, 405, "bad_request"},
		{"415 without content type", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a"}`), nil, 415, "unsupported_media_type"},
		{"415 text/plain", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a"}`), map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"malformed JSON", "POST", "/v1/demo/items", strings.NewReader(`{"name":`), jsonCT, 400, "bad_request"},
		{"JSON syntax error", "POST", "/v1/demo/items", strings.NewReader(`{name: "a"}`), jsonCT, 400, "bad_request"},
		{"unknown field", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a","admin":true}`), jsonCT, 400, "bad_request"},
		{"key in another case", "POST", "/v1/demo/items", strings.NewReader(`{"Name":"a","Quantity":1}`), jsonCT, 400, "bad_request"},
		{"duplicate key", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a","quantity":1,"quantity":9}`), jsonCT, 400, "bad_request"},
		{"duplicate key in another case", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a","name":"b"}`), jsonCT, 400, "bad_request"},
		{"NUL in a path", "GET", "/v1/demo/err/%00", nil, nil, 400, "bad_request"},
		{"invalid UTF-8 in a path", "GET", "/v1/demo/err/%FF", nil, nil, 400, "bad_request"},
		{"NUL in an unknown path", "GET", "/v1/nothing/%00", nil, nil, 400, "bad_request"},
		{"NUL in a query", "GET", "/v1/demo/ok?q=a%00b", nil, nil, 400, "bad_request"},
		{"invalid UTF-8 in a query", "GET", "/v1/demo/ok?q=%C3%28", nil, nil, 400, "bad_request"},
		{"NUL in a query name", "GET", "/v1/demo/ok?a%00=1", nil, nil, 400, "bad_request"},
		{"NUL escaped in a body", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a\u0000b"}`), jsonCT, 400, "bad_request"},
		{"NUL raw in a body", "POST", "/v1/demo/items", strings.NewReader("{\"name\":\"a\x00b\"}"), jsonCT, 400, "bad_request"},
		{"invalid UTF-8 in a body", "POST", "/v1/demo/items", strings.NewReader("{\"name\":\"a\xffb\"}"), jsonCT, 400, "bad_request"},
		{"wrong type", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a","quantity":"3"}`), jsonCT, 400, "bad_request"},
		{"number overflow", "POST", "/v1/demo/items", strings.NewReader(`{"quantity":1e40}`), jsonCT, 400, "bad_request"},
		{"trailing data", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a"}{"name":"b"}`), jsonCT, 400, "bad_request"},
		{"trailing garbage", "POST", "/v1/demo/items", strings.NewReader(`{"name":"a"} x`), jsonCT, 400, "bad_request"},
		{"empty body", "POST", "/v1/demo/items", strings.NewReader(``), jsonCT, 400, "bad_request"},
		{"body over 1 MiB with Content-Length", "POST", "/v1/demo/items", strings.NewReader(big), jsonCT, 413, "payload_too_large"},
		{"body over 1 MiB chunked", "POST", "/v1/demo/items", unsized{strings.NewReader(big)}, jsonCT, 413, "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := s.request(t, tt.method, tt.path, tt.body, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q", ct)
			}
			p := r.problem(t)
			path, _, _ := strings.Cut(tt.path, "?")
			if p["code"] != tt.code || p["status"] != float64(tt.status) || p["title"] != http.StatusText(tt.status) ||
				p["type"] != "/problems/"+tt.code || p["instance"] != path {
				t.Fatalf("problem = %v, want code %q status %d", p, tt.code, tt.status)
			}
			for _, leak := range []string{"secret", "SELECT", "goroutine", "customers_", ".go:", "10.0.0.7", "deadline"} {
				if bytes.Contains(r.body, []byte(leak)) {
					t.Fatalf("the answer leaks %q: %s", leak, r.body)
				}
			}
		})
	}
	t.Run("field errors, extra members and Retry-After", func(t *testing.T) {
		t.Parallel()
		p := s.request(t, "GET", "/v1/demo/err/validation", nil, nil).problem(t)
		fe, _ := p["errors"].([]any)
		if len(fe) != 1 || fe[0].(map[string]any)["field"] != "quantity" {
			t.Errorf("errors = %v", p["errors"])
		}
		p = s.request(t, "GET", "/v1/demo/err/out_of_stock", nil, nil).problem(t)
		if u, _ := p["unavailable"].([]any); len(u) != 1 {
			t.Errorf("unavailable = %v", p["unavailable"])
		}
		if r := s.request(t, "GET", "/v1/demo/err/rate_limited", nil, nil); r.header.Get("Retry-After") != "42" {
			t.Errorf("Retry-After = %q, want 42", r.header.Get("Retry-After"))
		}
		if r := s.request(t, "GET", "/v1/demo/err/unavailable", nil, nil); r.header.Get("Retry-After") == "" {
			t.Error("a 503 has no Retry-After")
		}
	})
	t.Run("a body of exactly 1 MiB is accepted", func(t *testing.T) {
		t.Parallel()
		if len(justFits) != 1<<20 {
			t.Fatalf("body is %d bytes", len(justFits))
		}
		for _, body := range []io.Reader{strings.NewReader(justFits), unsized{strings.NewReader(justFits)}} {
			if r := s.request(t, "POST", "/v1/demo/items", body, jsonCT); r.status != 201 {
				t.Fatalf("status %d: %.200s", r.status, r.body)
			}
		}
	})
	t.Run("a JSON body with a charset parameter is accepted", func(t *testing.T) {
		t.Parallel()
		r := s.request(t, "POST", "/v1/demo/items", strings.NewReader(`{"name":"a","quantity":2}`), map[string]string{"Content-Type": "application/json; charset=utf-8"})
		if r.status != 201 || !bytes.Contains(r.body, []byte(`"quantity":2`)) {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
	t.Run("HEAD gets the status without a body", func(t *testing.T) {
		t.Parallel()
		if r := s.request(t, "HEAD", "/v1/nothing", nil, nil); r.status != 404 || len(r.body) != 0 {
			t.Fatalf("HEAD: %d %q", r.status, r.body)
		}
	})
	t.Run("panics and internal errors are logged with their cause", func(t *testing.T) {
		t.Parallel()
		s.request(t, "GET", "/v1/demo/panic", nil, nil)
		s.request(t, "GET", "/v1/demo/err/internal", nil, nil)
		logs := s.logs.String()
		if !strings.Contains(logs, "secret-panic-value") || !strings.Contains(logs, "disk /var/lib/secret full") {
			t.Fatalf("the log lacks the causes:\n%s", logs)
		}
	})
}

func TestRequestIDAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	ids := map[string]bool{}
	for _, path := range []string{"/v1/demo/ok", "/v1/nothing", "/healthz", "/v1/demo/panic"} {
		r := s.request(t, "GET", path, nil, nil)
		id := r.header.Get("X-Request-Id")
		if len(id) < 16 || ids[id] {
			t.Errorf("%s: X-Request-Id %q missing or repeated", path, id)
		}
		ids[id] = true
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := r.header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
	}
	if r := s.request(t, "GET", "/v1/demo/ok", nil, map[string]string{"X-Request-Id": "from-the-client-123"}); r.header.Get("X-Request-Id") != "from-the-client-123" {
		t.Errorf("an incoming X-Request-Id is not kept: %q", r.header.Get("X-Request-Id"))
	}
}

// TestPersonalAnswersAreNotStored enumerates every demo route: an answer
// that may depend on who asks (any route but a public read) says
// Cache-Control: no-store, errors included; a public read may be cached.
func TestPersonalAnswersAreNotStored(t *testing.T) {
	t.Parallel()
	set := demoRoutes()
	set.Routes = append(set.Routes, httpx.Route{Method: "GET", Path: "/v1/demo/cached", Access: httpx.Public, Handler: func(c echo.Context) error {
		return httpx.CachedJSON(c, []byte(`{}`), `"abc"`)
	}})
	s := newServer(t, nil, set)
	tok, _, err := auth.NewKeys(secret).Sign(auth.Principal{Subject: "sub-admin", Role: auth.RoleAdmin}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range set.Routes {
		if r.Access == httpx.Internal || r.Path == "/v1/demo/slow" {
			continue
		}
		path := strings.ReplaceAll(strings.ReplaceAll(r.Path, ":kind", "not_found"), ":id", "1")
		for _, h := range []map[string]string{{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, {"Content-Type": "application/json"}} {
			res := s.request(t, r.Method, path, strings.NewReader(`{"name":"a","quantity":1}`), h)
			got := res.header.Get("Cache-Control")
			publicRead := r.Access == httpx.Public && r.Method == "GET"
			switch {
			case !publicRead && got != "no-store":
				t.Errorf("%s %s (%s, %d): Cache-Control %q, want no-store", r.Method, r.Path, r.Access, res.status, got)
			case publicRead && got == "no-store":
				t.Errorf("%s %s: a public read says no-store", r.Method, r.Path)
			}
		}
	}
	if r := s.request(t, "GET", "/v1/demo/cached", nil, nil); r.header.Get("ETag") != `"abc"` || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("a cached public read lost its ETag or Cache-Control: %v", r.header)
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	s.request(t, "GET", "/v1/demo/ok", nil, map[string]string{"X-Forwarded-For": "6.6.6.6"})
	s.request(t, "GET", "/v1/admin/demo", nil, nil) // refused: still the module's request
	s.request(t, "GET", "/v1/unknown", nil, nil)
	byRoute := map[string]map[string]any{}
	for _, l := range s.logs.lines() {
		if l["msg"] == "http" {
			byRoute[fmt.Sprint(l["route"])] = l
		}
	}
	ok := byRoute["/v1/demo/ok"]
	if ok == nil || ok["module"] != "demo" || ok["status"] != float64(200) || ok["request_id"] == "" || ok["method"] != "GET" {
		t.Fatalf("log line of /v1/demo/ok = %v", ok)
	}
	if ok["remote"] == "6.6.6.6" {
		t.Error("the logged client address comes from a forgeable X-Forwarded-For")
	}
	if l := byRoute["/v1/admin/demo"]; l == nil || l["module"] != "demo" || l["status"] != float64(401) {
		t.Fatalf("log line of a refused request = %v", l)
	}
	if l := byRoute["unmatched"]; l == nil || l["status"] != float64(404) {
		t.Fatalf("log line of an unknown route = %v (lines %v)", l, byRoute)
	}
}

func TestAccess(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	keys := auth.NewKeys(secret)
	token := func(role auth.Role) string {
		tok, _, err := keys.Sign(auth.Principal{Subject: "sub-" + string(role), Role: role}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := func(m jwt.SigningMethod, key any, exp time.Time) string {
		c := jwt.MapClaims{"sub": "x", "role": "admin", "iss": "modshop", "exp": exp.Unix()}
		tok, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	hour := time.Now().Add(time.Hour)
	admin := token(auth.RoleAdmin)
	headers := map[string]map[string]string{
		"none":          nil,
		"malformed":     {"Authorization": "Token abc"},
		"empty bearer":  {"Authorization": "Bearer "},
		"bad signature": {"Authorization": admin[:len(admin)-4] + "AAAA"},
		"alg none":      {"Authorization": forged(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hour)},
		"HS384":         {"Authorization": forged(jwt.SigningMethodHS384, secret, hour)},
		"RS256":         {"Authorization": forged(jwt.SigningMethodRS256, rsaKey, hour)},
		"expired":       {"Authorization": forged(jwt.SigningMethodHS256, secret, time.Now().Add(-time.Hour))},
		"service role":  {"Authorization": token(auth.RoleService)},
		"customer":      {"Authorization": token(auth.RoleCustomer)},
		"admin":         {"Authorization": admin},
		"internal":      {httpx.InternalTokenHeader: internalToken},
		"bad internal":  {httpx.InternalTokenHeader: internalToken + "x"},
	}
	// want[access][credential] = status; 200 for every credential not listed.
	want := map[string]map[string]int{
		"/v1/demo/public": {},
		"/v1/demo/optional": {"malformed": 401, "empty bearer": 401, "bad signature": 401, "alg none": 401, "HS384": 401, "RS256": 401,
			"expired": 401, "service role": 401},
		"/v1/demo/customer": {"none": 401, "malformed": 401, "empty bearer": 401, "bad signature": 401, "alg none": 401, "HS384": 401,
			"RS256": 401, "expired": 401, "service role": 401, "internal": 401, "bad internal": 401},
		"/v1/admin/demo": {"none": 401, "malformed": 401, "empty bearer": 401, "bad signature": 401, "alg none": 401, "HS384": 401,
			"RS256": 401, "expired": 401, "service role": 401, "internal": 401, "bad internal": 401, "customer": 403},
		"/internal/demo": {"none": 401, "malformed": 401, "empty bearer": 401, "bad signature": 401, "alg none": 401, "HS384": 401,
			"RS256": 401, "expired": 401, "service role": 401, "customer": 401, "admin": 401, "bad internal": 401},
	}
	for path, statuses := range want {
		for cred, h := range headers {
			t.Run(path+" "+cred, func(t *testing.T) {
				t.Parallel()
				status, ok := statuses[cred]
				if !ok {
					status = 200
				}
				r := s.request(t, "GET", path, nil, h)
				if r.status != status {
					t.Fatalf("status %d, want %d; %s", r.status, status, r.body)
				}
				switch status {
				case 401:
					if r.problem(t)["code"] != "unauthorized" {
						t.Fatalf("401 with code %v", r.problem(t)["code"])
					}
				case 403:
					if r.problem(t)["code"] != "forbidden" {
						t.Fatalf("403 with code %v", r.problem(t)["code"])
					}
				}
			})
		}
	}
	t.Run("the handler sees the principal", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/v1/demo/optional", "/v1/demo/customer", "/v1/admin/demo"} {
			p := s.request(t, "GET", path, nil, headers["admin"]).problem(t)
			if p["subject"] != "sub-admin" || p["role"] != "admin" || p["signed_in"] != true {
				t.Errorf("%s: %v", path, p)
			}
		}
		if p := s.request(t, "GET", "/v1/demo/public", nil, headers["admin"]).problem(t); p["signed_in"] != false {
			t.Errorf("a public route must ignore the token: %v", p)
		}
		if p := s.request(t, "GET", "/v1/demo/optional", nil, nil).problem(t); p["signed_in"] != false {
			t.Errorf("an anonymous optional call: %v", p)
		}
	})
}

func TestNewServerRefusesBadRoutes(t *testing.T) {
	t.Parallel()
	h := func(echo.Context) error { return nil }
	tests := []struct {
		name   string
		routes []httpx.Route
		want   string
	}{
		{"no access decision", []httpx.Route{{Method: "GET", Path: "/v1/x", Handler: h}}, "no Access decision"},
		{"unknown access", []httpx.Route{{Method: "GET", Path: "/v1/x", Handler: h, Access: httpx.Access(42)}}, "unknown Access"},
		{"no handler", []httpx.Route{{Method: "GET", Path: "/v1/x", Access: httpx.Public}}, "no handler"},
		{"relative path", []httpx.Route{{Method: "GET", Path: "v1/x", Handler: h, Access: httpx.Public}}, "must start with /"},
		{"unknown method", []httpx.Route{{Method: "FETCH", Path: "/v1/x", Handler: h, Access: httpx.Public}}, "unknown method"},
		{"duplicate", []httpx.Route{{Method: "GET", Path: "/v1/x/:id", Handler: h, Access: httpx.Public}, {Method: "GET", Path: "/v1/x/:key", Handler: h, Access: httpx.Admin}}, "already registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := httpx.NewServer(httpx.Config{}, []httpx.RouteSet{{Module: "m", Routes: tt.routes}}, nil, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewServer = %v, want an error saying %q", err, tt.want)
			}
		})
	}
	t.Run("no keys: every token is refused, nothing panics", func(t *testing.T) {
		t.Parallel()
		srv, err := httpx.NewServer(httpx.Config{}, []httpx.RouteSet{demoRoutes()}, nil, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv.SetReady(true)
		req := httptest.NewRequest("GET", "/v1/demo/optional", nil)
		req.Header.Set("Authorization", "Bearer x.y.z")
		rec := httptest.NewRecorder()
		srv.Echo.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func TestGateAndProbes(t *testing.T) {
	t.Parallel()
	dbErr := errors.New("dial tcp 10.1.2.3:5432: user=shop password=hunter2 refused")
	var mu sync.Mutex
	check := httpx.Check{Name: "database", Fn: func(context.Context) error { mu.Lock(); defer mu.Unlock(); return dbErr }}
	progress := httpx.Check{Name: "index", ShowReason: true, Fn: func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if dbErr == nil {
			return nil
		}
		return errors.New("catching up: 3 of 9")
	}}
	s := newServer(t, []httpx.Check{check, progress, {Name: "event_bus", Fn: func(context.Context) error { return nil }}})
	s.srv.SetReady(false)

	if r := s.request(t, "GET", "/healthz", nil, nil); r.status != 200 || string(bytes.TrimSpace(r.body)) != `{"status":"ok"}` {
		t.Fatalf("/healthz: %d %s", r.status, r.body)
	}
	r := s.request(t, "GET", "/v1/demo/ok", nil, nil)
	if r.status != 503 || r.problem(t)["code"] != "unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("/v1 before ready: %d %s", r.status, r.body)
	}
	r = s.request(t, "GET", "/readyz", nil, nil)
	var ready struct {
		Status string
		Failed map[string]string
	}
	json.Unmarshal(r.body, &ready)
	if r.status != 503 || ready.Failed["database"] == "" || ready.Failed["startup"] == "" || ready.Failed["event_bus"] != "" ||
		ready.Failed["index"] != "catching up: 3 of 9" {
		t.Fatalf("/readyz: %d %s (a check that shows its reason says it)", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("hunter2")) || bytes.Contains(r.body, []byte("10.1.2.3")) {
		t.Fatalf("/readyz leaks the cause: %s", r.body)
	}

	s.srv.SetReady(true)
	mu.Lock()
	dbErr = nil
	mu.Unlock()
	if r := s.request(t, "GET", "/readyz", nil, nil); r.status != 200 {
		t.Fatalf("/readyz when all is well: %d %s", r.status, r.body)
	}
	if r := s.request(t, "GET", "/v1/demo/ok", nil, nil); r.status != 200 {
		t.Fatalf("/v1 when ready: %d %s", r.status, r.body)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	for range 3 {
		s.request(t, "GET", "/v1/demo/ok", nil, nil)
	}
	for i := range 5 { // distinct unknown paths must not make distinct series
		s.request(t, "GET", fmt.Sprintf("/v1/nope/%d", i), nil, nil)
	}
	body := string(s.request(t, "GET", "/metrics", nil, nil).body)
	for _, want := range []string{
		`modshop_http_requests_total{method="GET",route="/v1/demo/ok",status="2xx"} 3`,
		`modshop_http_requests_total{method="GET",route="unmatched",status="4xx"} 5`,
		`modshop_http_request_duration_seconds_bucket{method="GET",route="/v1/demo/ok"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "/v1/nope/") {
		t.Error("unknown paths became metric labels")
	}
}

// TestMetricsLabelsBounded: a stranger chooses the method and the path, so
// neither may become a label as sent; 100 requests with random 16,000-byte
// methods once grew /metrics by 27 MB.
func TestMetricsLabelsBounded(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	before := len(s.request(t, "GET", "/metrics", nil, nil).body)
	for i := range 100 {
		m := make([]byte, 16000)
		for j := range m {
			m[j] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(i*7+j*13)%26]
		}
		path := "/v1/demo/ok"
		if i%2 == 1 {
			path = fmt.Sprintf("/v1/nope/%d", i)
		}
		r := s.request(t, string(m), path, nil, nil)
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("random method answered %d", r.status)
		}
	}
	body := s.request(t, "GET", "/metrics", nil, nil).body
	if grew := len(body) - before; grew > 20000 {
		t.Fatalf("/metrics grew by %d bytes after 100 requests with random methods", grew)
	}
	for _, want := range []string{`method="other",route="/v1/demo/ok",status="4xx"`, `method="other",route="unmatched",status="4xx"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestUnavailableClassifier(t *testing.T) {
	t.Parallel()
	down := errors.New("driver: the database went away")
	routes := httpx.RouteSet{Module: "m", Routes: []httpx.Route{{Method: "GET", Path: "/v1/x", Access: httpx.Public,
		Handler: func(echo.Context) error { return errs.Internal(fmt.Errorf("load: %w", down)) }}}}
	for _, tt := range []struct {
		name   string
		fn     func(error) bool
		status int
	}{
		{"without a classifier", nil, 500},
		{"with one", func(err error) bool { return errors.Is(err, down) }, 503},
	} {
		srv, err := httpx.NewServer(httpx.Config{Unavailable: tt.fn}, []httpx.RouteSet{routes}, nil, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv.SetReady(true)
		rec := httptest.NewRecorder()
		srv.Echo.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/x", nil))
		if rec.Code != tt.status || strings.Contains(rec.Body.String(), "went away") {
			t.Errorf("%s: %d %s", tt.name, rec.Code, rec.Body)
		}
	}
}

// The client address is the peer's unless the peer is a trusted proxy;
// then it is the right-most address in X-Forwarded-For that is not one.
func TestClientAddressBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	routes := httpx.RouteSet{Module: "m", Routes: []httpx.Route{{Method: "GET", Path: "/v1/ip", Access: httpx.Public,
		Handler: func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) }}}}
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     string
		want    string
	}{
		{"no proxies trusted: a forged header is ignored", nil, "198.51.100.9:4000", "203.0.113.7", "198.51.100.9"},
		{"no proxies trusted: loopback peer too", nil, "127.0.0.1:4000", "203.0.113.7", "127.0.0.1"},
		{"a trusted proxy", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.1.2.3:4000", "203.0.113.7", "203.0.113.7"},
		{"a chain: the client's own entries are not believed", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.1.2.3:4000", "1.1.1.1, 203.0.113.7, 10.9.9.9", "203.0.113.7"},
		{"a peer outside the trusted ranges", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "198.51.100.9:4000", "203.0.113.7", "198.51.100.9"},
		{"private ranges are not trusted unless listed", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "192.168.1.1:4000", "203.0.113.7", "192.168.1.1"},
		{"IPv6 proxy", []netip.Prefix{netip.MustParsePrefix("fd00::/8")}, "[fd00::1]:4000", "2001:db8::5", "2001:db8::5"},
	} {
		srv, err := httpx.NewServer(httpx.Config{TrustedProxies: tt.trusted}, []httpx.RouteSet{routes}, nil, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv.SetReady(true)
		req := httptest.NewRequest("GET", "/v1/ip", nil)
		req.RemoteAddr = tt.peer
		req.Header.Set("X-Forwarded-For", tt.xff)
		rec := httptest.NewRecorder()
		srv.Echo.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
			t.Errorf("%s: %d %q, want %q", tt.name, rec.Code, rec.Body, tt.want)
		}
	}
}
