package httpapi

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/modules/catalog/internal/service"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/readcache"
)

// CacheConfig bounds the cache of the public reads (GET /v1/products,
// /v1/products/{id-or-slug}, /v1/categories).
type CacheConfig struct {
	// StockTTL is how old the `available`/`in_stock` of a cached answer may
	// get: inventory changes stock without telling the catalog. When it has
	// passed, the answer's stock is asked again (one Availability call) and
	// the catalog rows are kept.
	StockTTL time.Duration
	// CatalogTTL is how old the catalog rows of a cached answer may get.
	// Writes make them stale sooner: this process's at once, other
	// processes' (replicas, `modshop seed`) once the watcher has read the
	// change count (service.WatchEvery). It is the safety net for what the count
	// cannot tell: a write that does not count itself (SQL by hand, a
	// process of a version before the count) or a count that cannot be read.
	CatalogTTL time.Duration
	// MaxEntries and MaxBytes cap the cache (answers and the rows behind
	// them); the least recently used answers make room.
	MaxEntries int
	MaxBytes   int64
}

// DefaultCacheConfig is what the module runs with.
var DefaultCacheConfig = CacheConfig{
	StockTTL:   time.Second,
	CatalogTTL: 5 * time.Second,
	MaxEntries: 10_000,
	MaxBytes:   64 << 20,
}

// The answers the cache holds, as metric labels.
const (
	kindProducts   = "products"
	kindProduct    = "product"
	kindCategories = "categories"
)

// cache holds public answers as the bytes sent. An answer is served from it
// while (1) the catalog has not been written since it was read
// (service.Service.Generation: this process's writes at once, other processes'
// within service.WatchEvery), (2) its rows are younger than CatalogTTL, and (3)
// its stock is younger than StockTTL. When only (3) fails, the stock alone
// is asked again and the answer re-encoded only if it changed.
type cache struct {
	svc      *service.Service
	cfg      CacheConfig
	lru      *readcache.LRU[*entry]
	flight   readcache.Group[*entry]
	lookups  *prometheus.CounterVec
	counters map[string]*counters // by answer kind
	now      func() time.Time
}

// counters count, per answer kind, how requests were served and the
// renewals made ahead of expiry.
type counters struct {
	hit, ahead prometheus.Counter
	byWork     [3]prometheus.Counter // what a request waited for
}

// page is what the catalog answered for one request; shared by the entries
// that cache it, never changed.
type page struct {
	pretty   bool
	list     *service.Listing // GET /v1/products
	product  *api.Product     // GET /v1/products/{ref}
	notFound bool             // ... when there is no such published product
	cats     []api.Category   // GET /v1/categories
	skus     []string         // whose stock the answer shows
	size     int              // rough memory of the rows
}

// entry is one cached answer.
type entry struct {
	page    *page
	gen     uint64    // catalog generation the rows were read at
	loaded  time.Time // when the rows were read
	checked time.Time // when the stock was read; zero if inventory failed
	stock   service.Stock
	body    []byte
	etag    string
}

func newCache(svc *service.Service, cfg CacheConfig, reg prometheus.Registerer) *cache {
	c := &cache{
		svc: svc, cfg: cfg, now: time.Now,
		lru: readcache.New[*entry](cfg.MaxEntries, cfg.MaxBytes),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modshop_catalog_cache_requests_total",
			Help: "Public catalog reads by answer and how the cache served them: hit, miss (read from the database), stock (rows cached, stock asked again); ahead counts renewals in the background, not requests.",
		}, []string{"answer", "result"}),
		counters: map[string]*counters{},
	}
	for _, kind := range []string{kindProducts, kindProduct, kindCategories} {
		hit := c.lookups.WithLabelValues(kind, "hit")
		c.counters[kind] = &counters{hit: hit, ahead: c.lookups.WithLabelValues(kind, "ahead"),
			byWork: [3]prometheus.Counter{workNone: hit, workStock: c.lookups.WithLabelValues(kind, "stock"), workAll: c.lookups.WithLabelValues(kind, "miss")}}
	}
	if reg != nil {
		reg.MustRegister(append([]prometheus.Collector{c.lookups}, c.lru.Metrics("catalog", "the catalog's read cache")...)...)
	}
	return c
}

func (e *entry) cost() int {
	return len(e.body) + e.page.size + len(e.etag) + 8*len(e.stock)
}

// catalogFresh: no write seen since the rows were read, and they are
// younger than CatalogTTL.
func (c *cache) catalogFresh(e *entry, gen uint64, now time.Time) bool {
	return e.gen == gen && now.Sub(e.loaded) < c.cfg.CatalogTTL
}

func (c *cache) fresh(e *entry, gen uint64, now time.Time) bool {
	if !c.catalogFresh(e, gen, now) {
		return false
	}
	return len(e.page.skus) == 0 || (!e.checked.IsZero() && now.Sub(e.checked) < c.cfg.StockTTL)
}

// refreshAhead is the part of a TTL after which a request served a cached
// answer also starts renewing it in the background: a hot answer is made
// again before it expires, so no request waits for it, and none is served
// older than the TTL.
const refreshAhead = 0.8

func aging(since time.Time, ttl time.Duration, now time.Time) bool {
	return now.Sub(since) >= time.Duration(refreshAhead*float64(ttl))
}

// answer returns the cached answer of key, or makes it with load (one
// caller per key at a time; the others wait for it).
func (c *cache) answer(ctx context.Context, kind, key string, load func(context.Context) (*page, error)) (*entry, error) {
	ctr := c.counters[kind]
	gen, now := c.svc.Generation(), c.now()
	if e, ok := c.lru.Get(key); ok && c.fresh(e, gen, now) {
		ctr.hit.Inc()
		if c.aging(e, now) {
			c.flight.Go(ctx, key, func(ctx context.Context) (*entry, error) {
				e, work, err := c.renew(ctx, key, load)
				if err == nil && work != workNone {
					ctr.ahead.Inc()
				}
				return e, err
			})
		}
		return e, nil
	}
	var did prometheus.Counter
	renew := func(ctx context.Context) (*entry, error) {
		e, work, err := c.renew(ctx, key, load)
		did = ctr.byWork[work]
		return e, err
	}
	e, shared, err := c.flight.Do(ctx, key, renew)
	if shared && err == nil && e.gen < gen {
		// Joined a renewal that read the catalog before a write this caller
		// has seen the end of: once more. A call running now started after
		// that one ended, so after this caller read the generation.
		e, shared, err = c.flight.Do(ctx, key, renew)
	}
	switch {
	case err != nil:
	case shared:
		ctr.hit.Inc()
	default:
		did.Inc()
	}
	return e, err
}

// aging: the answer is fresh, but will not be for long.
func (c *cache) aging(e *entry, now time.Time) bool {
	return aging(e.loaded, c.cfg.CatalogTTL, now) ||
		(len(e.page.skus) > 0 && aging(e.checked, c.cfg.StockTTL, now))
}

// What renew did.
const (
	workNone  = iota // the answer was fresh already
	workStock        // asked inventory, kept the rows
	workAll          // read everything
)

// renew makes the answer of key again: only its stock when its rows are
// good for a while yet, else everything. It reads the generation first,
// then the time, then the database: rows read after this cannot be older
// than a write that bumped the generation.
func (c *cache) renew(ctx context.Context, key string, load func(context.Context) (*page, error)) (*entry, int, error) {
	gen, now := c.svc.Generation(), c.now()
	old, ok := c.lru.Get(key)
	switch {
	case ok && c.fresh(old, gen, now) && !c.aging(old, now): // renewed while this caller waited
		return old, workNone, nil
	case ok && c.catalogFresh(old, gen, now) && !aging(old.loaded, c.cfg.CatalogTTL, now):
		e, err := c.restock(ctx, old, now)
		if err != nil {
			return nil, workStock, err
		}
		c.lru.Put(key, e, e.cost())
		return e, workStock, nil
	}
	p, err := load(ctx)
	if err != nil {
		return nil, workAll, err
	}
	e := &entry{page: p, gen: gen, loaded: now}
	if err := c.fill(ctx, e, now); err != nil {
		return nil, workAll, err
	}
	c.lru.Put(key, e, e.cost())
	return e, workAll, nil
}

// fill asks for the stock of a new entry and encodes it.
func (c *cache) fill(ctx context.Context, e *entry, now time.Time) error {
	if len(e.page.skus) > 0 {
		e.stock, e.checked = c.stockOf(ctx, e.page.skus, now)
	}
	var err error
	e.body, e.etag, err = render(e.page, e.stock)
	return err
}

// restock is old with its stock asked again; the body is encoded again only
// when the stock changed.
func (c *cache) restock(ctx context.Context, old *entry, now time.Time) (*entry, error) {
	e := *old
	e.stock, e.checked = c.stockOf(ctx, old.page.skus, now)
	if maps.Equal(e.stock, old.stock) {
		e.stock = old.stock
		return &e, nil
	}
	var err error
	e.body, e.etag, err = render(e.page, e.stock)
	return &e, err
}

// stockOf asks inventory; when it fails, the answer shows no stock (as
// without the cache) and is marked to ask again on the next request.
func (c *cache) stockOf(ctx context.Context, skus []string, now time.Time) (service.Stock, time.Time) {
	st, err := c.svc.Stock(ctx, skus)
	if err != nil {
		return st, time.Time{}
	}
	return st, now
}

// render encodes the answer as echo's c.JSON would (HTML-safe escaping,
// a final newline, two-space indent with ?pretty) and its ETag.
func render(p *page, stock service.Stock) (body []byte, etag string, err error) {
	var v any
	switch {
	case p.list != nil:
		l := *p.list
		l.Stock = stock
		v = listOut(l)
	case p.product != nil:
		v = productOut(*p.product, stock)
	case p.cats != nil:
		v = CategoryList{Items: p.cats}
	default: // not found: nothing to encode
		return nil, "", nil
	}
	return httpx.EncodeJSON(v, p.pretty)
}

// listPage, productPage and categoriesPage make the pages of the answers.
func listPage(l service.Listing, pretty bool) *page {
	p := &page{pretty: pretty, list: &l}
	for _, pr := range l.Products {
		p.size += productSize(pr)
		for _, v := range pr.Variants {
			p.skus = append(p.skus, v.SKU)
		}
	}
	return p
}

func productPage(pr api.Product, pretty bool) *page {
	p := &page{pretty: pretty, product: &pr, size: productSize(pr)}
	for _, v := range pr.Variants {
		p.skus = append(p.skus, v.SKU)
	}
	return p
}

func categoriesPage(cs []api.Category, pretty bool) *page {
	if cs == nil {
		cs = []api.Category{}
	}
	p := &page{pretty: pretty, cats: cs}
	for _, c := range cs {
		p.size += 96 + len(c.ID) + len(c.Slug) + len(c.Name)
	}
	return p
}

// productSize estimates the memory of a product's strings and structs.
func productSize(p api.Product) int {
	n := 256 + len(p.ID) + len(p.Slug) + len(p.Title) + len(p.Description)
	for _, v := range p.Variants {
		n += 160 + len(v.ID) + 2*len(v.SKU) + len(v.Title)
		for k, a := range v.Attributes {
			n += 48 + len(k) + len(a)
		}
	}
	return n
}

// Cache keys: the answer, "p" for ?pretty, then the normalized request;
// strings that are not last are length-prefixed, so no two requests share a
// key.
func listKey(r service.ListRequest, pretty bool) string {
	var b strings.Builder
	b.WriteString("l")
	writePretty(&b, pretty)
	b.WriteString(strconv.Itoa(len(r.Category)))
	b.WriteByte(':')
	b.WriteString(r.Category)
	for _, p := range []*int64{r.MinPrice, r.MaxPrice} {
		b.WriteByte('|')
		if p != nil {
			b.WriteString(strconv.FormatInt(*p, 10))
		}
	}
	b.WriteByte('|')
	b.WriteString(r.Sort)
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(r.Limit))
	b.WriteByte('|')
	b.WriteString(r.Cursor)
	return b.String()
}

func productKey(ref string, pretty bool) string {
	if pretty {
		return "dp|" + ref
	}
	return "d|" + ref
}

func categoriesKey(pretty bool) string {
	if pretty {
		return "cp|"
	}
	return "c|"
}

func writePretty(b *strings.Builder, pretty bool) {
	if pretty {
		b.WriteString("p|")
	} else {
		b.WriteString("|")
	}
}

// writeEntry sends a cached answer, or 304 when the client has it.
func writeEntry(c echo.Context, e *entry) error { return httpx.CachedJSON(c, e.body, e.etag) }
