package cputime_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit/cputime"
)

// Busy work shows in the process's, the thread's and /proc's count.
func TestCPUTimeGrowsWithWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the figures are 0 outside Linux")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, t0, o0 := cputime.Process(), cputime.Thread(), cputime.Of(os.Getpid())
	// Spin until the thread has had 100 ms of CPU: on a busy machine that
	// takes more wall time.
	for deadline := time.Now().Add(20 * time.Second); cputime.Thread()-t0 < 100*time.Millisecond; {
		if time.Now().After(deadline) {
			t.Fatalf("the thread's CPU time grew by %v in 20 s of spinning", cputime.Thread()-t0)
		}
	}
	p, th, o := cputime.Process()-p0, cputime.Thread()-t0, cputime.Of(os.Getpid())-o0
	if p < th {
		t.Errorf("process %v less than its thread's %v", p, th)
	}
	if o < 80*time.Millisecond { // /proc counts in 10 ms ticks
		t.Errorf("/proc counted %v for the process, want about %v or more", o, p)
	}
	exe, _ := os.Executable()
	name := filepath.Base(exe)
	name = name[:min(15, len(name))] // /proc keeps 15 characters of a command's name
	if self := cputime.Commands(name); self < o0 {
		t.Errorf("Commands(own name) = %v, less than the process's own %v", self, o0)
	}
	if none := cputime.Commands("no-such-command-xyz"); none != 0 {
		t.Errorf("Commands of no process = %v, want 0", none)
	}
}
