package engine

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/testkit/cputime"
)

// The benchmarks share one on-disk index of benchCorpusSize products, built
// on first use (bulk load, then Compact; the time and size are printed) and
// removed by TestMain. Set ENGINE_BENCH_MEM=1 to benchmark the in-memory
// index instead, or ENGINE_BENCH_DIR=path to keep the index between runs (it
// is reused when it holds the whole corpus).
//
//	go test ./modules/search/internal/engine/ -run '^$' -bench . -benchtime 3s
//
// Metrics: p50/p99/max-ms are wall-clock latencies per search; cpu-ms/op is
// process CPU time per search (including GC and background merging);
// p50/p99/max-cpu-ms (one client only, Linux) are the CPU time of the
// searching thread per search. On a machine shared with other work, wall
// time includes waiting for a core; the CPU figures do not. conc=N runs N
// clients back to back (b.RunParallel; 64 on 2 cores is a saturated closed
// loop, so latency there is queueing: about N/cores × CPU time per search).

const benchCorpusSize = 100_000

var (
	adjectives = strings.Fields(`black white red blue green grey navy beige brown pink yellow orange purple
		classic modern vintage slim relaxed oversized lightweight heavy durable soft warm breathable
		waterproof windproof insulated padded quilted stretch ergonomic compact portable foldable
		adjustable wireless rechargeable premium essential everyday outdoor urban casual formal sporty
		minimalist rugged handmade organic recycled eco luxury professional ultralight thermal cozy`)
	materials = strings.Fields(`cotton linen wool merino cashmere silk denim leather suede canvas nylon
		polyester fleece bamboo oak walnut maple steel aluminum titanium ceramic porcelain glass copper
		brass rubber silicone cork hemp jute velvet`)
	brands = strings.Fields(`northpeak aurora solstice everline brightwood kestrel lumen terra oakridge
		bluefin copperleaf driftwood ironclad juniper maplestone nordvik pinecrest quarry redtail
		saltmarsh tidewater umbra vantage westbrook yarrow zephyr alder birchwood cinder dune ember
		fjord glacier harbor isle larkspur meridian nimbus orchard`)
	// fillers are generic description words; most description words come
	// from here.
	fillers = strings.Fields(`the a and with for your to of in on by from this that is are it our you
		made designed perfect ideal great everyday use comfort fit style quality feel look finish
		built crafted features offers keeps gives makes pairs easy care machine wash dry clean
		day night season year round weekend travel work office home kitchen garden trail city
		weather rain wind cold heat sun summer winter spring autumn layer pocket pockets zip zipper
		button closure strap handle lining sole grip cushion support arch heel toe collar cuff hem
		seam stitch detail classic timeless versatile reliable sturdy lasting gentle smooth rich
		natural finish color colour size sizes fits true small medium large extra long short wide
		narrow light dark bright deep matte glossy textured woven knitted brushed polished
		sustainably sourced responsibly ethically produced certified tested approved guaranteed
		warranty lifetime gift ready packaging box set piece pieces includes included pair pairs`)
	// syllables make up long-tail words (model names, rare terms) so the
	// term dictionaries have a realistic size for typo and prefix expansion.
	syllables = strings.Fields(`ka lo mi ra ven tor sul bri dax el fen gor hal ix jun kel mor nal
		ost pra quin rys sel tav ul vor wen xan yel zor`)
)

// benchTree is the category tree: 4 roots, 12 mids, 24 leaves (40
// categories), each leaf with its product nouns.
var benchTree = []struct {
	root string
	mids [3][2][]string // mid -> leaf -> nouns
}{
	{"apparel", [3][2][]string{
		{{"shirt", "tshirt", "blouse", "polo"}, {"sweater", "hoodie", "cardigan", "jumper"}},
		{{"jacket", "parka", "vest", "windbreaker"}, {"coat", "raincoat", "trench", "poncho"}},
		{{"sneakers", "shoes", "loafers", "trainers"}, {"boots", "sandals", "slippers", "clogs"}},
	}},
	{"accessories", [3][2][]string{
		{{"backpack", "rucksack", "daypack"}, {"tote", "handbag", "duffel", "wallet"}},
		{{"necklace", "bracelet", "earrings", "ring"}, {"watch", "smartwatch", "strap"}},
		{{"hat", "cap", "beanie"}, {"scarf", "gloves", "belt", "socks"}},
	}},
	{"home", [3][2][]string{
		{{"skillet", "pan", "pot", "kettle"}, {"mug", "cup", "bowl", "plate", "teapot"}},
		{{"chair", "stool", "sofa", "bench"}, {"table", "desk", "shelf", "cabinet"}},
		{{"rug", "blanket", "pillow", "towel"}, {"lamp", "candle", "vase", "planter"}},
	}},
	{"gear", [3][2][]string{
		{{"headphones", "earbuds", "speaker"}, {"charger", "cable", "keyboard", "mouse"}},
		{{"tent", "tarp", "hammock"}, {"stove", "lantern", "cooler", "thermos"}},
		{{"bottle", "tumbler", "mat", "dumbbell"}, {"bike", "helmet", "pump", "lock"}},
	}},
}

type benchLeaf struct {
	path  []string // root, mid, leaf ids
	nouns []string
	root  int
}

func benchLeaves() []benchLeaf {
	var leaves []benchLeaf
	for r, root := range benchTree {
		rootID := fmt.Sprintf("c%d", r)
		for m, mid := range root.mids {
			midID := fmt.Sprintf("%s-%d", rootID, m)
			for l, nouns := range mid {
				leaves = append(leaves, benchLeaf{
					path: []string{rootID, midID, fmt.Sprintf("%s-%d", midID, l)}, nouns: nouns, root: r,
				})
			}
		}
	}
	return leaves
}

// benchDocs builds the deterministic corpus. Titles are "Brand Adjective
// Material Noun [model]"; descriptions are mostly generic words, about a
// sixth words about the product itself, and some mentions of other
// products, materials and adjectives, plus rare long-tail words.
func benchDocs(n int) []Document {
	rng := rand.New(rand.NewPCG(42, 4242))
	leaves := benchLeaves()
	skewed := func(k int) int {
		// Skewed towards the start of a list, like real word frequencies.
		return int(math.Floor(math.Pow(rng.Float64(), 2) * float64(k)))
	}
	pick := func(list []string) string { return list[skewed(len(list))] }
	longTail := func() string {
		k := 2 + rng.IntN(3)
		var sb strings.Builder
		for range k {
			sb.WriteString(syllables[rng.IntN(len(syllables))])
		}
		return sb.String()
	}
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]Document, n)
	for i := range docs {
		leaf := leaves[skewed(len(leaves))]
		brand := brands[rng.IntN(len(brands))]
		adj, mat := pick(adjectives), pick(materials)
		noun := leaf.nouns[rng.IntN(len(leaf.nouns))]
		title := fmt.Sprintf("%s %s %s %s", cap1(brand), cap1(adj), cap1(mat), cap1(noun))
		if rng.IntN(3) == 0 {
			title += " " + strings.ToUpper(longTail()[:3]) + fmt.Sprint(100+rng.IntN(900))
		}
		own := []string{noun, noun, mat, adj, cap1(brand)}
		words := 20 + rng.IntN(41)
		desc := make([]string, 0, words)
		for range words {
			switch r := rng.IntN(100); {
			case r < 62:
				desc = append(desc, pick(fillers))
			case r < 78:
				desc = append(desc, own[rng.IntN(len(own))])
			case r < 86:
				desc = append(desc, pick(adjectives))
			case r < 89:
				desc = append(desc, pick(materials))
			case r < 92:
				// Another product of the same root ("pairs with jeans").
				other := leaves[rng.IntN(len(leaves))]
				for other.root != leaf.root {
					other = leaves[rng.IntN(len(leaves))]
				}
				desc = append(desc, other.nouns[rng.IntN(len(other.nouns))])
			case r < 93:
				other := leaves[rng.IntN(len(leaves))]
				desc = append(desc, other.nouns[rng.IntN(len(other.nouns))])
			default:
				desc = append(desc, longTail())
			}
		}
		desc[0] = cap1(desc[0])
		// Prices spread log-uniformly over 100..200000 minor units.
		price := int64(math.Exp(math.Log(100) + rng.Float64()*(math.Log(200000)-math.Log(100))))
		docs[i] = Document{
			ProductID:    fmt.Sprintf("prod-%06d", i),
			Slug:         strings.ToLower(strings.ReplaceAll(title, " ", "-")) + fmt.Sprintf("-%d", i),
			Title:        title,
			Description:  strings.Join(desc, " ") + ".",
			CategoryID:   leaf.path[2],
			CategoryPath: leaf.path,
			PriceFrom:    price,
			InStock:      rng.IntN(5) != 0,
			CreatedAt:    start.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour)))),
		}
	}
	return docs
}

func cap1(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

var bench struct {
	once sync.Once
	dir  string
	e    *Bleve
	docs []Document
	err  error
}

// benchEngine returns the shared 100k-product engine, building it once.
func benchEngine(b *testing.B) (*Bleve, []Document) {
	b.Helper()
	bench.once.Do(func() {
		bench.docs = benchDocs(benchCorpusSize)
		path := ""
		switch {
		case os.Getenv("ENGINE_BENCH_MEM") != "":
		case os.Getenv("ENGINE_BENCH_DIR") != "":
			// Kept between runs, for iterating on query code.
			path = os.Getenv("ENGINE_BENCH_DIR")
		default:
			bench.dir, bench.err = os.MkdirTemp("", "engine-bench-")
			if bench.err != nil {
				return
			}
			path = filepath.Join(bench.dir, "idx")
		}
		bench.e, bench.err = OpenBleve(path)
		if bench.err != nil {
			return
		}
		if n, _ := bench.e.Count(); n == uint64(len(bench.docs)) {
			fmt.Fprintf(os.Stderr, "bench: reusing index at %s (%d segments)\n", path, bench.e.segmentCount())
			return
		}
		// Bulk load in chunks of 10k, as a reindex job would.
		begin := time.Now()
		for i := 0; i < len(bench.docs); i += 10_000 {
			if bench.err = bench.e.Upsert(context.Background(), bench.docs[i:min(i+10_000, len(bench.docs))]...); bench.err != nil {
				return
			}
		}
		took := time.Since(begin)
		segs := bench.e.segmentCount()
		compact := time.Now()
		if bench.err = bench.e.Compact(context.Background()); bench.err != nil {
			return
		}
		compactTook := time.Since(compact)
		fmt.Fprintf(os.Stderr, "bench: indexed %d docs in %v (%.0f docs/s, %d segments); compacted to %d segments in %v; on-disk size %s\n",
			len(bench.docs), took.Round(time.Millisecond), float64(len(bench.docs))/took.Seconds(), segs,
			bench.e.segmentCount(), compactTook.Round(time.Millisecond), settledSize(path))
	})
	if bench.err != nil {
		b.Fatalf("build bench index: %v", bench.err)
	}
	return bench.e, bench.docs
}

func (b *Bleve) segmentCount() int {
	m, _ := b.idx.StatsMap()["index"].(map[string]interface{})
	var n int
	for _, k := range []string{"num_root_filesegments", "num_root_memorysegments"} {
		if v, ok := m[k].(uint64); ok {
			n += int(v)
		}
	}
	return n
}

// settledSize is the size of the index directory once scorch has removed
// the files that merging made obsolete (it does so in the background).
func settledSize(dir string) string {
	if dir == "" {
		return "n/a (in memory)"
	}
	size, stable := dirSize(dir), 0
	for deadline := time.Now().Add(30 * time.Second); stable < 10 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		if n := dirSize(dir); n != size {
			size, stable = n, 0
		} else {
			stable++
		}
	}
	return fmt.Sprintf("%.1f MiB", float64(size)/(1<<20))
}

func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.e != nil {
		_ = bench.e.Close()
	}
	if bench.dir != "" {
		_ = os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// latencies collects per-operation durations from parallel goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) { l.reportAs(b, "") }

// reportAs reports the p50, p99 and max of the durations as metrics named
// with the given infix ("p99-ms", "p99-cpu-ms", ...).
func (l *latencies) reportAs(b *testing.B, infix string) {
	slices.Sort(l.all)
	if len(l.all) == 0 || l.all[len(l.all)-1] == 0 {
		return // no CPU times on this platform
	}
	q := func(p float64) float64 {
		i := min(len(l.all)-1, int(math.Ceil(p*float64(len(l.all))))-1)
		return float64(l.all[max(i, 0)].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-"+infix+"ms")
	b.ReportMetric(q(0.99), "p99-"+infix+"ms")
	b.ReportMetric(q(1.0), "max-"+infix+"ms")
}

// benchSearch runs queries round-robin from `conc` goroutines, timing each.
func benchSearch(b *testing.B, e *Bleve, queries []Query, conc int) {
	var (
		lat  latencies
		next atomic.Uint64
		hits atomic.Int64
	)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	if conc == 1 {
		// One client: wall time per op, and CPU time of this thread per op,
		// which other load on the machine barely affects.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var cpuLat latencies
		ds := make([]time.Duration, 0, b.N)
		cs := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			q := queries[i%len(queries)]
			c, t := cputime.Thread(), time.Now()
			r, err := e.Search(ctx, q)
			ds = append(ds, time.Since(t))
			cs = append(cs, cputime.Thread()-c)
			if err != nil {
				b.Fatal(err)
			}
			hits.Add(int64(r.Total))
		}
		lat.add(ds)
		cpuLat.add(cs)
		defer cpuLat.reportAs(b, "cpu-")
	} else {
		// RunParallel starts parallelism*GOMAXPROCS goroutines.
		b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			var ds []time.Duration
			for pb.Next() {
				q := queries[int(next.Add(1))%len(queries)]
				t := time.Now()
				r, err := e.Search(ctx, q)
				ds = append(ds, time.Since(t))
				if err != nil {
					b.Error(err)
					return
				}
				hits.Add(int64(r.Total))
			}
			lat.add(ds)
		})
	}
	b.StopTimer()
	lat.report(b)
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(hits.Load())/float64(b.N), "matches/op")
}

// twoWordQueries are what a shopper types: two words, the first page with
// facets, sorted by relevance; one has typos.
var twoWordQueries = []Query{
	{Text: "leather boots"},
	{Text: "wool sweater"},
	{Text: "wireless headphones"},
	{Text: "waterproof jacket"},
	{Text: "cotton shirt"},
	{Text: "steel bottle"},
	{Text: "runing sneakrs"}, // typos
	{Text: "black backpack"},
}

// BenchmarkSearchTwoWords measures a typical shopper query with facets, as
// one client (serial), as two clients (one per core) and as 64 concurrent
// connections.
func BenchmarkSearchTwoWords(b *testing.B) {
	e, _ := benchEngine(b)
	for _, conc := range []int{1, 2, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			benchSearch(b, e, twoWordQueries, conc)
		})
	}
}

// BenchmarkSearchTypoUncached measures two-word queries with a misspelled
// word whose typo candidates are not cached (see typoCache): the cost of
// building its Levenshtein automaton is included every time.
func BenchmarkSearchTypoUncached(b *testing.B) {
	e, _ := benchEngine(b)
	rng := rand.New(rand.NewPCG(7, 7))
	var words []string
	for _, list := range [][]string{adjectives, materials} {
		for _, w := range list {
			if len(w) >= 5 {
				words = append(words, w)
			}
		}
	}
	queries := make([]Query, 512)
	for i := range queries {
		w := []byte(words[rng.IntN(len(words))])
		switch j := 1 + rng.IntN(len(w)-2); rng.IntN(3) {
		case 0: // transposition
			w[j], w[j+1] = w[j+1], w[j]
		case 1: // deletion
			w = append(w[:j], w[j+1:]...)
		default: // substitution
			w[j] = byte('a' + rng.IntN(26))
		}
		leaf := benchLeaves()[rng.IntN(24)]
		queries[i] = Query{Text: string(w) + " " + leaf.nouns[rng.IntN(len(leaf.nouns))]}
	}
	var lat, cpuLat latencies
	ds := make([]time.Duration, 0, b.N)
	cs := make([]time.Duration, 0, b.N)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		e.typos.reset()
		c, t := cputime.Thread(), time.Now()
		if _, err := e.Search(context.Background(), queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t))
		cs = append(cs, cputime.Thread()-c)
	}
	b.StopTimer()
	lat.add(ds)
	lat.report(b)
	cpuLat.add(cs)
	cpuLat.reportAs(b, "cpu-")
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

func (c *typoCache) reset() {
	c.mu.Lock()
	c.cur, c.prev = nil, nil
	c.mu.Unlock()
}

// BenchmarkSearchBroad is the worst case for the text path: one very common
// word, matching a large part of the catalog, which must all be scored and
// faceted.
func BenchmarkSearchBroad(b *testing.B) {
	e, _ := benchEngine(b)
	queries := []Query{{Text: "black"}, {Text: "cotton"}, {Text: "soft warm"}, {Text: "classic"}}
	for _, conc := range []int{1, 2} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			benchSearch(b, e, queries, conc)
		})
	}
}

// BenchmarkSearchEmptyQueryWithFilter is category browsing: no text, a
// category filter (root, mid or leaf), sometimes price and stock, sorted.
func BenchmarkSearchEmptyQueryWithFilter(b *testing.B) {
	e, _ := benchEngine(b)
	queries := []Query{
		{CategoryIDs: []string{"c1"}, Sort: SortNewest},
		{CategoryIDs: []string{"c2-1"}, InStock: ptr(true), Sort: SortPriceAsc},
		{CategoryIDs: []string{"c3-2-1"}},
		{CategoryIDs: []string{"c0-0"}, MinPrice: ptr[int64](2500), MaxPrice: ptr[int64](10000), Sort: SortPriceDesc},
		{InStock: ptr(true), Sort: SortNewest},
	}
	for _, conc := range []int{1, 2, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			benchSearch(b, e, queries, conc)
		})
	}
}

// BenchmarkUpsert re-indexes existing products (same content, so the
// search benchmarks are unaffected), one per call and 100 per call.
func BenchmarkUpsert(b *testing.B) {
	e, docs := benchEngine(b)
	ctx := context.Background()
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			var lat latencies
			ds := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				off := (i * size * 7919) % (len(docs) - size)
				t := time.Now()
				if err := e.Upsert(ctx, docs[off:off+size]...); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t))
			}
			b.StopTimer()
			lat.add(ds)
			lat.report(b)
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*size), "ms/doc")
		})
	}
}
