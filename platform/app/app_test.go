package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/testkit"
)

// pingModule is a fake module whose routes use its database: /v1/ping asks
// it, /v1/slow holds the request until released.
type pingModule struct {
	release chan struct{}
	entered chan struct{}
}

func newPingModule() *pingModule {
	return &pingModule{release: make(chan struct{}), entered: make(chan struct{}, 16)}
}

func (p *pingModule) module(extra ...fx.Option) app.Module {
	return app.Module{Name: "ping", Local: fx.Module("ping", fx.Options(extra...),
		modkit.Describe(modkit.Descriptor{Name: "ping", Summary: "a fake module"}),
		modkit.Storage("ping"),
		modkit.Migrations(database.MigrationSet{Module: "ping", Component: "module", Migrations: []database.Migration{{
			Version: 1, Name: "hits", SQL: "CREATE TABLE ping_hits (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL);",
		}}}),
		modkit.Routes(func(h *database.Handle) httpx.RouteSet {
			return modkit.RouteSet("ping",
				httpx.Route{Method: "GET", Path: "/v1/ping", Access: httpx.Public, Response: map[string]int64{}, Handler: func(c echo.Context) error {
					var n int64
					if err := h.Conn(c.Request().Context()).Raw("SELECT COUNT(*) FROM ping_hits").Scan(&n).Error; err != nil {
						return errs.Internal(err)
					}
					return c.JSON(200, map[string]int64{"hits": n})
				}},
				httpx.Route{Method: "GET", Path: "/v1/slow", Access: httpx.Public, Handler: func(c echo.Context) error {
					p.entered <- struct{}{}
					<-p.release
					return c.JSON(200, map[string]string{"finished": "yes"})
				}},
			)
		}),
	)}
}

type process struct {
	app     *fx.App
	runtime *app.Runtime
	url     string
}

func load(t *testing.T, env map[string]string, mods []app.Module) config.Config {
	t.Helper()
	base := map[string]string{
		"MODSHOP_HTTP_ADDR": "127.0.0.1:0", "MODSHOP_DATA_DIR": t.TempDir(),
		"MODSHOP_JWT_SECRET": testkit.JWTSecret, "MODSHOP_LOG_LEVEL": "error", "MODSHOP_SHUTDOWN_TIMEOUT": "5s",
	}
	for k, v := range env {
		base[k] = v
	}
	var environ []string
	for k, v := range base {
		environ = append(environ, k+"="+v)
	}
	cfg, err := config.Load(func(k string) string { return base[k] }, environ, app.Names(mods))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// start runs a process without waiting for it to become ready.
func start(t *testing.T, dbURL string, mods []app.Module) *process {
	t.Helper()
	cfg := load(t, map[string]string{"MODSHOP_DATABASE_URL": dbURL}, mods)
	p := &process{}
	p.app = app.New(cfg, mods, io.Discard, fx.Invoke(app.Serve), fx.Populate(&p.runtime))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := p.app.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { p.stop(t) })
	p.url = "http://" + p.runtime.Server().Addr()
	return p
}

func (p *process) stop(t *testing.T) {
	if p.app == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.app.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
	p.app = nil
}

func get(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// A database that is down at start: the process runs, says so, and serves
// nothing that needs the database, without crashing.
func TestStartsWithTheDatabaseDown(t *testing.T) {
	t.Parallel()
	p := start(t, "postgres://postgres@127.0.0.1:1/x?sslmode=disable", []app.Module{newPingModule().module()})
	time.Sleep(300 * time.Millisecond) // a few migration retries
	if status, body := get(t, p.url+"/healthz"); status != 200 || body["status"] != "ok" {
		t.Fatalf("/healthz: %d %v", status, body)
	}
	status, body := get(t, p.url+"/readyz")
	failed, _ := body["failed"].(map[string]any)
	if status != 503 || failed["database"] == nil || failed["startup"] == nil {
		t.Fatalf("/readyz: %d %v", status, body)
	}
	if status, body := get(t, p.url+"/v1/ping"); status != 503 || body["code"] != "unavailable" {
		t.Fatalf("/v1/ping: %d %v", status, body)
	}
	select {
	case <-p.runtime.Ready():
		t.Fatal("the process says it is ready without a database")
	default:
	}
	start := time.Now()
	p.stop(t)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stopping a process that never got ready took %s", d)
	}
}

// proxy is a TCP proxy that the test switches off and on in front of the
// real PostgreSQL server: off, it refuses and cuts every connection.
type proxy struct {
	ln     net.Listener
	target string
	up     atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.set(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.up.Load() {
				c.Close()
				continue
			}
			go p.pipe(c)
		}
	}()
	return p
}

func (p *proxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

func (p *proxy) set(up bool) {
	p.up.Store(up)
	if !up {
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
		p.mu.Unlock()
	}
}

// A database that comes up later makes the process ready by itself; one
// that goes away again makes it unready, and requests 503, not 500.
func TestBecomesReadyWhenTheDatabaseComesUp(t *testing.T) {
	t.Parallel()
	db := testkit.Postgres(t)
	u, _ := url.Parse(db.URL)
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()

	p := start(t, u.String(), []app.Module{newPingModule().module()})
	time.Sleep(200 * time.Millisecond)
	if status, _ := get(t, p.url+"/readyz"); status != 503 {
		t.Fatalf("/readyz with the database down: %d", status)
	}
	if status, body := get(t, p.url+"/v1/ping"); status != 503 || body["code"] != "unavailable" {
		t.Fatalf("/v1/ping with the database down: %d %v", status, body)
	}

	px.set(true)
	select {
	case <-p.runtime.Ready():
	case <-time.After(15 * time.Second):
		t.Fatal("the process did not become ready after the database came up")
	}
	testkit.Eventually(t, 5*time.Second, func() bool { s, _ := get(t, p.url+"/readyz"); return s == 200 }, "/readyz turns 200")
	if status, body := get(t, p.url+"/v1/ping"); status != 200 || body["hits"] != float64(0) {
		t.Fatalf("/v1/ping once ready: %d %v", status, body)
	}

	px.set(false)
	testkit.Eventually(t, 5*time.Second, func() bool {
		s, body := get(t, p.url+"/readyz")
		failed, _ := body["failed"].(map[string]any)
		return s == 503 && failed["database"] != nil
	}, "/readyz says the database failed")
	if status, body := get(t, p.url+"/v1/ping"); status != 503 || body["code"] != "unavailable" {
		t.Fatalf("/v1/ping after the database went away: %d %v", status, body)
	}

	px.set(true)
	testkit.Eventually(t, 10*time.Second, func() bool { s, _ := get(t, p.url+"/readyz"); return s == 200 }, "/readyz recovers")
	if status, _ := get(t, p.url+"/v1/ping"); status != 200 {
		t.Fatalf("/v1/ping after recovery: %d", status)
	}
}

// Stop lets a request in flight finish, refuses new connections, and closes
// the database.
func TestStopFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	db := testkit.SQLite(t)
	ping := newPingModule()
	p := start(t, db.URL, []app.Module{ping.module()})
	select {
	case <-p.runtime.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		res, err := http.Get(p.url + "/v1/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		inflight <- result{status: res.StatusCode, body: string(b)}
	}()
	<-ping.entered
	stopped := make(chan struct{})
	go func() { p.stop(t); close(stopped) }()

	// New connections are refused while the slow request still runs.
	testkit.Eventually(t, 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(p.url, "http://"), 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, "the listener closes on Stop")
	select {
	case <-stopped:
		t.Fatal("Stop returned while a request was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(ping.release)
	r := <-inflight
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, "finished") {
		t.Fatalf("the request in flight: %+v", r)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
	}
	// The database was closed cleanly: SQLite removes its WAL file when the
	// last connection closes.
	path := strings.TrimPrefix(db.URL, "sqlite://")
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Error("the -wal file is still there: the database was not closed")
	}
}

// The platform's own routes and a module's routes are all documented, and
// the document lists exactly the registered /v1 routes.
func TestOpenAPIOfTheWholeProcess(t *testing.T) {
	t.Parallel()
	shop := testkit.Start(t, []app.Module{newPingModule().module()}, testkit.Options{})
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	testkit.Expect(t, shop.Get("/openapi.json", ""), 200).JSON(t, &doc)
	var documented, registered []string
	for path, item := range doc.Paths {
		for method := range item {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, r := range shop.Runtime.Server().Echo.Routes() {
		if strings.HasPrefix(r.Path, "/v1/") {
			registered = append(registered, r.Method+" "+httpx.OpenAPIPath(r.Path))
		}
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if !slices.Equal(documented, registered) {
		t.Fatalf("documented %q\nregistered %q", documented, registered)
	}
	for _, want := range []string{"GET /v1/admin/events/dead-letters", "POST /v1/admin/events/dead-letters/{module}/{id}/replay", "GET /v1/ping"} {
		if !slices.Contains(documented, want) {
			t.Errorf("%s is not documented", want)
		}
	}
	var platform []string
	for _, set := range shop.Runtime.Server().RouteSets() {
		if set.Module == "platform" {
			for _, r := range set.Routes {
				platform = append(platform, r.Method+" "+r.Path+" "+r.Access.String())
			}
		}
	}
	if !slices.Equal(platform, []string{"GET /v1/admin/events/dead-letters admin", "POST /v1/admin/events/dead-letters/:module/:id/replay admin"}) {
		t.Fatalf("platform routes = %q", platform)
	}
}

func TestMigratorAppliesPlatformTablesFirst(t *testing.T) {
	t.Parallel()
	mods := []app.Module{newPingModule().module()}
	cfg := load(t, map[string]string{"MODSHOP_DATABASE_URL": testkit.SQLite(t).URL}, mods)
	var m *app.Migrator
	a := app.New(cfg, mods, io.Discard, fx.Populate(&m))
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	applied, err := m.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range applied {
		got = append(got, a.Module+"/"+a.Component+"/"+a.Name)
	}
	if !slices.Equal(got, []string{"ping/platform/event_bus", "ping/platform/event_trace", "ping/module/hits", "ping/lease/module_lease"}) {
		t.Fatalf("applied %q", got)
	}
	if again, err := m.Run(t.Context()); err != nil || len(again) != 0 {
		t.Fatalf("second run applied %v (%v)", again, err)
	}
}

// A request that outlives MODSHOP_SHUTDOWN_TIMEOUT is cut; that is what the
// operator asked for, so Stop still succeeds.
func TestStopCutsRequestsAfterTheGrace(t *testing.T) {
	t.Parallel()
	ping := newPingModule()
	defer close(ping.release)
	mods := []app.Module{ping.module()}
	cfg := load(t, map[string]string{"MODSHOP_DATABASE_URL": testkit.SQLite(t).URL, "MODSHOP_SHUTDOWN_TIMEOUT": "200ms"}, mods)
	var rt *app.Runtime
	a := app.New(cfg, mods, io.Discard, fx.Invoke(app.Serve), fx.Populate(&rt))
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-rt.Ready()
	cut := make(chan error, 1)
	go func() {
		res, err := http.Get("http://" + rt.Server().Addr() + "/v1/slow")
		if err == nil {
			res.Body.Close()
		}
		cut <- err
	}()
	<-ping.entered
	start := time.Now()
	if err := a.Stop(t.Context()); err != nil {
		t.Fatalf("Stop = %v, want success", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Stop took %s with a 200ms grace", d)
	}
	select {
	case err := <-cut:
		if err == nil {
			t.Fatal("the request outliving the grace got an answer")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request outliving the grace was not cut")
	}
}

// A module's workers start once the process is migrated, and stop in
// reverse order on Stop; its readiness checks show in /readyz.
func TestWorkersAndChecks(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []string
	record := func(s string) { mu.Lock(); calls = append(calls, s); mu.Unlock() }
	var healthy atomic.Bool
	worker := func(name string) any {
		return func(h *database.Handle) modkit.Worker {
			return modkit.Worker{Name: name,
				Start: func(ctx context.Context) error {
					// Migrated before any worker starts.
					var n int64
					if err := h.Conn(ctx).Raw("SELECT COUNT(*) FROM ping_hits").Scan(&n).Error; err != nil {
						return err
					}
					record("start " + name)
					return nil
				},
				Stop: func(context.Context) error { record("stop " + name); return nil }}
		}
	}
	mod := newPingModule().module(
		modkit.Workers(worker("first")),
		modkit.Workers(worker("second")),
		modkit.Check(func() httpx.Check {
			return httpx.Check{Name: "ping_upstream", Fn: func(context.Context) error {
				if !healthy.Load() {
					return errors.New("upstream down")
				}
				return nil
			}}
		}),
	)
	p := start(t, testkit.SQLite(t).URL, []app.Module{mod})
	<-p.runtime.Ready()
	status, body := get(t, p.url+"/readyz")
	if failed, _ := body["failed"].(map[string]any); status != 503 || failed["ping_upstream"] == nil || failed["database"] != nil {
		t.Fatalf("/readyz with a failing module check: %d %v", status, body)
	}
	healthy.Store(true)
	if status, body := get(t, p.url+"/readyz"); status != 200 {
		t.Fatalf("/readyz: %d %v", status, body)
	}
	p.stop(t)
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 4 || calls[2] != "stop "+strings.TrimPrefix(calls[1], "start ") || calls[3] != "stop "+strings.TrimPrefix(calls[0], "start ") {
		t.Fatalf("calls = %q, want two starts then the stops in reverse", calls)
	}
}
