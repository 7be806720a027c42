package httpapi

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modshop/modshop/modules/search/internal/engine"
	"github.com/modshop/modshop/modules/search/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/readcache"
)

// CacheConfig bounds the cache of GET /v1/search answers.
type CacheConfig struct {
	// TTL is how long an answer is served while the index has not changed
	// (a change makes it stale at once). It bounds the age of what the
	// answer shows from outside the index: category names and slugs in the
	// facets.
	TTL time.Duration
	// MaxEntries and MaxBytes cap the cache; the least recently used
	// answers make room.
	MaxEntries int
	MaxBytes   int64
}

// DefaultCacheConfig is what the module runs with; module.go sets MaxBytes
// from MODSHOP_READ_CACHE_MIB.
var DefaultCacheConfig = CacheConfig{TTL: time.Second, MaxEntries: 10_000, MaxBytes: 8 << 20}

// cache holds search answers as the bytes sent, valid while the index
// generation they were computed at is current and for at most TTL.
type cache struct {
	svc     *service.Service
	cfg     CacheConfig
	lru     *readcache.LRU[*entry]
	flight  readcache.Group[*entry]
	lookups *prometheus.CounterVec
	// hit and miss count requests; ahead counts renewals in the background.
	hit, miss, ahead prometheus.Counter
	now              func() time.Time
}

type entry struct {
	gen     uint64 // index generation the search ran at
	expires time.Time
	body    []byte
	etag    string
	value   any // what body encodes (a Result), for api.Searcher
}

func newCache(svc *service.Service, cfg CacheConfig, reg prometheus.Registerer) *cache {
	c := &cache{
		svc: svc, cfg: cfg, now: time.Now,
		lru: readcache.New[*entry](cfg.MaxEntries, cfg.MaxBytes),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modshop_search_cache_requests_total",
			Help: "Searches by how the cache served them: hit or miss (run on the index); ahead counts renewals in the background, not requests.",
		}, []string{"result"}),
	}
	c.hit, c.miss, c.ahead = c.lookups.WithLabelValues("hit"), c.lookups.WithLabelValues("miss"), c.lookups.WithLabelValues("ahead")
	if reg != nil {
		reg.MustRegister(append([]prometheus.Collector{c.lookups}, c.lru.Metrics("search", "the search cache")...)...)
	}
	return c
}

func (c *cache) fresh(e *entry, gen uint64, now time.Time) bool {
	return e.gen == gen && now.Before(e.expires)
}

// refreshAhead is the part of the TTL after which a request served a
// cached answer also starts renewing it in the background: a hot answer is
// made again before it expires, so no request waits for it, and none is
// served older than the TTL.
const refreshAhead = 0.8

// answer returns the cached answer of key or computes it with search (one
// caller per key at a time; the others wait for it).
func (c *cache) answer(ctx context.Context, key string, search func(context.Context) (any, error), pretty bool) (*entry, error) {
	gen, now := c.svc.IndexGeneration(), c.now()
	if e, ok := c.lru.Get(key); ok && c.fresh(e, gen, now) {
		c.hit.Inc()
		if c.aging(e, now) {
			c.flight.Go(ctx, key, func(ctx context.Context) (*entry, error) {
				e, ran, err := c.renew(ctx, key, search, pretty)
				if ran && err == nil {
					c.ahead.Inc()
				}
				return e, err
			})
		}
		return e, nil
	}
	ran := false
	renew := func(ctx context.Context) (*entry, error) {
		var e *entry
		var err error
		e, ran, err = c.renew(ctx, key, search, pretty)
		return e, err
	}
	e, shared, err := c.flight.Do(ctx, key, renew)
	if shared && err == nil && e.gen < gen {
		// Joined a search that ran before an index write this caller has
		// seen the end of: once more. A call running now started after
		// that one ended, so after this caller read the generation.
		e, shared, err = c.flight.Do(ctx, key, renew)
	}
	switch {
	case err != nil:
	case ran && !shared:
		c.miss.Inc()
	default:
		c.hit.Inc()
	}
	return e, err
}

func (c *cache) aging(e *entry, now time.Time) bool {
	return !now.Before(e.expires.Add(-time.Duration((1 - refreshAhead) * float64(c.cfg.TTL))))
}

// renew runs the search again unless its answer was renewed while this
// caller waited; it reports whether it ran. The generation is read before
// the search: a write that lands while it runs makes this answer stale at
// once.
func (c *cache) renew(ctx context.Context, key string, search func(context.Context) (any, error), pretty bool) (*entry, bool, error) {
	gen, now := c.svc.IndexGeneration(), c.now()
	if e, ok := c.lru.Get(key); ok && c.fresh(e, gen, now) && !c.aging(e, now) {
		return e, false, nil
	}
	v, err := search(ctx)
	if err != nil {
		return nil, true, err
	}
	e := &entry{gen: gen, expires: now.Add(c.cfg.TTL), value: v}
	if e.body, e.etag, err = render(v, pretty); err != nil {
		return nil, true, err
	}
	// The value takes about as much memory as its encoding.
	c.lru.Put(key, e, 2*len(e.body)+len(e.etag))
	return e, true, nil
}

// render encodes v as echo's c.JSON would (HTML-safe escaping, a final
// newline, two-space indent with ?pretty) and its ETag.
func render(v any, pretty bool) (body []byte, etag string, err error) {
	return httpx.EncodeJSON(v, pretty)
}

// key is the cache key of a search: what decides its answer, normalized
// (the text as the engine reads it, the default sort named); strings that
// are not last are length-prefixed, so no two searches share a key.
func key(q service.Query, pretty bool) string {
	text := q.Text
	if len(text) > engine.MaxQueryTextBytes {
		text = text[:engine.MaxQueryTextBytes] // the engine ignores the rest
	}
	text = strings.TrimSpace(text)
	sort := q.Sort
	if sort == "" {
		sort = engine.SortRelevance
	}
	var b strings.Builder
	b.Grow(len(text) + len(q.Category) + len(q.Cursor) + 48)
	if pretty {
		b.WriteString("p")
	}
	for _, s := range []string{text, q.Category} {
		b.WriteByte('|')
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	for _, p := range []*int64{q.MinPrice, q.MaxPrice} {
		b.WriteByte('|')
		if p != nil {
			b.WriteString(strconv.FormatInt(*p, 10))
		}
	}
	b.WriteByte('|')
	if q.InStock != nil {
		b.WriteString(strconv.FormatBool(*q.InStock))
	}
	b.WriteByte('|')
	b.WriteString(sort)
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(q.Limit))
	b.WriteByte('|')
	b.WriteString(q.Cursor)
	return b.String()
}

// writeEntry sends a cached answer, or 304 when the client has it.
func writeEntry(c echo.Context, e *entry) error { return httpx.CachedJSON(c, e.body, e.etag) }
