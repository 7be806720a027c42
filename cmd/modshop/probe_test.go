package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit"
)

// probe exits 0 only when the server at the address answers /readyz with
// 200. Not parallel: it sets the process environment.
func TestProbe(t *testing.T) {
	for _, k := range os.Environ() {
		if name, _, _ := strings.Cut(k, "="); strings.HasPrefix(name, "MODSHOP_") {
			t.Setenv(name, "")
		}
	}
	t.Setenv("MODSHOP_DATA_DIR", t.TempDir())
	shop := testkit.Start(t, modules, testkit.Options{})
	// Start returns once the process serves; its readiness checks (the
	// search index catching up) may take a moment more.
	testkit.Eventually(t, 30*time.Second, func() bool { return shop.Get("/readyz", "").Status == 200 }, "the shop did not become ready")
	ready := strings.TrimPrefix(shop.URL, "http://")
	_, readyPort, _ := strings.Cut(ready, ":")
	down := serveBinary(t, "MODSHOP_HTTP_ADDR=127.0.0.1:0", "MODSHOP_DATA_DIR="+t.TempDir(),
		"MODSHOP_DATABASE_URL=postgres://postgres@127.0.0.1:1/x?sslmode=disable", "MODSHOP_LOG_FORMAT=json")
	tests := []struct {
		name, addr     string
		code           int
		stdout, stderr string
	}{
		{"ready", ready, 0, "ready\n", ""},
		{"ready, listening on every address", ":" + readyPort, 0, "ready\n", ""},
		{"not ready: its database is down", down.addr, 1, "", `503 {"failed":{`},
		{"nothing listening", "127.0.0.1:" + freePort(t), 1, "", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "probe", "--addr", tt.addr)
			if code != tt.code || stdout != tt.stdout || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("modshop probe --addr %s = %d\nstdout %q\nstderr %q", tt.addr, code, stdout, stderr)
			}
		})
	}
}
