package readcache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLRUStaysWithinCaps puts many keys of random sizes, as hostile
// queries would, and checks both caps after every Put, sharded or not.
func TestLRUStaysWithinCaps(t *testing.T) {
	for _, tc := range []struct {
		entries int
		bytes   int64
	}{{50, 1 << 20}, {10_000, 256 << 10}, {2000, 64 << 20}} {
		t.Run(fmt.Sprintf("%d entries %d bytes", tc.entries, tc.bytes), func(t *testing.T) {
			c := New[int](tc.entries, tc.bytes)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range 30_000 {
				c.Put(fmt.Sprintf("key-%d-%s", i, make([]byte, r.IntN(64))), i, r.IntN(4096))
				if i%97 == 0 {
					st := c.Stats()
					if st.Entries > tc.entries || st.Bytes > tc.bytes {
						t.Fatalf("after %d puts: %d entries, %d bytes; caps %d, %d", i+1, st.Entries, st.Bytes, tc.entries, tc.bytes)
					}
				}
			}
			st := c.Stats()
			if st.Entries > tc.entries || st.Bytes > tc.bytes || st.Evicted == 0 {
				t.Fatalf("%+v; caps %d, %d; want evictions", st, tc.entries, tc.bytes)
			}
		})
	}
}

func TestLRUEvictsTheLeastRecentlyUsed(t *testing.T) {
	c := New[string](3, 1<<20)
	for _, k := range []string{"a", "b", "c"} {
		c.Put(k, k, 10)
	}
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.Put("d", "d", 10)
	if _, ok := c.Get("b"); ok {
		t.Error("b, the least recently used, survived")
	}
	for _, k := range []string{"a", "c", "d"} {
		if v, ok := c.Get(k); !ok || v != k {
			t.Errorf("%s: %q %v", k, v, ok)
		}
	}
	// Replacing a key does not count it twice.
	c.Put("d", "D", 20)
	if st := c.Stats(); st.Entries != 3 || st.Bytes != 10+10+20+3*(1+EntryOverhead) {
		t.Errorf("after replacing d: %+v", st)
	}
}

func TestLRURefusesWhatCannotFit(t *testing.T) {
	c := New[int](10, 1000)
	c.Put("small", 1, 10)
	if c.Put("huge", 2, 5000) {
		t.Fatal("stored a value larger than the cache")
	}
	if _, ok := c.Get("huge"); ok {
		t.Fatal("huge is there")
	}
	if _, ok := c.Get("small"); !ok {
		t.Fatal("a refused value evicted another")
	}
	long := strings.Repeat("k", MaxKeyBytes+1)
	if c.Put(long, 3, 1) {
		t.Fatal("stored a key longer than MaxKeyBytes")
	}
}

func TestGroupComputesOncePerKey(t *testing.T) {
	var g Group[int]
	var runs, shared atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 40 {
		wg.Go(func() {
			<-start
			v, sh, err := g.Do(context.Background(), "k", func(context.Context) (int, error) {
				runs.Add(1)
				time.Sleep(100 * time.Millisecond)
				return 42, nil
			})
			if v != 42 || err != nil {
				t.Errorf("got %d, %v", v, err)
			}
			if sh {
				shared.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if runs.Load() != 1 || shared.Load() != 39 {
		t.Fatalf("%d runs, %d shared; want 1 and 39", runs.Load(), shared.Load())
	}
	// Done: the next call runs again.
	if _, sh, _ := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 1, nil }); sh {
		t.Fatal("a finished call was shared")
	}
}

// A waiter whose own request ends stops waiting; the computation goes on
// without the cancellation of the caller that started it.
func TestGroupCancellation(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	done := make(chan error, 1)
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	go func() {
		_, _, err := g.Do(leaderCtx, "k", func(ctx context.Context) (int, error) {
			<-release
			return 1, ctx.Err()
		})
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, _, err := g.Do(ctx, "k", func(context.Context) (int, error) { return 2, nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter: %v", err)
	}
	cancelLeader()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the computation saw its caller's cancellation: %v", err)
	}
}

func TestGroupPanicReleasesWaiters(t *testing.T) {
	var g Group[int]
	entered := make(chan struct{})
	go func() {
		defer func() { _ = recover() }()
		_, _, _ = g.Do(context.Background(), "k", func(context.Context) (int, error) {
			close(entered)
			time.Sleep(50 * time.Millisecond)
			panic("boom")
		})
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := g.Do(ctx, "k", func(context.Context) (int, error) { return 1, nil }); !errors.Is(err, errPanicked) {
		t.Fatalf("waiter got %v, want errPanicked", err)
	}
}

// TestGroupGo: a background computation runs once per key, and a caller
// that asks meanwhile gets its result instead of computing again.
func TestGroupGo(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	var runs atomic.Int64
	fn := func(context.Context) (int, error) { runs.Add(1); <-release; return 7, nil }
	if !g.Go(context.Background(), "k", fn) {
		t.Fatal("Go did not start")
	}
	if g.Go(context.Background(), "k", fn) {
		t.Fatal("a second Go started while the first runs")
	}
	go func() { time.Sleep(30 * time.Millisecond); close(release) }()
	v, shared, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 0, errors.New("ran again") })
	if v != 7 || !shared || err != nil || runs.Load() != 1 {
		t.Fatalf("Do during Go: %d %v %v, %d runs", v, shared, err, runs.Load())
	}
}
