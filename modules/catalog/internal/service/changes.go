package service

import (
	"context"
	"sync"
	"time"

	"github.com/modshop/modshop/modules/catalog/internal/store"
)

// WatchEvery is how often a process reads the catalog's change count. A
// write of another process shows in this process's cached answers at most
// this long (plus one primary-key read) after its commit: well within the
// contract's 2 seconds, for 4 reads a second.
const WatchEvery = 250 * time.Millisecond

// changeLog is what this process knows of the catalog's change count
// (catalog_changes): the count it last read, and the counts its own writes
// made that it has not read yet. A count in between that is not its own was
// made by another process.
type changeLog struct {
	mu   sync.Mutex
	seen int64          // -1 before the first read
	own  map[int64]bool // counts of this process's writes above seen
}

// write runs fn in one store transaction, counts the change in it and then
// moves the generation, so this process's cache drops what the write may
// have changed at once, and the other processes' when they see the count.
// Every catalog write goes through it.
func (s *Service) write(ctx context.Context, fn func(tx *store.Tx) error) error {
	var n int64
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		var err error
		n, err = tx.CountChange()
		return err
	})
	if err == nil {
		s.changes.mu.Lock()
		if n > s.changes.seen {
			s.changes.own[n] = true
		}
		s.changes.mu.Unlock()
	}
	// Whatever the outcome: a failed commit only costs an extra cache miss.
	s.changed()
	return err
}

// changed marks a write.
func (s *Service) changed() { s.gen.Add(1) }

// Follow reads the change count once and moves the generation when another
// process changed the catalog since the last read. The first read moves it
// too: what this process cached before it cannot be vouched for.
func (s *Service) Follow(ctx context.Context) error {
	n, err := s.store.Changes(ctx)
	if err != nil {
		return err
	}
	s.changes.mu.Lock()
	seen := s.changes.seen
	// The first read, or a count gone back (a database put back from a
	// copy), says nothing about which writes were this process's.
	other := seen < 0 || n < seen
	for c := seen + 1; c <= n && !other; c++ {
		other = !s.changes.own[c]
	}
	for c := range s.changes.own {
		if c <= n || n < seen {
			delete(s.changes.own, c)
		}
	}
	s.changes.seen = n
	s.changes.mu.Unlock()
	if other {
		s.changed()
	}
	return nil
}

// Watcher follows the change count in the background (Follow every
// WatchEvery).
type Watcher struct {
	svc    *Service
	every  time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

// Watcher makes the worker that follows other processes' writes.
func (s *Service) Watcher(every time.Duration) *Watcher { return &Watcher{svc: s, every: every} }

// Start reads the count once, before the process serves reads, then
// follows it until Stop.
func (w *Watcher) Start(ctx context.Context) error {
	if err := w.follow(ctx); err != nil {
		w.svc.log.Warn("catalog change count unreadable; other processes' writes show within CatalogTTL until it is", "err", err)
	}
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.done = make(chan struct{})
	go w.run(ctx)
	return nil
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := w.follow(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			// Once per outage, not four times a second.
			w.svc.log.Warn("catalog change count unreadable; other processes' writes show within CatalogTTL until it is", "err", err)
			failing = true
		case err == nil && failing:
			w.svc.log.Info("catalog change count readable again")
			failing = false
		}
	}
}

// follow is one Follow, bounded so that a hung read does not stop the
// watcher for long.
func (w *Watcher) follow(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return w.svc.Follow(ctx)
}

// Stop ends the watcher and waits for it.
func (w *Watcher) Stop(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
