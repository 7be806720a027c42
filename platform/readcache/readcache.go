// Package readcache holds answers to public reads in memory: an LRU capped
// both by entries and by bytes, and a call group so that one caller
// computes a missing answer while the others asking for it wait. The
// catalog and search modules keep their public answers in one each.
package readcache

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// EntryOverhead is what an entry costs beyond its key and value: the map
// slot, the list node and the entry's own fields, roughly.
const EntryOverhead = 160

// MaxKeyBytes is the longest key stored: answers to requests with longer
// ones (made-up slugs of kilobytes) are not worth the room they would take.
const MaxKeyBytes = 4096

// Caches of at least shardedFrom entries are split into shards shards.
const (
	shards      = 16
	shardedFrom = 1024
)

// LRU is a least-recently-used cache of values by string key, split into
// shards (each with its own lock and its share of the caps) so that readers
// on different keys rarely wait for one another. It never holds more than
// maxEntries entries or more than maxBytes of cost in total. Values are
// shared between callers: do not modify one after Put.
type LRU[V any] struct {
	seed   maphash.Seed
	shards []shard[V]
}

type shard[V any] struct {
	mu         sync.Mutex
	m          map[string]*node[V]
	head       node[V] // sentinel: head.next is the most recently used
	bytes      int64
	maxEntries int
	maxBytes   int64
	evicted    uint64
}

type node[V any] struct {
	key        string
	val        V
	cost       int64
	prev, next *node[V]
}

// New makes a cache of at most maxEntries entries and maxBytes bytes
// (both at least 1).
func New[V any](maxEntries int, maxBytes int64) *LRU[V] {
	maxEntries = max(maxEntries, 1)
	maxBytes = max(maxBytes, 1)
	n := 1
	if maxEntries >= shardedFrom {
		n = shards
	}
	c := &LRU[V]{seed: maphash.MakeSeed(), shards: make([]shard[V], n)}
	for i := range c.shards {
		s := &c.shards[i]
		s.m = map[string]*node[V]{}
		s.head.next, s.head.prev = &s.head, &s.head
		// Rounded down, so the shards together stay within the caps.
		s.maxEntries = maxEntries / n
		s.maxBytes = maxBytes / int64(n)
	}
	return c
}

func (c *LRU[V]) shard(key string) *shard[V] {
	if len(c.shards) == 1 {
		return &c.shards[0]
	}
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// Get returns the value of key and marks it as recently used.
func (c *LRU[V]) Get(key string) (V, bool) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	s.unlink(n)
	s.pushFront(n)
	return n.val, true
}

// Put stores v under key at the given cost in bytes (the key and
// EntryOverhead are added), evicting the least recently used entries to make
// room. A value too large for its shard, or a key longer than MaxKeyBytes,
// is not stored and Put reports false.
func (c *LRU[V]) Put(key string, v V, cost int) bool {
	if len(key) > MaxKeyBytes {
		return false
	}
	s := c.shard(key)
	total := int64(cost) + int64(len(key)) + EntryOverhead
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[key]; ok {
		s.remove(old)
	}
	if total > s.maxBytes {
		return false
	}
	for len(s.m) >= s.maxEntries || s.bytes+total > s.maxBytes {
		s.remove(s.head.prev)
		s.evicted++
	}
	n := &node[V]{key: key, val: v, cost: total}
	s.m[key] = n
	s.bytes += total
	s.pushFront(n)
	return true
}

// Stats are the cache's size and how many entries made room for others.
type Stats struct {
	Entries int
	Bytes   int64
	Evicted uint64
}

// Stats adds up the shards.
func (c *LRU[V]) Stats() Stats {
	var st Stats
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Entries += len(s.m)
		st.Bytes += s.bytes
		st.Evicted += s.evicted
		s.mu.Unlock()
	}
	return st
}

func (s *shard[V]) remove(n *node[V]) {
	s.unlink(n)
	delete(s.m, n.key)
	s.bytes -= n.cost
}

func (s *shard[V]) unlink(n *node[V]) {
	n.prev.next, n.next.prev = n.next, n.prev
}

func (s *shard[V]) pushFront(n *node[V]) {
	n.prev, n.next = &s.head, s.head.next
	s.head.next.prev = n
	s.head.next = n
}

// Group runs one computation per key at a time: callers asking for a key
// that is being computed wait for that result instead of computing it again
// (a burst of requests for an expired answer costs one database read).
type Group[V any] struct {
	mu    sync.Mutex
	calls map[string]*call[V]
}

type call[V any] struct {
	done chan struct{}
	val  V
	err  error
}

var errPanicked = errors.New("readcache: the computation panicked")

// ComputeTimeout bounds a computation: it does not end when the caller that
// started it goes away, since others may be waiting for it.
const ComputeTimeout = 10 * time.Second

// Go starts fn for key in the background unless a call for key is running
// (refresh-ahead: an answer about to expire is made again while callers are
// still served the current one). fn gets a context that keeps ctx's values
// but not its cancellation. Go reports whether it started fn.
func (g *Group[V]) Go(ctx context.Context, key string, fn func(context.Context) (V, error)) bool {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*call[V]{}
	}
	if _, ok := g.calls[key]; ok {
		g.mu.Unlock()
		return false
	}
	c := &call[V]{done: make(chan struct{})}
	g.calls[key] = c
	g.mu.Unlock()
	go func() {
		defer func() { _ = recover() }() // as Do, minus the caller to panic in
		g.run(ctx, key, c, fn)
	}()
	return true
}

// Do returns fn's result for key, running fn unless another call for key is
// running, in which case it waits for that one (or for ctx to end) and
// reports shared. fn gets a context that keeps ctx's values but not its
// cancellation.
func (g *Group[V]) Do(ctx context.Context, key string, fn func(context.Context) (V, error)) (v V, shared bool, err error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*call[V]{}
	}
	if c, ok := g.calls[key]; ok {
		g.mu.Unlock()
		select {
		case <-c.done:
			return c.val, true, c.err
		case <-ctx.Done():
			return v, true, ctx.Err()
		}
	}
	c := &call[V]{done: make(chan struct{})}
	g.calls[key] = c
	g.mu.Unlock()
	g.run(ctx, key, c, fn)
	return c.val, false, c.err
}

func (g *Group[V]) run(ctx context.Context, key string, c *call[V], fn func(context.Context) (V, error)) {
	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ComputeTimeout)
	defer cancel()
	c.err = errPanicked // what the waiters get if fn panics
	c.val, c.err = fn(fctx)
}

// Metrics are the cache's size gauges and eviction counter, named
// modshop_<name>_cache_{entries,bytes,evictions_total}; what says whose
// cache it is in their help texts ("the catalog's read cache").
func (c *LRU[V]) Metrics(name, what string) []prometheus.Collector {
	stat := func(f func(Stats) float64) func() float64 { return func() float64 { return f(c.Stats()) } }
	prefix := "modshop_" + name + "_cache_"
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: prefix + "entries", Help: "Answers in " + what + "."},
			stat(func(s Stats) float64 { return float64(s.Entries) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: prefix + "bytes", Help: "Estimated memory of " + what + "."},
			stat(func(s Stats) float64 { return float64(s.Bytes) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: prefix + "evictions_total", Help: "Answers dropped to keep " + what + " within its caps."},
			stat(func(s Stats) float64 { return float64(s.Evicted) })),
	}
}
