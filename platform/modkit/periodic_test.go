package modkit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/modkit"
)

// eventually fails the test unless cond holds within 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func stop(t *testing.T, p *modkit.Periodic) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestPeriodicRunsAtOnceThenEveryTick(t *testing.T) {
	var n atomic.Int32
	p := modkit.NewPeriodic("t.ticks", 10*time.Millisecond, func(context.Context) error { n.Add(1); return nil })
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "three passes", func() bool { return n.Load() >= 3 })
	stop(t, p)
	after := n.Load()
	time.Sleep(50 * time.Millisecond)
	if got := n.Load(); got != after {
		t.Fatalf("passes after Stop: %d, then %d", after, got)
	}
}

func TestPeriodicFirstPassDoesNotWaitForTheInterval(t *testing.T) {
	ran := make(chan struct{}, 10)
	p := modkit.NewPeriodic("t.first", time.Hour, func(context.Context) error { ran <- struct{}{}; return nil })
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer stop(t, p)
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("no first pass within 5s of Start with an interval of an hour")
	}
}

func TestPeriodicRunOnStartRunsTheFirstPassInsideStart(t *testing.T) {
	var n atomic.Int32
	p := modkit.NewPeriodic("t.inline", time.Hour, func(context.Context) error { n.Add(1); return nil }, modkit.RunOnStart())
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 1 {
		t.Fatalf("passes when Start returned: %d, want 1", got)
	}
	time.Sleep(30 * time.Millisecond)
	stop(t, p)
	if got := n.Load(); got != 1 {
		t.Fatalf("passes before the first interval ended: %d, want 1", got)
	}
}

func TestPeriodicStopDuringAPassWaitsForIt(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	p := modkit.NewPeriodic("t.slow", time.Hour, func(ctx context.Context) error {
		close(started)
		<-ctx.Done() // the pass sees the stop ...
		time.Sleep(50 * time.Millisecond)
		finished.Store(true) // ... and takes a while to wind down
		return ctx.Err()
	})
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-started
	stop(t, p)
	if !finished.Load() {
		t.Fatal("Stop returned before the pass in progress did")
	}
}

func TestPeriodicStopGivesUpWhenItsContextEnds(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	p := modkit.NewPeriodic("t.stuck", time.Hour, func(context.Context) error {
		close(started)
		<-release // ignores cancellation
		return nil
	})
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop of a stuck pass: %v, want the context's deadline", err)
	}
	close(release)
}

func TestPeriodicStopIsIdempotent(t *testing.T) {
	p := modkit.NewPeriodic("t.idem", time.Hour, func(context.Context) error { return nil })
	if err := p.Stop(t.Context()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stop(t, p)
	stop(t, p)
	// and a stopped worker starts again
	var n atomic.Int32
	q := modkit.NewPeriodic("t.restart", time.Hour, func(context.Context) error { n.Add(1); return nil })
	for range 2 {
		if err := q.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a pass after Start", func() bool { return n.Load() > 0 })
		stop(t, q)
		n.Store(0)
	}
}

func TestPeriodicStartTwiceRunsOneLoop(t *testing.T) {
	var running, most atomic.Int32
	p := modkit.NewPeriodic("t.twice", time.Millisecond, func(context.Context) error {
		r := running.Add(1)
		for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		running.Add(-1)
		return nil
	})
	for range 2 {
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	stop(t, p)
	if got := most.Load(); got != 1 {
		t.Fatalf("passes at once: %d, want 1", got)
	}
}

// syncBuffer is a bytes.Buffer a logger and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPeriodicLogsAFailedPassAndGoesOn(t *testing.T) {
	var logs syncBuffer
	var n atomic.Int32
	p := modkit.NewPeriodic("t.failing", 5*time.Millisecond, func(context.Context) error {
		if n.Add(1) == 1 {
			return errors.New("disk on fire")
		}
		return nil
	}, modkit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a pass after the failed one", func() bool { return n.Load() >= 2 })
	stop(t, p)
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "worker=t.failing") || !strings.Contains(out, "disk on fire") {
		t.Fatalf("the failed pass was not logged with the worker and the error: %q", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want one log line, for the one failed pass: %q", out)
	}
}

func TestPeriodicErrorOfAStoppedPassIsNotLogged(t *testing.T) {
	var logs syncBuffer
	started := make(chan struct{})
	p := modkit.NewPeriodic("t.cancelled", time.Hour, func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}, modkit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-started
	stop(t, p)
	if out := logs.String(); out != "" {
		t.Fatalf("a pass cut short by Stop was logged as failed: %q", out)
	}
}

func TestPeriodicWakeRunsAPassBeforeTheTick(t *testing.T) {
	var n atomic.Int32
	p := modkit.NewPeriodic("t.wake", time.Hour, func(context.Context) error { n.Add(1); return nil })
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer stop(t, p)
	eventually(t, "the first pass", func() bool { return n.Load() == 1 })
	p.Wake()
	eventually(t, "a pass after Wake", func() bool { return n.Load() == 2 })
}

func TestPeriodicWorker(t *testing.T) {
	var n atomic.Int32
	w := modkit.NewPeriodic("t.worker", time.Hour, func(context.Context) error { n.Add(1); return nil }).Worker()
	if w.Name != "t.worker" {
		t.Fatalf("Worker name %q", w.Name)
	}
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a pass", func() bool { return n.Load() == 1 })
	if err := w.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}
