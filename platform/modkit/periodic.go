package modkit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Periodic is a background worker that runs one function, a pass, every
// interval: the cart cleanup, the reservation sweeper, the token janitor,
// the checkout recovery, the search indexer. A pass's error is logged
// (with the worker's name) and the next pass runs on time; it never stops
// the worker. Start and Stop fit fx lifecycle hooks and Worker.
//
// The first pass runs as soon as the worker starts (or inside Start, with
// RunOnStart); after that, one every interval, or sooner when Wake is
// called. Passes never overlap. A pass that takes longer than the interval
// is followed at once by the next one, not by several.
type Periodic struct {
	name   string
	every  time.Duration
	run    func(context.Context) error
	log    *slog.Logger
	inline bool
	wake   chan struct{}

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// PeriodicOption changes a Periodic.
type PeriodicOption func(*Periodic)

// WithLogger logs the passes' errors to l instead of slog.Default().
func WithLogger(l *slog.Logger) PeriodicOption {
	return func(p *Periodic) { p.log = l }
}

// RunOnStart runs the first pass inside Start, before it returns, so the
// process starts serving only after it (its error is logged, not returned);
// the next pass runs an interval later.
func RunOnStart() PeriodicOption {
	return func(p *Periodic) { p.inline = true }
}

// NewPeriodic makes the worker name that runs run every interval every.
// run gets a context that ends when the worker is stopped.
func NewPeriodic(name string, every time.Duration, run func(ctx context.Context) error, opts ...PeriodicOption) *Periodic {
	p := &Periodic{name: name, every: every, run: run, log: slog.Default(), wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Worker is the Periodic as a module's background worker (modkit.Workers).
func (p *Periodic) Worker() Worker {
	return Worker{Name: p.name, Start: p.Start, Stop: p.Stop}
}

// Start begins the passes in the background and returns (after the first
// pass with RunOnStart). Starting a running worker does nothing; a stopped
// worker may be started again.
func (p *Periodic) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		return nil
	}
	// The passes outlive Start's context (fx cancels it once started) but
	// keep its values.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	first := true
	if p.inline {
		p.pass(runCtx)
		first = false
	}
	p.cancel, p.done = cancel, make(chan struct{})
	go p.loop(runCtx, p.done, first)
	return nil
}

// Stop ends the worker: it cancels the pass in progress, if any, and waits
// for it to return, or for ctx to end (then it returns ctx's error and the
// pass finishes on its own). Stopping a stopped worker does nothing.
func (p *Periodic) Stop(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	done := p.done
	p.cancel, p.done = nil, nil
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wake asks for a pass soon: at once if none is running, else right after
// the one that is. Wakes while one is pending are merged into it.
func (p *Periodic) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Periodic) loop(ctx context.Context, done chan struct{}, first bool) {
	defer close(done)
	t := time.NewTicker(p.every)
	defer t.Stop()
	if !first {
		if !p.wait(ctx, t) {
			return
		}
	}
	for {
		p.pass(ctx)
		if !p.wait(ctx, t) {
			return
		}
	}
}

// wait waits for the next tick or wake; false once the worker is stopped.
func (p *Periodic) wait(ctx context.Context, t *time.Ticker) bool {
	select {
	case <-ctx.Done():
	case <-p.wake:
	case <-t.C:
	}
	return ctx.Err() == nil // a tick that came with the stop runs no pass
}

func (p *Periodic) pass(ctx context.Context) {
	if err := p.run(ctx); err != nil && ctx.Err() == nil {
		p.log.Warn("background pass failed", "worker", p.name, "err", err)
	}
}
