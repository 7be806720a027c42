package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeFootprint measures the real binary: time from exec to /readyz 200
// on a fresh SQLite database with every module, and the resident memory of
// the idle process 3 s later (VmRSS), five times; it reports the medians and
// checks them against the targets (ready ≤ 1 s, idle RSS ≤ 40 MB).
//
// Opt-in, since it measures the machine too:
//
//	MODSHOP_MEASURE=1 go test -run TestServeFootprint -v ./cmd/modshop/
func TestServeFootprint(t *testing.T) {
	if os.Getenv("MODSHOP_MEASURE") == "" {
		t.Skip("set MODSHOP_MEASURE=1 to measure start-to-ready time and idle RSS")
	}
	bin := filepath.Join(t.TempDir(), "modshop")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var ready []time.Duration
	var rss []int
	for i := range 5 {
		dir := t.TempDir()
		port := 21000 + i
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "MODSHOP_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port), "MODSHOP_DATA_DIR="+dir, "MODSHOP_LOG_LEVEL=warn")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for {
			res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					break
				}
			}
			if time.Since(start) > 30*time.Second {
				cmd.Process.Kill()
				t.Fatal("not ready within 30s")
			}
			time.Sleep(2 * time.Millisecond)
		}
		ready = append(ready, time.Since(start))
		time.Sleep(3 * time.Second)
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				rss = append(rss, kb)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit: %v", err)
		}
	}
	slices.Sort(ready)
	slices.Sort(rss)
	t.Logf("start-to-ready: median %s (all %v)", ready[2], ready)
	t.Logf("idle RSS: median %.1f MB (all %v kB)", float64(rss[2])/1024, rss)
	if ready[2] > time.Second {
		t.Errorf("start-to-ready median %s is over the 1 s target", ready[2])
	}
	if rss[2] > 40*1024 {
		t.Errorf("idle RSS median %d kB is over the 40 MB target", rss[2])
	}
}
