package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// runCmd runs the command line in this process and turns a panic into a
// test failure: a wrong configuration must never panic.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("modshop %v panicked: %v", args, p)
			}
		}()
		code = run(args, &out, &errOut)
	}()
	return code, out.String(), errOut.String()
}

// Each wrong value gives exit code 2 and one line naming its variable.
// Not parallel: it sets the process environment.
func TestRunRefusesWrongConfiguration(t *testing.T) {
	for _, k := range os.Environ() { // start from a clean MODSHOP_* slate
		if name, _, _ := strings.Cut(k, "="); strings.HasPrefix(name, "MODSHOP_") {
			t.Setenv(name, "")
		}
	}
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		lines []string // the problem lines, in order
	}{
		{"bad address", map[string]string{"MODSHOP_HTTP_ADDR": "nowhere"}, []string{"serve"}, []string{"modshop: MODSHOP_HTTP_ADDR: "}},
		{"bad database", map[string]string{"MODSHOP_DATABASE_URL": "mysql://x"}, []string{"migrate"}, []string{"modshop: MODSHOP_DATABASE_URL: "}},
		{"bad module", map[string]string{"MODSHOP_MODULES": "nope"}, []string{"modules"}, []string{"modshop: MODSHOP_MODULES: "}},
		{"bad ttl", map[string]string{"MODSHOP_RESERVATION_TTL": "forever"}, []string{"serve"}, []string{"modshop: MODSHOP_RESERVATION_TTL: "}},
		{"bad remote", map[string]string{"MODSHOP_REMOTE_NOPE": "http://x"}, []string{"serve"}, []string{"modshop: MODSHOP_REMOTE_NOPE: "}},
		{"bad nats", map[string]string{"MODSHOP_NATS_URL": "x", "MODSHOP_JWT_SECRET": testkit.JWTSecret}, []string{"serve"}, []string{"modshop: MODSHOP_NATS_URL: "}},
		{"bad secret", map[string]string{"MODSHOP_JWT_SECRET": "short"}, []string{"serve"}, []string{"modshop: MODSHOP_JWT_SECRET: "}},
		{"several at once", map[string]string{"MODSHOP_CURRENCY": "euro", "MODSHOP_LOG_LEVEL": "loud", "MODSHOP_SHUTDOWN_TIMEOUT": "1y"}, []string{"serve"},
			[]string{"modshop: MODSHOP_CURRENCY: ", "modshop: MODSHOP_LOG_LEVEL: ", "modshop: MODSHOP_SHUTDOWN_TIMEOUT: "}},
		{"a needed module neither here nor remote", map[string]string{"MODSHOP_MODULES": "orders,cart"}, []string{"serve"},
			[]string{"modshop: MODSHOP_MODULES: cart needs catalog; ", "modshop: MODSHOP_MODULES: cart needs inventory; ",
				"modshop: MODSHOP_MODULES: orders needs inventory; ", "modshop: MODSHOP_MODULES: orders needs payments; "}},
		{"a remote module without the token", map[string]string{"MODSHOP_MODULES": "catalog", "MODSHOP_REMOTE_INVENTORY": "http://inv:8080", "MODSHOP_JWT_SECRET": testkit.JWTSecret}, []string{"serve"},
			[]string{"modshop: MODSHOP_INTERNAL_TOKEN: required"}},
		{"a bad module variable next to a bad platform variable", map[string]string{"MODSHOP_RESERVATION_TTL": "2d", "MODSHOP_LOG_FORMAT": "xml",
			"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": "root@example.com", "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": "short"}, []string{"serve"},
			[]string{"modshop: MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: ", "modshop: MODSHOP_LOG_FORMAT: ", "modshop: MODSHOP_RESERVATION_TTL: "}},
		{"bad --addr flag", nil, []string{"serve", "--addr", "localhost"}, []string{"modshop: --addr: "}},
		{"bad --addr next to a bad variable", map[string]string{"MODSHOP_CURRENCY": "x"}, []string{"serve", "--addr", ":99999"},
			[]string{"modshop: MODSHOP_CURRENCY: ", "modshop: --addr: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != exitConfig {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitConfig, stderr)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != len(tt.lines) {
				t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(tt.lines), stderr)
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, tt.lines[i]) {
					t.Errorf("line %d = %q, want prefix %q", i, l, tt.lines[i])
				}
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, 2, "", "usage:"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"serve", "--no-such-flag"}, 2, "", "flag provided but not defined"},
		{[]string{"migrate", "now"}, 2, "", `unexpected argument "now"`},
		{[]string{"version"}, 0, "modshop ", ""},
		{[]string{"help"}, 0, "usage:", ""},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("modshop %v = %d\nstdout %q\nstderr %q", tt.args, code, stdout, stderr)
		}
	}
}

// migrate applies every module's migrations once.
// A command's --help lists its own flags only, and another's flag is refused.
func TestCommandFlags(t *testing.T) {
	code, _, stderr := runCmd(t, "serve", "--help")
	if code != 0 || !strings.Contains(stderr, "-addr") || strings.Contains(stderr, "-products") || strings.Contains(stderr, "-stock") {
		t.Errorf("serve --help: %d\n%s", code, stderr)
	}
	code, _, stderr = runCmd(t, "seed", "--help")
	if code != 0 || !strings.Contains(stderr, "-products") || !strings.Contains(stderr, "-stock") || strings.Contains(stderr, "-addr") {
		t.Errorf("seed --help: %d\n%s", code, stderr)
	}
	if code, _, stderr = runCmd(t, "serve", "--products", "5"); code != exitConfig || !strings.Contains(stderr, "flag provided but not defined: -products") {
		t.Errorf("serve --products 5: %d\n%s", code, stderr)
	}
}

func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MODSHOP_DATA_DIR", dir)
	t.Setenv("MODSHOP_DATABASE_URL", "sqlite://"+dir+"/shop.db")
	t.Setenv("MODSHOP_LOG_LEVEL", "info")
	t.Setenv("MODSHOP_LOG_FORMAT", "text")
	code, stdout, stderr := runCmd(t, "migrate")
	if code != 0 || !strings.Contains(stdout, "applied ") {
		t.Fatalf("first migrate: %d\n%s\n%s", code, stdout, stderr)
	}
	for _, m := range modules {
		if !strings.Contains(stdout, "applied "+m.Name+"/platform 0001_event_bus") {
			t.Errorf("module %s: its event bus tables were not migrated:\n%s", m.Name, stdout)
		}
	}
	// Each migration is told once: printed, not logged as well.
	if strings.Contains(stderr, "migration applied") || strings.Count(stdout, "applied inventory/platform 0001_event_bus") != 1 {
		t.Errorf("migrate tells a migration more than once:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, "migrate")
	if code != 0 || !strings.Contains(stdout, "nothing to apply") {
		t.Fatalf("second migrate: %d\n%s\n%s", code, stdout, stderr)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds modshop with the test-only slowtest module, once per run.
func binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "modshop-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "modshop")
		out, err := exec.Command("go", "build", "-tags", "modshop_testslow", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// served is a running modshop serve.
type served struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	logs   []map[string]any
	raw    bytes.Buffer
	exited chan error    // the process's end, once
	done   chan struct{} // closed when it has ended
}

func newServed(cmd *exec.Cmd, addr string) *served {
	return &served{cmd: cmd, addr: addr, exited: make(chan error, 1), done: make(chan struct{})}
}

// wait waits for the process and records its end.
func (s *served) wait() {
	s.exited <- s.cmd.Wait()
	close(s.done)
}

// running says whether the process has not ended yet.
func (s *served) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// stop kills the process if it still runs and waits until it has ended,
// so that nothing writes to its data folder while the test removes it.
func (s *served) stop() {
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

func (s *served) seen(msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.logs {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

func (s *served) waitLog(t testing.TB, msg string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !s.seen(msg) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q log line within %s; logs:\n%s", msg, timeout, s.output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *served) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// serveBinary starts `modshop serve` with env and waits for its address.
func serveBinary(t testing.TB, env ...string) *served {
	t.Helper()
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := newServed(cmd, "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			_ = json.Unmarshal(sc.Bytes(), &m)
			s.mu.Lock()
			s.raw.Write(append(sc.Bytes(), '\n'))
			if m != nil {
				s.logs = append(s.logs, m)
			}
			s.mu.Unlock()
			if a, ok := m["addr"].(string); ok && m["msg"] == "listening" {
				addr <- a
			}
		}
		s.wait()
	}()
	t.Cleanup(s.stop)
	select {
	case s.addr = <-addr:
	case err := <-s.exited:
		t.Fatalf("modshop serve exited: %v\n%s", err, s.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("modshop serve did not listen within 30s\n%s", s.output())
	}
	return s
}

// SIGTERM: the listener closes, the request in flight finishes with 200, the
// event it committed is relayed and handled, the database is closed, and the
// process exits 0.
func TestServeStopsGracefullyOnSIGTERM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbFile := filepath.Join(dir, "shop.db")
	s := serveBinary(t, "MODSHOP_HTTP_ADDR=127.0.0.1:0", "MODSHOP_DATA_DIR="+dir, "MODSHOP_DATABASE_URL=sqlite://"+dbFile,
		"MODSHOP_MODULES=slowtest", "MODSHOP_LOG_LEVEL=info", "MODSHOP_LOG_FORMAT=json", "MODSHOP_SHUTDOWN_TIMEOUT=10s")
	s.waitLog(t, "ready", 20*time.Second)

	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + s.addr + "/v1/slowtest/slow?ms=1500")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		inflight <- result{res.StatusCode, string(b), nil}
	}()
	s.waitLog(t, "slowtest: sleeping", 10*time.Second)
	sent := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// The listener closes at once, while the request still runs.
	deadline := time.Now().Add(time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts a second after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := <-inflight
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"slept_ms":1500`) {
		t.Fatalf("the request in flight: %+v\n%s", r, s.output())
	}
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, s.output())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("modshop serve did not exit\n%s", s.output())
	}
	t.Logf("SIGTERM to exit: %s", time.Since(sent))
	for _, msg := range []string{"stopping", "stopped"} {
		if !s.seen(msg) {
			t.Errorf("no %q log line", msg)
		}
	}
	if out := s.output(); strings.Contains(out, "panic") || strings.Contains(out, `"level":"ERROR"`) {
		t.Errorf("errors in the log:\n%s", out)
	}
	// The relay drained: the event committed by the request was handled.
	if _, err := os.Stat(dbFile + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s-wal is still there: the database was not closed", dbFile)
	}
	db, err := database.Open("sqlite://" + dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seen, pending int64
	db.Gorm.Raw("SELECT COUNT(*) FROM slowtest_seen WHERE ms = 1500").Scan(&seen)
	db.Gorm.Raw("SELECT COUNT(*) FROM slowtest_outbox WHERE published_at IS NULL").Scan(&pending)
	if seen != 1 || pending != 0 {
		t.Fatalf("after exit: %d handled, %d unpublished; want 1 and 0", seen, pending)
	}
}

// A database that does not answer at start: the process serves /healthz,
// says it is not ready, and stops cleanly on SIGTERM.
func TestServeWithTheDatabaseDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := serveBinary(t, "MODSHOP_HTTP_ADDR=127.0.0.1:0", "MODSHOP_DATA_DIR="+dir,
		"MODSHOP_DATABASE_URL=postgres://postgres@127.0.0.1:1/x?sslmode=disable", "MODSHOP_LOG_FORMAT=json")
	get := func(path string) int {
		res, err := http.Get("http://" + s.addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	time.Sleep(300 * time.Millisecond)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "/v1/slowtest/slow": 503, "/metrics": 200} {
		if got := get(path); got != want {
			t.Errorf("%s = %d, want %d", path, got, want)
		}
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, s.output())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("did not exit\n%s", s.output())
	}
	if strings.Contains(s.output(), "panic") {
		t.Fatalf("panic:\n%s", s.output())
	}
}

// `modshop modules` shows the topology of this process: each module here
// or remote (with its URL), what it calls, publishes and consumes.
func TestModulesShowsTheTopology(t *testing.T) {
	for _, k := range os.Environ() {
		if name, _, _ := strings.Cut(k, "="); strings.HasPrefix(name, "MODSHOP_") {
			t.Setenv(name, "")
		}
	}
	t.Setenv("MODSHOP_DATA_DIR", t.TempDir())
	t.Setenv("MODSHOP_MODULES", "catalog,cart,customers,payments,orders")
	t.Setenv("MODSHOP_REMOTE_INVENTORY", "http://inventory.internal:8080")
	t.Setenv("MODSHOP_REMOTE_SEARCH", "http://search.internal:8080")
	t.Setenv("MODSHOP_INTERNAL_TOKEN", "0123456789abcdef-token")
	t.Setenv("MODSHOP_JWT_SECRET", testkit.JWTSecret)
	code, out, stderr := runCmd(t, "modules")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"inventory  remote http://inventory.internal:8080\n",
		"search     remote http://search.internal:8080\n",
		"catalog    local\n",
		"  consumes:  catalog.variant_created.v1\n",           // inventory's, declared
		"  consumes:  orders.order_placed.v1 (cart.checkout)", // cart's, registered here
		"  publishes: orders.order_placed.v1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "slowtest") && !strings.Contains(out, "slowtest  not run here") {
		t.Errorf("a module not run here is shown as such:\n%s", out)
	}
}

// A second serve on the data folder of one that runs (a second `make run`
// in the same folder) does not hang on the search index's lock: it exits
// within 2 s with one line that says why.
func TestSecondServeOnTheSameDataFolderFailsFast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"MODSHOP_DATA_DIR=" + dir, "MODSHOP_DATABASE_URL=sqlite://" + filepath.Join(dir, "shop.db"),
		"MODSHOP_MODULES=catalog,inventory,search", "MODSHOP_LOG_LEVEL=info", "MODSHOP_LOG_FORMAT=json"}
	first := serveBinary(t, append([]string{"MODSHOP_HTTP_ADDR=127.0.0.1:0"}, env...)...)
	first.waitLog(t, "ready", 20*time.Second)

	cmd := exec.Command(binary(t), "serve")
	cmd.Env = append(append(os.Environ(), env...), "MODSHOP_HTTP_ADDR=127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !strings.HasPrefix(l, "{") { // what the command says, not its info logs
			lines = append(lines, l)
		}
	}
	if err == nil || took > 2*time.Second || len(lines) != 1 || !strings.Contains(lines[0], "search index is in use by another process") ||
		strings.Contains(stderr.String(), `"level":"ERROR"`) {
		t.Fatalf("second serve: %v after %s, want a failure within 2 s in one line; stderr:\n%s", err, took, stderr.String())
	}
}
