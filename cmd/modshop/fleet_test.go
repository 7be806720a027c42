package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit"
)

// A fleet is the real binary in several `modshop serve` processes that make
// one shop on NATS JetStream: the split (e2e_split_test.go) and the
// replicas (e2e_replicas_test.go) are fleets that differ only in what each
// process runs and where it finds the rest.

const splitToken = "split-test-internal-token-0123456789"

// fleet is a set of `modshop serve` processes sharing NATS (a stream of the
// fleet's own), the JWT secret and the internal token. A process keeps the
// port it got first, so one started again is where the others expect it.
type fleet struct {
	t               testing.TB
	quiet           bool // processes log warnings only
	natsURL, stream string
	ports           map[string]string
	procs           map[string]*served
	killed          []string // on purpose
}

func newFleet(t testing.TB, natsURL string, quiet bool) *fleet {
	return &fleet{t: t, natsURL: natsURL, quiet: quiet, stream: fmt.Sprintf("E2E_%d", time.Now().UnixNano()),
		ports: map[string]string{}, procs: map[string]*served{}}
}

// url is where process name listens (or will: the port is chosen at the
// first ask, so processes can be told of each other before they start).
func (f *fleet) url(name string) string {
	if f.ports[name] == "" {
		f.ports[name] = freePort(f.t)
	}
	return "http://127.0.0.1:" + f.ports[name]
}

// serve starts process name with the fleet's settings, a data folder of its
// own (a new, empty one at each start) and env, which wins over them. No
// module is remote unless env says where it runs.
func (f *fleet) serve(name string, env ...string) *served {
	f.t.Helper()
	f.url(name)
	all := []string{
		"MODSHOP_HTTP_ADDR=127.0.0.1:" + f.ports[name],
		"MODSHOP_DATA_DIR=" + f.t.TempDir(),
		"MODSHOP_JWT_SECRET=" + testkit.JWTSecret,
		"MODSHOP_INTERNAL_TOKEN=" + splitToken,
		"MODSHOP_NATS_URL=" + f.natsURL,
		"MODSHOP_NATS_STREAM=" + f.stream,
		"MODSHOP_LOG_LEVEL=info", "MODSHOP_LOG_FORMAT=json",
	}
	for _, m := range modules {
		all = append(all, "MODSHOP_REMOTE_"+strings.ToUpper(m.Name)+"=")
	}
	all = append(all, env...) // exec keeps the last value of a repeated variable
	if f.quiet {
		f.procs[name] = serveQuiet(f.t, "127.0.0.1:"+f.ports[name], all...)
	} else {
		f.procs[name] = serveBinary(f.t, all...)
	}
	return f.procs[name]
}

// kill ends a process with SIGKILL: no graceful stop, a crash as far as the
// others can tell.
func (f *fleet) kill(name string) {
	f.t.Helper()
	f.killed = append(f.killed, name)
	f.procs[name].stop()
}

// ended names the processes that ended without being killed, each with
// the end of what it logged.
func (f *fleet) ended() []string {
	var out []string
	for name, p := range f.procs {
		if p.running() || slices.Contains(f.killed, name) {
			continue
		}
		logs := strings.Split(strings.TrimSpace(p.output()), "\n")
		out = append(out, fmt.Sprintf("%s ended by itself: %v; its last lines:\n%s", name, <-p.exited, strings.Join(logs[max(0, len(logs)-15):], "\n")))
		f.killed = append(f.killed, name) // said once
	}
	return out
}

func (f *fleet) waitReady(name string, timeout time.Duration) {
	f.t.Helper()
	if !readyWithin(f.url(name), timeout) {
		f.t.Fatalf("%s not ready within %s\n%s", name, timeout, f.procs[name].output())
	}
}

// freePort is a loopback port nothing listens on right now.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// serveQuiet starts `modshop serve` logging warnings only (benchmarks: no
// access log to write and parse); addr is where it will listen.
func serveQuiet(t testing.TB, addr string, env ...string) *served {
	t.Helper()
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = append(append(os.Environ(), env...), "MODSHOP_LOG_LEVEL=warn")
	s := newServed(cmd, addr)
	cmd.Stderr = &lockedWriter{s: s}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go s.wait()
	t.Cleanup(s.stop)
	return s
}

// lockedWriter keeps a process's output for failure messages.
type lockedWriter struct{ s *served }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.raw.Write(p)
}

func readyWithin(base string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitReadyURL(t testing.TB, base string, timeout time.Duration) {
	t.Helper()
	if !readyWithin(base, timeout) {
		t.Fatalf("%s not ready within %s", base, timeout)
	}
}

func natsForTests(t testing.TB) string {
	u := os.Getenv("MODSHOP_TEST_NATS_URL")
	if u == "" {
		t.Skip("split suite skipped: set MODSHOP_TEST_NATS_URL=nats://127.0.0.1:4222 to run it")
	}
	return u
}
