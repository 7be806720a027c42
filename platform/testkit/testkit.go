// Package testkit starts real modshop processes for tests: the platform and
// the chosen modules with fx, on a real SQLite file (or a fresh PostgreSQL
// database when MODSHOP_TEST_POSTGRES_URL is set), behind a real HTTP server.
package testkit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
)

// JWTSecret is the signing key test processes share.
const JWTSecret = "modshop-test-secret-0123456789abcdef"

// DB is a database a test runs against.
type DB struct {
	Name string // "sqlite" or "postgres"
	URL  string
}

// ForEachDB runs fn against SQLite and, when MODSHOP_TEST_POSTGRES_URL is set,
// against a fresh PostgreSQL database of its own.
func ForEachDB(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite is a fresh database file in the test's temporary folder.
func SQLite(t testing.TB) DB {
	return DB{Name: "sqlite", URL: "sqlite://" + t.TempDir() + "/modshop.db"}
}

// Postgres creates a database of the test's own and drops it afterwards; it
// skips the test, saying so, when MODSHOP_TEST_POSTGRES_URL is not set.
func Postgres(t testing.TB) DB {
	base := os.Getenv("MODSHOP_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("PostgreSQL suite skipped: set MODSHOP_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "modshop_t_" + hex.EncodeToString(b[:])
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to MODSHOP_TEST_POSTGRES_URL: %v", err)
	}
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return DB{Name: "postgres", URL: u.String()}
}

// Shop is a running process under test.
type Shop struct {
	URL     string
	Config  config.Config
	Runtime *app.Runtime
	Keys    *auth.Keys
	app     *fx.App
	t       testing.TB
}

// Options tune Start.
type Options struct {
	DB      *DB               // default: a fresh SQLite file
	Env     map[string]string // extra MODSHOP_* variables
	Extra   []fx.Option       // extra fx options (fx.Populate to reach services)
	Modules []string          // modules to run; default all given
}

// Start runs the given modules in a process of their own and waits until it
// is ready; the process stops when the test ends.
func Start(t testing.TB, mods []app.Module, o Options) *Shop {
	t.Helper()
	db := o.DB
	if db == nil {
		d := SQLite(t)
		db = &d
	}
	env := map[string]string{
		"MODSHOP_HTTP_ADDR":    "127.0.0.1:0",
		"MODSHOP_DATA_DIR":     t.TempDir(),
		"MODSHOP_DATABASE_URL": db.URL,
		"MODSHOP_JWT_SECRET":   JWTSecret,
		"MODSHOP_LOG_LEVEL":    "warn",
	}
	if len(o.Modules) > 0 {
		env["MODSHOP_MODULES"] = strings.Join(o.Modules, ",")
	}
	for k, v := range o.Env {
		env[k] = v
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, environ, app.Names(mods))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	s := &Shop{Config: cfg, t: t}
	logDone := new(atomic.Bool)
	t.Cleanup(func() { logDone.Store(true) }) // runs last: after the process stopped
	opts := append([]fx.Option{fx.Invoke(app.Serve), fx.Populate(&s.Runtime, &s.Keys)}, o.Extra...)
	s.app = app.New(cfg, mods, testLogWriter{t: t, done: logDone}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.app.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { s.Stop() })
	select {
	case <-s.Runtime.Ready():
	case <-ctx.Done():
		t.Fatalf("the shop did not become ready within 15s")
	}
	s.URL = "http://" + s.Runtime.Server().Addr()
	return s
}

// Stop stops the process (idempotent).
func (s *Shop) Stop() {
	if s.app == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.app.Stop(ctx); err != nil {
		s.t.Errorf("stop: %v", err)
	}
	s.app = nil
}

// Token signs an access token for a subject and role.
func (s *Shop) Token(subject string, role auth.Role) string {
	tok, _, err := s.Keys.Sign(auth.Principal{Subject: subject, Role: role}, 15*time.Minute)
	if err != nil {
		s.t.Fatalf("sign: %v", err)
	}
	return tok
}

// AdminToken is a token of an admin.
func (s *Shop) AdminToken() string { return s.Token("admin-test", auth.RoleAdmin) }

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d body %q: %v", r.Status, r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Code is the problem code of an error answer ("" if none).
func (r Response) Code() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.Body, &p)
	return p.Code
}

// Req describes a request; Body may be a string/[]byte (sent as is) or a
// value (sent as JSON).
type Req struct {
	Method  string
	Path    string
	Body    any
	Token   string
	Header  map[string]string
	NoCType bool // send no Content-Type
}

var client = &http.Client{Timeout: 30 * time.Second}

// Do sends a request.
func (s *Shop) Do(r Req) Response {
	s.t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatalf("encode body: %v", err)
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequest(r.Method, s.URL+r.Path, body)
	if err != nil {
		s.t.Fatalf("request: %v", err)
	}
	if body != nil && !r.NoCType {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Get is a GET with an optional token.
func (s *Shop) Get(path, token string) Response {
	s.t.Helper()
	return s.Do(Req{Method: http.MethodGet, Path: path, Token: token})
}

// Post is a JSON POST with an optional token.
func (s *Shop) Post(path, token string, body any) Response {
	s.t.Helper()
	return s.Do(Req{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

// Expect fails the test when the status differs, showing the body.
func Expect(t testing.TB, r Response, status int) Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// ExpectProblem checks a problem+json answer's status and code.
func ExpectProblem(t testing.TB, r Response, status int, code string) {
	t.Helper()
	if r.Status != status || r.Code() != code {
		t.Fatalf("got %d %q, want %d %q; body: %s", r.Status, r.Code(), status, code, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("not within %s: "+msg, append([]any{timeout}, args...)...)
}

// testLogWriter sends the process's logs to the test log while the test runs.
type testLogWriter struct {
	t    testing.TB
	done *atomic.Bool
}

func (w testLogWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Fmt is fmt.Sprintf, re-exported for short test code.
var Fmt = fmt.Sprintf

// Fresh is another new, empty database of the same kind as db.
func Fresh(t testing.TB, db DB) DB {
	if db.Name == "postgres" {
		return Postgres(t)
	}
	return SQLite(t)
}

// Migrated opens db with the migrations of set applied, as a handle of
// set's module: for store tests that need a module's tables and nothing
// else. The database closes when the test ends.
func Migrated(t testing.TB, db DB, set database.MigrationSet) *database.Handle {
	t.Helper()
	d, err := database.Open(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	h := &database.Handle{Module: set.Module, DB: d}
	if _, err := database.Migrate(context.Background(), h, set); err != nil {
		t.Fatal(err)
	}
	return h
}
