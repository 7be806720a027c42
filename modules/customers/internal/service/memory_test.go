package service

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/customers/internal/domain"
)

// memoryBudget is what 16 concurrent sign-ins may use.
const memoryBudget = 512 << 20

// peakMemory runs fn and reports the peak Go heap (sampled every
// millisecond) and, on Linux, the process's peak resident set during fn.
func peakMemory(fn func()) (heap, rss uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64() + sample[1].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load(), peakRSS()
}

// resetPeakRSS clears VmHWM (Linux: writing 5 to clear_refs), so peakRSS
// measures from here.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in bytes, or 0 where /proc is not there.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// signInBurst registers one account and signs it in from n goroutines at
// once, each once.
func signInBurst(tb testing.TB, s *Service, n int) {
	ctx := context.Background()
	if _, _, err := s.Register(ctx, Registration{Email: "burst@example.com", Password: "password1", Name: "B"}); err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := s.Login(ctx, Credentials{Email: "burst@example.com", Password: "password1"}); err != nil {
				tb.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
}

// Sixteen sign-ins at once at the production cost stay well inside the
// memory budget: the hashing semaphore keeps at most DefaultConcurrency
// argon2 buffers alive, whatever the burst.
func TestSixteenConcurrentSignInsFitTheMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	s := newService(t, Config{Hashing: domain.DefaultParams, Limits: loose})
	heap, rss := peakMemory(func() { signInBurst(t, s, 16) })
	t.Logf("16 concurrent sign-ins, %d hashing slots of %d MiB: peak heap %d MiB, peak RSS %d MiB",
		s.Hasher().Concurrency(), domain.DefaultParams.Memory>>10, heap>>20, rss>>20)
	if heap >= memoryBudget || rss >= memoryBudget {
		t.Fatalf("peak heap %d MiB / RSS %d MiB: over the %d MiB budget", heap>>20, rss>>20, memoryBudget>>20)
	}
	if bound := uint64(s.Hasher().Concurrency()) * domain.DefaultParams.MemoryBytes(); bound > domain.HashMemoryBudget {
		t.Fatalf("the semaphore admits %d MiB of argon2 memory, over HashMemoryBudget", bound>>20)
	}
}
