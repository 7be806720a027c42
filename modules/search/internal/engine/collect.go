package engine

import (
	"cmp"
	"container/heap"
	"context"
	"strconv"
	"strings"
	"unsafe"

	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// The collector replaces bleve's TopNCollector and facet builders. For every
// matching document it reads one doc-value field (fieldDocValues) holding
// the facet values, the sort keys and the product id, counts the facets in
// plain counters and keeps the best page in a heap. bleve's collector reads
// one doc-value field per sort key and facet, turns every hit's sort values
// into strings and counts facets through maps; on queries matching tens of
// thousands of documents it took more than half of the search time, and
// this one costs about a third of that.

// hitKey is the position of a hit in the sort order.
type hitKey struct {
	score float64 // relevance only
	key   string  // sortableInt64 price or creation time; other sorts only
	pid   string
}

// order compares hit keys for one Query.Sort; the product id breaks ties,
// so it is a total order.
type order func(a, b *hitKey) int

var orders = map[string]order{
	SortRelevance: func(a, b *hitKey) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(a.pid, b.pid)
	},
	SortPriceAsc: func(a, b *hitKey) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.pid, b.pid)
	},
	SortPriceDesc: descByKey,
	SortNewest:    descByKey,
}

func descByKey(a, b *hitKey) int {
	if c := strings.Compare(b.key, a.key); c != 0 {
		return c
	}
	return strings.Compare(a.pid, b.pid)
}

// sortKeyDim is the doc-value dimension a sort orders by ("" for score).
var sortKeyDim = map[string]byte{
	SortRelevance: 0,
	SortPriceAsc:  dvPriceKey,
	SortPriceDesc: dvPriceKey,
	SortNewest:    dvCreatedKey,
}

// topHeap keeps the best hits seen so far, the worst on top.
type topHeap struct {
	items []hitKey
	cmp   order
}

func (h *topHeap) Len() int           { return len(h.items) }
func (h *topHeap) Less(i, j int) bool { return h.cmp(&h.items[i], &h.items[j]) > 0 }
func (h *topHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *topHeap) Push(x any)         { h.items = append(h.items, x.(hitKey)) }
func (h *topHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

type collected struct {
	hits   []hitKey // best first
	total  int
	facets Facets
}

// collect runs searcher s to exhaustion. It keeps the size best hits that
// sort after the cursor position `after` (if any) and counts all hits and
// their facets.
func collect(ctx context.Context, r index.IndexReader, s search.Searcher, sortName string,
	size int, after *hitKey) (collected, error) {
	var (
		ord     = orders[sortName]
		keyDim  = sortKeyDim[sortName]
		top     = &topHeap{items: make([]hitKey, 0, size+1), cmp: ord}
		total   int
		cats    = map[string]*int{}
		bands   [len(priceBandStarts)]int
		stock   [2]int // out, in
		cur     hitKey
		curKey  []byte
		curPID  []byte
		visitor = func(_ string, term []byte) {
			if len(term) < 2 || term[1] != dvSep {
				return
			}
			v := term[2:]
			switch term[0] {
			case dvCategory:
				// A lookup with string(v) does not allocate; m[string(v)]++
				// would, for every hit.
				if n := cats[string(v)]; n != nil {
					*n++
				} else {
					cats[string(v)] = ptr(1)
				}
			case dvPriceBand:
				if len(v) == 1 && v[0] >= '0' && int(v[0]-'0') < len(bands) {
					bands[v[0]-'0']++
				}
			case dvStock:
				if len(v) == 1 && v[0] == '1' {
					stock[1]++
				} else {
					stock[0]++
				}
			case dvPID:
				curPID = append(curPID[:0], v...)
			default:
				if term[0] == keyDim {
					curKey = append(curKey[:0], v...)
				}
			}
		}
	)

	dvr, err := r.DocValueReader([]string{fieldDocValues})
	if err != nil {
		return collected{}, err
	}
	sctx := &search.SearchContext{
		DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize()+1, 0),
		IndexReader:       r,
	}
	for {
		if total&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return collected{}, err
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return collected{}, err
		}
		if dm == nil {
			break
		}
		total++
		curKey, curPID = curKey[:0], curPID[:0]
		if err := dvr.VisitDocValues(dm.IndexInternalID, visitor); err != nil {
			return collected{}, err
		}
		cur.score = dm.Score
		sctx.DocumentMatchPool.Put(dm)

		// Compare without allocating; strings are made only for hits that
		// enter the heap.
		cur.key, cur.pid = unsafeString(curKey), unsafeString(curPID)
		if after != nil && ord(&cur, after) <= 0 {
			continue
		}
		if len(top.items) == size && ord(&cur, &top.items[0]) >= 0 {
			continue
		}
		k := hitKey{score: cur.score, key: string(curKey), pid: string(curPID)}
		if len(top.items) < size {
			heap.Push(top, k)
		} else {
			top.items[0] = k
			heap.Fix(top, 0)
		}
	}

	out := collected{total: total, hits: make([]hitKey, len(top.items))}
	for i := len(top.items) - 1; i >= 0; i-- {
		out.hits[i] = heap.Pop(top).(hitKey)
	}
	out.facets = makeFacets(cats, bands, stock)
	return out, nil
}

func makeFacets(cats map[string]*int, bands [len(priceBandStarts)]int, stock [2]int) Facets {
	f := Facets{Price: make([]PriceBand, len(priceBandStarts))}
	for i, from := range priceBandStarts {
		f.Price[i] = PriceBand{From: from, To: -1, Count: bands[i]}
		if i+1 < len(priceBandStarts) {
			f.Price[i].To = priceBandStarts[i+1]
		}
	}
	for v, n := range cats {
		f.Category = append(f.Category, ValueCount{Value: v, Count: *n})
	}
	sortValueCounts(f.Category)
	if len(f.Category) > MaxCategoryFacets {
		f.Category = f.Category[:MaxCategoryFacets]
	}
	if stock[1] > 0 {
		f.InStock = append(f.InStock, ValueCount{Value: "true", Count: stock[1]})
	}
	if stock[0] > 0 {
		f.InStock = append(f.InStock, ValueCount{Value: "false", Count: stock[0]})
	}
	return f
}

// keyString is the cursor form of a hit's sort key.
func (k hitKey) keyString(sortName string) string {
	if sortName == SortRelevance {
		return strconv.FormatFloat(k.score, 'g', -1, 64)
	}
	return k.key
}

// unsafeString views b as a string without copying. The result must not be
// used after b is modified.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func ptr[T any](v T) *T { return &v }
