package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// newMem returns an empty in-memory engine closed at the end of the test.
func newMem(t testing.TB) *Bleve {
	t.Helper()
	e, err := OpenBleve("")
	if err != nil {
		t.Fatalf("OpenBleve: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func upsert(t testing.TB, e Engine, docs ...Document) {
	t.Helper()
	if err := e.Upsert(context.Background(), docs...); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

func mustSearch(t testing.TB, e Engine, q Query) Result {
	t.Helper()
	r, err := e.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return r
}

func ids(r Result) []string {
	out := make([]string, len(r.Items))
	for i, h := range r.Items {
		out[i] = h.ProductID
	}
	return out
}

// catalog is a small fixed catalog. Category tree:
//
//	apparel > footwear > {running, boots}
//	apparel > bags
//	home > kitchen
var catalog = []Document{
	{ProductID: "p01", Slug: "trail-running-shoes", Title: "Trail Running Shoes",
		Description: "Lightweight shoes with a grippy outsole for muddy trails.",
		CategoryID:  "running", CategoryPath: []string{"apparel", "footwear", "running"},
		PriceFrom: 8999, InStock: true, CreatedAt: t0.Add(1 * time.Hour)},
	{ProductID: "p02", Slug: "road-running-shoes", Title: "Road Running Shoes",
		Description: "Cushioned daily trainer for road runners.",
		CategoryID:  "running", CategoryPath: []string{"apparel", "footwear", "running"},
		PriceFrom: 12999, InStock: false, CreatedAt: t0.Add(2 * time.Hour)},
	{ProductID: "p03", Slug: "leather-hiking-boots", Title: "Leather Hiking Boots",
		Description: "Waterproof full-grain leather boots for long hikes.",
		CategoryID:  "boots", CategoryPath: []string{"apparel", "footwear", "boots"},
		PriceFrom: 19999, InStock: true, CreatedAt: t0.Add(3 * time.Hour)},
	{ProductID: "p04", Slug: "canvas-tote", Title: "Canvas Tote Bag",
		Description: "A roomy tote, handy for carrying running shoes to the gym.",
		CategoryID:  "bags", CategoryPath: []string{"apparel", "bags"},
		PriceFrom: 2500, InStock: true, CreatedAt: t0.Add(4 * time.Hour)},
	{ProductID: "p05", Slug: "chef-knife", Title: "Chef Knife",
		Description: "Forged steel chef knife with a walnut handle.",
		CategoryID:  "kitchen", CategoryPath: []string{"home", "kitchen"},
		PriceFrom: 4999, InStock: true, CreatedAt: t0.Add(5 * time.Hour)},
	{ProductID: "p06", Slug: "cast-iron-skillet", Title: "Cast Iron Skillet",
		Description: "Pre-seasoned skillet; lasts a lifetime.",
		CategoryID:  "kitchen", CategoryPath: []string{"home", "kitchen"},
		PriceFrom: 2499, InStock: false, CreatedAt: t0.Add(6 * time.Hour)},
	{ProductID: "p07", Slug: "wool-socks", Title: "Merino Wool Socks",
		Description: "Soft socks for hiking boots and running shoes alike.",
		CategoryID:  "running", CategoryPath: []string{"apparel", "footwear", "running"},
		PriceFrom: 1500, InStock: true, CreatedAt: t0.Add(7 * time.Hour)},
	{ProductID: "p08", Slug: "espresso-cups", Title: "Espresso Cups",
		Description: "Set of four porcelain cups.",
		CategoryID:  "kitchen", CategoryPath: []string{"home", "kitchen"},
		PriceFrom: 30000, InStock: true, CreatedAt: t0.Add(8 * time.Hour)},
}

func newCatalog(t testing.TB) *Bleve {
	t.Helper()
	e := newMem(t)
	upsert(t, e, catalog...)
	return e
}

func TestRelevanceTitleAboveDescription(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	upsert(t, e,
		Document{ProductID: "desc", Title: "Canvas Tote Bag", Description: "Carry your running shoes in style."},
		Document{ProductID: "title", Title: "Running Shoes", Description: "Light and fast."},
		Document{ProductID: "other", Title: "Chef Knife", Description: "Sharp."},
	)
	for _, text := range []string{"running shoes", "shoes", "running"} {
		r := mustSearch(t, e, Query{Text: text})
		if got := ids(r); !slices.Equal(got, []string{"title", "desc"}) {
			t.Errorf("%q: got %v, want [title desc]", text, got)
		}
		if r.Items[0].Score <= r.Items[1].Score {
			t.Errorf("%q: title score %v not above description score %v", text, r.Items[0].Score, r.Items[1].Score)
		}
	}
}

func TestTypoTolerance(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	for _, text := range []string{
		"runing sheos",     // one deletion, one transposition (2 edits)
		"running shoez",    // substitution
		"runnign shoes",    // transposition = 2 edits
		"RUNING SHOES",     // case
		"trial runing",     // typo in a short-ish word: "trial" vs "trail"
		"leathr boots",     // deletion
		"hikking bots",     // insertion + deletion in a 4-letter word
		"waterprof lether", // typos in description and title words
	} {
		r := mustSearch(t, e, Query{Text: text})
		if r.Total == 0 {
			t.Errorf("%q: no match", text)
		}
	}
	r := mustSearch(t, e, Query{Text: "runing sheos"})
	if got := ids(r); len(got) < 2 || !slices.Contains(got[:2], "p01") || !slices.Contains(got[:2], "p02") {
		t.Errorf("runing sheos: got %v, want p01 and p02 first", got)
	}
	// Words of two characters must be exact.
	if r := mustSearch(t, e, Query{Text: "cupz xx"}); r.Total != 0 {
		t.Errorf("two-letter word matched fuzzily: %v", ids(r))
	}
	// Three edits is too many.
	if r := mustSearch(t, e, Query{Text: "skxxxet"}); r.Total != 0 {
		t.Errorf("skxxxet: got %v, want nothing", ids(r))
	}
}

func TestExactAboveFuzzy(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	upsert(t, e,
		Document{ProductID: "a-fuzzy", Title: "Blue Shoey"},
		Document{ProductID: "b-exact", Title: "Blue Shoes"},
	)
	r := mustSearch(t, e, Query{Text: "shoes"})
	if got := ids(r); !slices.Equal(got, []string{"b-exact", "a-fuzzy"}) {
		t.Fatalf("got %v, want exact first", got)
	}
	if r.Items[0].Score <= r.Items[1].Score {
		t.Errorf("exact score %v not above fuzzy %v", r.Items[0].Score, r.Items[1].Score)
	}
}

func TestPrefixOnLastWord(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	cases := []struct {
		text string
		want []string // must be among the matches
		none bool     // expect no match at all
	}{
		{text: "runn", want: []string{"p01", "p02"}},
		{text: "trail runn", want: []string{"p01"}},
		{text: "sk", want: []string{"p06"}},
		{text: "espr", want: []string{"p08"}},
		// Only the last word is a prefix: "runn" as a first word needs a typo
		// match, and "running" is 3 edits away.
		{text: "runn shoes", none: true},
	}
	for _, c := range cases {
		r := mustSearch(t, e, Query{Text: c.text})
		got := ids(r)
		if c.none {
			if len(got) != 0 {
				t.Errorf("%q: got %v, want nothing", c.text, got)
			}
			continue
		}
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: got %v, want %s among them", c.text, got, w)
			}
		}
	}
}

func TestAllWordsMustMatch(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	r := mustSearch(t, e, Query{Text: "leather shoes"})
	if r.Total != 0 {
		t.Errorf("leather shoes: got %v, want nothing (no product has both)", ids(r))
	}
	r = mustSearch(t, e, Query{Text: "knife walnut"}) // title + description
	if got := ids(r); !slices.Equal(got, []string{"p05"}) {
		t.Errorf("knife walnut: got %v", got)
	}
	// Stop words are ignored.
	r = mustSearch(t, e, Query{Text: "the knife for a chef"})
	if got := ids(r); !slices.Equal(got, []string{"p05"}) {
		t.Errorf("stop words: got %v", got)
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	cases := []struct {
		name string
		q    Query
		want []string
	}{
		{"root category", Query{CategoryIDs: []string{"home"}}, []string{"p05", "p06", "p08"}},
		{"mid category", Query{CategoryIDs: []string{"footwear"}}, []string{"p01", "p02", "p03", "p07"}},
		{"leaf category", Query{CategoryIDs: []string{"boots"}}, []string{"p03"}},
		{"any of categories", Query{CategoryIDs: []string{"boots", "bags"}}, []string{"p03", "p04"}},
		{"unknown category", Query{CategoryIDs: []string{"nope"}}, nil},
		{"blank category ignored", Query{CategoryIDs: []string{""}}, []string{"p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08"}},
		{"price inclusive", Query{MinPrice: ptr[int64](2500), MaxPrice: ptr[int64](8999)}, []string{"p01", "p04", "p05"}},
		{"min price", Query{MinPrice: ptr[int64](19999)}, []string{"p03", "p08"}},
		{"max price", Query{MaxPrice: ptr[int64](2499)}, []string{"p06", "p07"}},
		{"min above max", Query{MinPrice: ptr[int64](5000), MaxPrice: ptr[int64](10)}, nil},
		{"in stock", Query{InStock: ptr(true)}, []string{"p01", "p03", "p04", "p05", "p07", "p08"}},
		{"out of stock", Query{InStock: ptr(false)}, []string{"p02", "p06"}},
		{"combined", Query{CategoryIDs: []string{"apparel"}, InStock: ptr(true), MaxPrice: ptr[int64](9000)}, []string{"p01", "p04", "p07"}},
		{"text and filter", Query{Text: "shoes", CategoryIDs: []string{"running"}}, []string{"p01", "p02", "p07"}},
		{"text and price", Query{Text: "shoes", MinPrice: ptr[int64](9000)}, []string{"p02"}},
		{"text and stock", Query{Text: "shoes", InStock: ptr(false)}, []string{"p02"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := mustSearch(t, e, c.q)
			got := ids(r)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
			if r.Total != len(c.want) {
				t.Errorf("Total = %d, want %d", r.Total, len(c.want))
			}
		})
	}
}

func TestFacets(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)

	r := mustSearch(t, e, Query{Limit: 1})
	if r.Total != len(catalog) || len(r.Items) != 1 {
		t.Fatalf("Total = %d, items = %d", r.Total, len(r.Items))
	}
	wantCat := []ValueCount{{"kitchen", 3}, {"running", 3}, {"bags", 1}, {"boots", 1}}
	if !slices.Equal(r.Facets.Category, wantCat) {
		t.Errorf("Category = %v, want %v", r.Facets.Category, wantCat)
	}
	wantPrice := []PriceBand{{0, 2500, 2}, {2500, 5000, 2}, {5000, 10000, 1}, {10000, 25000, 2}, {25000, -1, 1}}
	if !slices.Equal(r.Facets.Price, wantPrice) {
		t.Errorf("Price = %v, want %v", r.Facets.Price, wantPrice)
	}
	wantStock := []ValueCount{{"true", 6}, {"false", 2}}
	if !slices.Equal(r.Facets.InStock, wantStock) {
		t.Errorf("InStock = %v, want %v", r.Facets.InStock, wantStock)
	}

	// Facets follow text and filters.
	r = mustSearch(t, e, Query{Text: "shoes", InStock: ptr(true), Limit: 1})
	// p01 (running), p04 (bags), p07 (running)
	if r.Total != 3 {
		t.Fatalf("Total = %d, want 3", r.Total)
	}
	if want := []ValueCount{{"running", 2}, {"bags", 1}}; !slices.Equal(r.Facets.Category, want) {
		t.Errorf("Category = %v, want %v", r.Facets.Category, want)
	}
	if want := []PriceBand{{0, 2500, 1}, {2500, 5000, 1}, {5000, 10000, 1}, {10000, 25000, 0}, {25000, -1, 0}}; !slices.Equal(r.Facets.Price, want) {
		t.Errorf("Price = %v, want %v", r.Facets.Price, want)
	}
	if want := []ValueCount{{"true", 3}}; !slices.Equal(r.Facets.InStock, want) {
		t.Errorf("InStock = %v, want %v", r.Facets.InStock, want)
	}

	// No match: empty term facets, zero bands.
	r = mustSearch(t, e, Query{Text: "zzzzqqq"})
	if r.Total != 0 || len(r.Facets.Category) != 0 || len(r.Facets.InStock) != 0 || len(r.Facets.Price) != 5 {
		t.Errorf("no match facets = %+v", r.Facets)
	}
}

func TestSorts(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	// p09 ties p01 on price; p10 ties p08 on created time.
	upsert(t, e,
		Document{ProductID: "p09", Title: "Trail Running Shoes II", PriceFrom: 8999, CreatedAt: t0},
		Document{ProductID: "p00", Title: "Espresso Cups Deluxe", PriceFrom: 100, CreatedAt: t0.Add(8 * time.Hour)},
	)
	cases := []struct {
		sort string
		want []string
	}{
		{SortPriceAsc, []string{"p00", "p07", "p06", "p04", "p05", "p01", "p09", "p02", "p03", "p08"}},
		{SortPriceDesc, []string{"p08", "p03", "p02", "p01", "p09", "p05", "p04", "p06", "p07", "p00"}},
		{SortNewest, []string{"p00", "p08", "p07", "p06", "p05", "p04", "p03", "p02", "p01", "p09"}},
		// No text: every score is equal, so relevance is product id order.
		{SortRelevance, []string{"p00", "p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09"}},
		{"", []string{"p00", "p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09"}},
	}
	for _, c := range cases {
		r := mustSearch(t, e, Query{Sort: c.sort, Limit: 100})
		if got := ids(r); !slices.Equal(got, c.want) {
			t.Errorf("sort %q: got %v, want %v", c.sort, got, c.want)
		}
	}

	// Relevance with text: score desc, ties by id.
	r := mustSearch(t, e, Query{Text: "trail running shoes", Limit: 100})
	if len(r.Items) < 2 {
		t.Fatalf("got %v", ids(r))
	}
	for i := 1; i < len(r.Items); i++ {
		a, b := r.Items[i-1], r.Items[i]
		if a.Score < b.Score || (a.Score == b.Score && a.ProductID > b.ProductID) {
			t.Errorf("not sorted by score desc, id asc at %d: %+v then %+v", i, a, b)
		}
	}
	// Text with another sort: matches only, in that order, no scores.
	r = mustSearch(t, e, Query{Text: "shoes", Sort: SortPriceAsc, Limit: 100})
	if got, want := ids(r), []string{"p07", "p04", "p01", "p09", "p02"}; !slices.Equal(got, want) {
		t.Errorf("shoes by price: got %v, want %v", got, want)
	}

	if _, err := e.Search(context.Background(), Query{Sort: "cheapest"}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unknown sort: err = %v, want ErrBadQuery", err)
	}
}

// walk pages through q with the given page size, calling between(page)
// after each page, and returns the ids in order.
func walk(t *testing.T, e Engine, q Query, between func(page int)) []string {
	t.Helper()
	var got []string
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("pagination does not end")
		}
		r := mustSearch(t, e, q)
		if len(r.Items) > q.Limit {
			t.Fatalf("page has %d items, limit %d", len(r.Items), q.Limit)
		}
		got = append(got, ids(r)...)
		if r.NextCursor == "" {
			return got
		}
		if len(r.Items) != q.Limit {
			t.Fatalf("short page (%d) with a next cursor", len(r.Items))
		}
		q.Cursor = r.NextCursor
		if between != nil {
			between(page)
		}
	}
}

func manyDocs(prefix string, n int) []Document {
	docs := make([]Document, n)
	for i := range docs {
		docs[i] = Document{
			ProductID:   fmt.Sprintf("%s%04d", prefix, i),
			Title:       fmt.Sprintf("Running shoe model %d", i),
			Description: "A shoe for running.",
			CategoryID:  []string{"a", "b", "c"}[i%3],
			PriceFrom:   int64(1000 + (i*37)%50*100), // many ties
			InStock:     i%2 == 0,
			CreatedAt:   t0.Add(time.Duration(i%20) * time.Minute), // many ties
		}
	}
	return docs
}

func TestCursorPagination(t *testing.T) {
	t.Parallel()
	for _, sortName := range []string{SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest} {
		for _, text := range []string{"", "running shoe"} {
			t.Run(sortName+"/"+text, func(t *testing.T) {
				t.Parallel()
				e := newMem(t)
				docs := manyDocs("d", 137)
				upsert(t, e, docs...)
				full := mustSearch(t, e, Query{Text: text, Sort: sortName, Limit: 100})
				got := walk(t, e, Query{Text: text, Sort: sortName, Limit: 7}, nil)
				if len(got) != len(docs) {
					t.Fatalf("walked %d ids, want %d", len(got), len(docs))
				}
				assertUnique(t, got)
				// Pages concatenate to the same order as one big page.
				if !slices.Equal(got[:100], ids(full)) {
					t.Errorf("paged order differs from unpaged order")
				}
			})
		}
	}
}

func TestCursorPaginationWithConcurrentInserts(t *testing.T) {
	t.Parallel()
	// Relevance with text is left out: scores depend on index-wide term
	// statistics, which inserts change (documented caveat).
	cases := []struct{ sort, text string }{
		{SortPriceAsc, ""}, {SortPriceDesc, ""}, {SortNewest, ""}, {SortRelevance, ""},
		{SortPriceAsc, "running"}, {SortNewest, "shoe"},
	}
	for _, c := range cases {
		t.Run(c.sort+"/"+c.text, func(t *testing.T) {
			t.Parallel()
			e := newMem(t)
			docs := manyDocs("d", 120)
			upsert(t, e, docs...)
			inserted := manyDocs("n", 200)
			got := walk(t, e, Query{Text: c.text, Sort: c.sort, Limit: 9}, func(page int) {
				// Insert documents that sort before, among and after the
				// current position.
				if page*10+10 <= len(inserted) {
					upsert(t, e, inserted[page*10:page*10+10]...)
				}
			})
			assertUnique(t, got)
			seen := map[string]bool{}
			for _, id := range got {
				seen[id] = true
			}
			for _, d := range docs {
				if !seen[d.ProductID] {
					t.Errorf("original document %s never returned", d.ProductID)
				}
			}
		})
	}
}

func assertUnique(t *testing.T, got []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("duplicate %s", id)
		}
		seen[id] = true
	}
}

func TestBadCursor(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	r := mustSearch(t, e, Query{Sort: SortPriceAsc, Limit: 2})
	if r.NextCursor == "" {
		t.Fatal("no cursor")
	}
	good := r.NextCursor
	// The cursor works with its own sort.
	mustSearch(t, e, Query{Sort: SortPriceAsc, Limit: 2, Cursor: good})

	bad := []struct {
		name, cursor, sort string
	}{
		{"other sort", good, SortPriceDesc},
		{"relevance", good, ""},
		{"garbage", "!!!not base64!!!", SortPriceAsc},
		{"base64 not json", "aGVsbG8", SortPriceAsc},
		{"truncated", good[:len(good)/2], SortPriceAsc},
		{"too long", strings.Repeat("A", 5000), SortPriceAsc},
		{"wrong version", enc(`{"v":2,"s":"price_asc","k":["1","x"]}`), SortPriceAsc},
		{"bad number", enc(`{"v":1,"s":"price_asc","k":["abc","x"]}`), SortPriceAsc},
		{"nan", enc(`{"v":1,"s":"price_asc","k":["NaN","x"]}`), SortPriceAsc},
		{"bad time", enc(`{"v":1,"s":"newest","k":["yesterday","x"]}`), SortNewest},
		{"short key", enc(`{"v":1,"s":"price_asc","k":["1"]}`), SortPriceAsc},
		{"empty id", enc(`{"v":1,"s":"price_asc","k":["1",""]}`), SortPriceAsc},
		{"extra field", enc(`{"v":1,"s":"price_asc","k":["1","x"],"z":1}`), SortPriceAsc},
		{"trailing data", enc(`{"v":1,"s":"price_asc","k":["1","x"]}{}`), SortPriceAsc},
	}
	for _, c := range bad {
		_, err := e.Search(context.Background(), Query{Sort: c.sort, Cursor: c.cursor})
		if !errors.Is(err, ErrBadCursor) {
			t.Errorf("%s: err = %v, want ErrBadCursor", c.name, err)
		}
	}
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestHostileQueries(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	nasty := []string{
		"+", "-", ":", "^", "~", "*", "?", `"`, "(", ")", `\`, "/", "!", "&&", "||", "{", "}", "[", "]",
		"AND", "OR", "NOT", "running AND shoes", "NOT shoes", "shoes OR", "+running -shoes",
		"title:running", "running~2", "runn*", "r?nning", "shoes^10", `"running shoes`, `running shoes"`,
		`"""`, "((((running", "running))))", `\"\\\"`, "/.*/", "/[a-z/", "*:*", "_all:x", "field:", ":value",
		strings.Repeat("a", 10000), strings.Repeat("running ", 1250), strings.Repeat("(", 10000),
		strings.Repeat("é", 5000), "\x00", "run\x00ning", "\x01\x02\x03\x1f\x7f", "\t\n\r", "\u200b\u200d",
		"\xff\xfe\xfd", "ru\xffnning shoes", "\xc3\x28", "\xed\xa0\x80", "sho\xe2\x82", "🏃‍♂️ shoes", "日本語の靴",
		"a b c d e f g h i j k l m n o p", "the a an of", "it", "%", "%00", "'; DROP TABLE products; --",
		"<script>alert(1)</script>", "{{.}}", "${jndi:ldap://x}", strings.Repeat("x", 65) + " shoes",
		strings.Repeat("ab ", 3000), "0", "-1", "1e308", "NaN", "null", " ", "",
	}
	queries := []Query{}
	for _, s := range nasty {
		queries = append(queries,
			Query{Text: s},
			Query{Text: s, Sort: SortPriceDesc, CategoryIDs: []string{s, "apparel"}, MinPrice: ptr[int64](0), InStock: ptr(true)},
		)
	}
	for _, q := range queries {
		r, err := e.Search(context.Background(), q)
		if err != nil {
			t.Errorf("Search(%.40q): %v", q.Text, err)
			continue
		}
		for _, h := range r.Items {
			if strings.Contains(h.Snippet, "<script") {
				t.Errorf("%.40q: unescaped snippet %q", q.Text, h.Snippet)
			}
		}
	}
	// Query syntax is not interpreted: "title:running" is two words.
	if r := mustSearch(t, e, Query{Text: "title:running"}); r.Total != 0 {
		t.Errorf("title:running matched %v", ids(r))
	}
	if r := mustSearch(t, e, Query{Text: "+running -shoes"}); r.Total == 0 {
		t.Errorf("+running -shoes: operators must be plain punctuation; got nothing")
	}
}

func TestParseTextLimits(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	words := e.parseText(strings.Repeat("word ", 50) + strings.Repeat("z", 300))
	if len(words) != 2 || words[0].raw != "word" || words[0].prefix || words[1].raw != strings.Repeat("z", MaxWordBytes) {
		t.Errorf("duplicates not merged or long word not cut: %+v", words)
	}
	var sb strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&sb, "w%c%c ", 'a'+i%26, 'a'+i/26)
	}
	words = e.parseText(sb.String() + strings.Repeat("é", 100))
	if len(words) != MaxQueryWords {
		t.Errorf("got %d words, want %d", len(words), MaxQueryWords)
	}
	words = e.parseText(strings.Repeat("é", 100))
	if len(words) != 1 || len(words[0].raw) > MaxWordBytes || !strings.HasPrefix(words[0].raw, "éé") || !words[0].prefix {
		t.Errorf("long word: %+v", words)
	}
	if w := e.parseText("the"); len(w) != 1 || w[0].raw != "the" || w[0].fuzz != 0 {
		t.Errorf("stop-word-only query: %+v", w)
	}
	if w := e.parseText("iphone 1080 xl"); len(w) != 3 || w[0].fuzz != 2 || w[1].fuzz != 0 || w[2].fuzz != 0 {
		t.Errorf("fuzziness: %+v", w)
	}
}

func TestUpsertReplacesAndDeleteRemoves(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	ctx := context.Background()

	upsert(t, e, Document{ProductID: "p01", Title: "Garden Hose", Description: "Green, 20 m.",
		CategoryID: "garden", PriceFrom: 1234, InStock: false, CreatedAt: t0})
	if n, _ := e.Count(); n != uint64(len(catalog)) {
		t.Errorf("Count = %d, want %d", n, len(catalog))
	}
	if r := mustSearch(t, e, Query{Text: "trail"}); r.Total != 0 {
		t.Errorf("old title still matches: %v", ids(r))
	}
	r := mustSearch(t, e, Query{Text: "garden hose"})
	if len(r.Items) != 1 || r.Items[0].ProductID != "p01" || r.Items[0].PriceFrom != 1234 || r.Items[0].InStock {
		t.Errorf("replacement not found: %+v", r.Items)
	}
	if r := mustSearch(t, e, Query{CategoryIDs: []string{"running"}}); slices.Contains(ids(r), "p01") {
		t.Errorf("old category still matches")
	}

	// Same id twice in one call: the later one wins.
	upsert(t, e, Document{ProductID: "dup", Title: "First"}, Document{ProductID: "dup", Title: "Second"})
	if r := mustSearch(t, e, Query{Text: "second"}); !slices.Equal(ids(r), []string{"dup"}) {
		t.Errorf("later duplicate lost: %v", ids(r))
	}
	if r := mustSearch(t, e, Query{Text: "first"}); r.Total != 0 {
		t.Errorf("earlier duplicate kept")
	}

	if err := e.Delete(ctx, "p01", "dup", "no-such-id", ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n, _ := e.Count(); n != uint64(len(catalog)-1) {
		t.Errorf("Count after delete = %d, want %d", n, len(catalog)-1)
	}
	if r := mustSearch(t, e, Query{Text: "garden hose"}); r.Total != 0 {
		t.Errorf("deleted doc still found")
	}

	if err := e.Upsert(ctx, Document{Title: "no id"}); !errors.Is(err, ErrBadDocument) {
		t.Errorf("missing id: err = %v", err)
	}
	if err := e.Upsert(ctx); err != nil {
		t.Errorf("empty upsert: %v", err)
	}
}

func TestUpsertManyBatches(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	e.batchSize = 16
	upsert(t, e, manyDocs("m", 100)...)
	if n, _ := e.Count(); n != 100 {
		t.Errorf("Count = %d", n)
	}
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%04d", i)
	}
	if err := e.Delete(context.Background(), ids...); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.Count(); n != 50 {
		t.Errorf("Count after delete = %d", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Upsert(ctx, manyDocs("x", 10)...); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled upsert: %v", err)
	}
}

func TestOnDiskReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() + "/idx"
	e, err := OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	upsert(t, e, catalog...)
	if err := e.Delete(context.Background(), "p08"); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}

	e, err = OpenBleve(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer e.Close()
	if n, _ := e.Count(); n != uint64(len(catalog)-1) {
		t.Errorf("Count after reopen = %d, want %d", n, len(catalog)-1)
	}
	r := mustSearch(t, e, Query{Text: "runing sheos", CategoryIDs: []string{"footwear"}})
	if got := ids(r); len(got) < 2 || !slices.Contains(got, "p01") {
		t.Errorf("after reopen: %v", got)
	}
	h := r.Items[0]
	if h.Slug == "" || h.Title == "" || h.PriceFrom == 0 {
		t.Errorf("stored fields lost: %+v", h)
	}
	r = mustSearch(t, e, Query{Sort: SortNewest, Limit: 1})
	if got := ids(r); !slices.Equal(got, []string{"p07"}) {
		t.Errorf("newest after reopen: %v", got)
	}
}

func TestSchemaMismatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() + "/idx"
	e, err := OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.idx.SetInternal([]byte(schemaVersionKey), []byte("0")); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBleve(dir); !errors.Is(err, ErrSchemaMismatch) {
		t.Errorf("err = %v, want ErrSchemaMismatch", err)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	e, err := OpenBleve("")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Search(ctx, Query{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Search: %v", err)
	}
	if err := e.Upsert(ctx, catalog[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Upsert: %v", err)
	}
	if err := e.Delete(ctx, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Delete: %v", err)
	}
	if _, err := e.Count(); !errors.Is(err, ErrClosed) {
		t.Errorf("Count: %v", err)
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	long := strings.Repeat("Filler words about nothing in particular. ", 10) +
		"These waterproof running shoes keep feet dry. " +
		strings.Repeat("More filler text follows here. ", 10)
	upsert(t, e,
		Document{ProductID: "xss", Title: "Shoes <b>bold</b>",
			Description: `<script>alert("x")</script> Great running shoes & more.`},
		Document{ProductID: "long", Title: "Trail Runner", Description: long},
		Document{ProductID: "title-only", Title: "Sneaker <i>X</i>", Description: "Nothing relevant."},
	)

	r := mustSearch(t, e, Query{Text: "runing shoes"})
	snip := map[string]string{}
	for _, h := range r.Items {
		snip[h.ProductID] = h.Snippet
	}
	got := snip["xss"]
	want := `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Great <mark>running</mark> <mark>shoes</mark> &amp; more.`
	if got != want {
		t.Errorf("xss snippet:\n got %s\nwant %s", got, want)
	}
	got = snip["long"]
	if !strings.Contains(got, "waterproof <mark>running</mark> <mark>shoes</mark> keep") ||
		!strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") {
		t.Errorf("long snippet: %s", got)
	}
	plain := strings.NewReplacer(markOpen, "", markClose, "").Replace(got)
	if n := len([]rune(plain)); n > SnippetChars+2 {
		t.Errorf("long snippet has %d chars", n)
	}

	// Title only matches: the title is the snippet.
	r = mustSearch(t, e, Query{Text: "sneaker"})
	if len(r.Items) != 1 || r.Items[0].Snippet != "<mark>Sneaker</mark> &lt;i&gt;X&lt;/i&gt;" {
		t.Errorf("title snippet: %+v", r.Items)
	}
	// Prefix of the last word is highlighted.
	r = mustSearch(t, e, Query{Text: "waterp"})
	if len(r.Items) != 1 || !strings.Contains(r.Items[0].Snippet, "<mark>waterproof</mark>") {
		t.Errorf("prefix snippet: %+v", r.Items)
	}

	// No text: start of the description, escaped.
	r = mustSearch(t, e, Query{Sort: SortPriceAsc, Limit: 100})
	for _, h := range r.Items {
		if strings.Contains(h.Snippet, "<mark>") || strings.Contains(h.Snippet, "<script") {
			t.Errorf("no-text snippet %s: %s", h.ProductID, h.Snippet)
		}
		if h.ProductID == "long" && (!strings.HasPrefix(h.Snippet, "Filler words") || !strings.HasSuffix(h.Snippet, "…")) {
			t.Errorf("no-text long snippet: %s", h.Snippet)
		}
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	upsert(t, e, manyDocs("l", 150)...)
	for _, c := range []struct{ limit, want int }{{0, DefaultLimit}, {-5, DefaultLimit}, {1, 1}, {100, 100}, {1000, MaxLimit}} {
		r := mustSearch(t, e, Query{Limit: c.limit})
		if len(r.Items) != c.want || r.Total != 150 {
			t.Errorf("limit %d: %d items, total %d", c.limit, len(r.Items), r.Total)
		}
	}
	r := mustSearch(t, e, Query{Limit: 150 - 100})
	r = mustSearch(t, e, Query{Limit: 100, Cursor: r.NextCursor})
	if len(r.Items) != 100 || r.NextCursor != "" {
		t.Errorf("last full page: %d items, cursor %q", len(r.Items), r.NextCursor)
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Search(ctx, Query{Text: "shoes"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestConcurrentSearchAndUpsert(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	upsert(t, e, manyDocs("c", 300)...)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				q := Query{Text: []string{"runing sho", "shoe", "", "model 7"}[i%4], Sort: []string{"", SortPriceAsc, SortNewest}[i%3]}
				r, err := e.Search(ctx, q)
				if err == nil && r.NextCursor != "" {
					q.Cursor = r.NextCursor
					_, err = e.Search(ctx, q)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				docs := manyDocs(fmt.Sprintf("w%d-%d-", w, i), 5)
				if err := e.Upsert(ctx, docs...); err != nil {
					errs <- err
					return
				}
				if err := e.Delete(ctx, docs[0].ProductID); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, _ := e.Count(); n != 300+2*20*4 {
		t.Errorf("Count = %d, want %d", n, 300+2*20*4)
	}
}

// A rare typo variant must not outrank the exact word just because rare
// terms weigh more (idf).
func TestExactAboveRareFuzzyVariant(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	var docs []Document
	// 8 of 309 documents: rare enough (<= commonWordMinDocs) to get typo
	// matching.
	for i := 0; i < 8; i++ {
		docs = append(docs, Document{ProductID: fmt.Sprintf("exact-%02d", i), Title: "Canvas Sneakers", Description: "Plain canvas sneakers."})
	}
	docs = append(docs, Document{ProductID: "a-variant", Title: "Canvas Sneakerz", Description: "Plain canvas sneakerz."})
	for i := 0; i < 300; i++ {
		docs = append(docs, Document{ProductID: fmt.Sprintf("other-%03d", i), Title: "Chef Knife", Description: "Steel."})
	}
	upsert(t, e, docs...)
	for _, text := range []string{"sneakers", "canvas sneakers", "sneaker", "sneakers canvas"} {
		r := mustSearch(t, e, Query{Text: text, Limit: 100})
		got := ids(r)
		if len(got) != 9 || got[len(got)-1] != "a-variant" {
			t.Errorf("%q: want the 8 exact matches, then the variant; got %v", text, got)
		}
	}
}

func TestBlendCapsRareExpansions(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	var docs []Document
	for i := 0; i < 9; i++ {
		docs = append(docs, Document{ProductID: fmt.Sprintf("s%d", i), Title: "sneakers"})
	}
	docs = append(docs, Document{ProductID: "z", Title: "sneakerz"}, Document{ProductID: "y", Title: "sneakery"})
	for i := 0; i < 990; i++ {
		docs = append(docs, Document{ProductID: fmt.Sprintf("o%d", i), Title: "knife"})
	}
	upsert(t, e, docs...)
	adv, _ := e.idx.Advanced()
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	words := e.parseText("sneakers")
	if err := e.expand(context.Background(), r, words); err != nil {
		t.Fatal(err)
	}
	w := words[0]
	if len(w.expansions) != 2 {
		t.Fatalf("expansions = %+v", w.expansions)
	}
	// Score of a clause ~ weight * idf^2: an expansion must not weigh more
	// than fuzzyBoost/2 (one edit) of the exact word.
	exact := idf(1001, 9) * idf(1001, 9)
	for _, x := range w.expansions {
		if got := x.weight * idf(1001, 1) * idf(1001, 1); got > fuzzyBoost/2*exact*1.0001 {
			t.Errorf("%s: weight*idf² = %v, exact %v", x.term, got, exact)
		}
	}
}

func TestCommonWordsAreNotTypoMatched(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	var docs []Document
	for i := 0; i < 40; i++ {
		docs = append(docs, Document{ProductID: fmt.Sprintf("shirt-%02d", i), Title: "Linen Shirt"})
	}
	docs = append(docs, Document{ProductID: "short", Title: "Linen Short"}, Document{ProductID: "skirt", Title: "Linen Skirt"})
	upsert(t, e, docs...)

	// "shirt" is in 40 of 42 documents: taken as spelled as intended.
	r := mustSearch(t, e, Query{Text: "shirt linen", Limit: 100})
	if r.Total != 40 || slices.Contains(ids(r), "short") || slices.Contains(ids(r), "skirt") {
		t.Errorf("shirt: total %d, %v", r.Total, ids(r))
	}
	// A misspelling is still corrected, to every word within one edit
	// ("skirt" is two away).
	r = mustSearch(t, e, Query{Text: "shrt linen", Limit: 100})
	if got := ids(r); r.Total != 41 || !slices.Contains(got, "short") {
		t.Errorf("shrt: total %d, %v", r.Total, got)
	}
	// Prefix matching of the last word is not affected.
	r = mustSearch(t, e, Query{Text: "linen sh", Limit: 100})
	if got := ids(r); r.Total != 41 || !slices.Contains(got, "short") {
		t.Errorf("sh: total %d, %v", r.Total, got)
	}
}

func TestExpansionsAreCapped(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	var docs []Document
	for i := 0; i < 3*maxExpansions; i++ {
		docs = append(docs, Document{ProductID: fmt.Sprintf("d%03d", i), Title: fmt.Sprintf("widget%03d", i)})
	}
	upsert(t, e, docs...)
	r := mustSearch(t, e, Query{Text: "widg", Limit: 100})
	if r.Total != maxExpansions {
		t.Errorf("Total = %d, want %d (prefix expansions capped)", r.Total, maxExpansions)
	}
}

func TestSnippetHighlightsTypoAndStemMatches(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	upsert(t, e, Document{ProductID: "p", Title: "Trail Runner",
		Description: "Running shoes: one shoe, two Shoes, and an O'Neill strap."})
	r := mustSearch(t, e, Query{Text: "runing shoe"})
	if len(r.Items) != 1 {
		t.Fatalf("got %v", ids(r))
	}
	want := "<mark>Running</mark> <mark>shoes</mark>: one <mark>shoe</mark>, two <mark>Shoes</mark>, and an O&#39;Neill strap."
	if got := r.Items[0].Snippet; got != want {
		t.Errorf("snippet:\n got %s\nwant %s", got, want)
	}
}

func TestEachWord(t *testing.T) {
	t.Parallel()
	text := "T-shirt, O'Neill's 3.5mm über-cool  café… end. x"
	var got []string
	eachWord(text, func(s, e int) { got = append(got, text[s:e]) })
	want := []string{"T", "shirt", "O'Neill's", "3.5mm", "über", "cool", "café", "end", "x"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCompact(t *testing.T) {
	t.Parallel()
	e, err := OpenBleve(t.TempDir() + "/idx")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i := 0; i < 5; i++ {
		upsert(t, e, manyDocs(fmt.Sprintf("b%d-", i), 20)...)
	}
	if err := e.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.Count(); n != 100 {
		t.Errorf("Count = %d", n)
	}
	if r := mustSearch(t, e, Query{Text: "runing shoe"}); r.Total != 100 {
		t.Errorf("Total = %d", r.Total)
	}
	// In memory it is a no-op.
	if err := newMem(t).Compact(context.Background()); err != nil {
		t.Errorf("in-memory Compact: %v", err)
	}
}

// Typo matching builds a Levenshtein automaton per word, which costs about
// 0.1 ms per character: a query of many long random words must not get one
// per word.
func TestTypoWorkIsBounded(t *testing.T) {
	t.Parallel()
	e := newCatalog(t)
	var words []string
	for i := 0; i < 12; i++ {
		words = append(words, strings.Repeat(string(rune('a'+i)), 2)+strings.Repeat("xq", 9)) // 20 runes
	}
	text := strings.Join(words, " ") + " " + strings.Repeat("z", 64)
	parsed := e.parseText(text)
	adv, _ := e.idx.Advanced()
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := e.expand(context.Background(), r, parsed); err != nil {
		t.Fatal(err)
	}
	fuzzy := 0
	for _, w := range parsed {
		if w.fuzz > 0 {
			fuzzy++
		}
	}
	if fuzzy != maxFuzzyWords {
		t.Errorf("%d words typo-matched, want %d", fuzzy, maxFuzzyWords)
	}
	if _, err := e.Search(context.Background(), Query{Text: text}); err != nil {
		t.Error(err)
	}
	if fuzziness(strings.Repeat("a", maxFuzzyRunes+1)) != 0 {
		t.Error("long word typo-matched")
	}
}

func TestTypoCache(t *testing.T) {
	t.Parallel()
	var c typoCache
	k := typoKey{word: "sheos", fuzz: 2}
	if _, ok := c.get(k); ok {
		t.Fatal("hit on empty cache")
	}
	c.put(k, []typoTerm{{term: "shoes", dist: 2}})
	if ts, ok := c.get(k); !ok || len(ts) != 1 || ts[0].term != "shoes" {
		t.Fatalf("get = %v, %v", ts, ok)
	}
	// After one TTL the entry is still served (previous generation)...
	c.mu.Lock()
	c.since = c.since.Add(-typoCacheTTL)
	c.mu.Unlock()
	if _, ok := c.get(k); !ok {
		t.Error("entry dropped after one TTL")
	}
	// ...and after two it is gone.
	c.mu.Lock()
	c.since = c.since.Add(-typoCacheTTL)
	c.mu.Unlock()
	if _, ok := c.get(k); ok {
		t.Error("entry kept after two TTLs")
	}
	// Size bound: a full generation is rotated out.
	for i := 0; i < 2*typoCacheSize+1; i++ {
		c.put(typoKey{word: fmt.Sprint(i), fuzz: 1}, nil)
	}
	c.mu.Lock()
	n := len(c.cur) + len(c.prev)
	c.mu.Unlock()
	if n > 2*typoCacheSize {
		t.Errorf("cache holds %d entries", n)
	}
}

// A misspelling searched before a word existed must find it once the word is
// indexed: the typo cache may not hide new words for long.
func TestTypoFindsWordsAddedAfterACachedMiss(t *testing.T) {
	t.Parallel()
	e := newMem(t)
	ctx := context.Background()
	if err := e.Upsert(ctx, Document{ProductID: "p0", Title: "Garden Hose", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.Search(ctx, Query{Text: "runing sheos"}); err != nil || r.Total != 0 {
		t.Fatalf("before: %+v, %v", r, err)
	}
	if err := e.Upsert(ctx, Document{ProductID: "p1", Title: "Running Shoes", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		r, err := e.Search(ctx, Query{Text: "runing sheos"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Total == 1 && r.Items[0].ProductID == "p1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a cached miss still hides the new word after 1s: %+v", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Apply writes documents, deletions and the checkpoint as one change, and
// both survive a reopen together; a bad document refuses the whole change.
func TestApplyKeepsTheCheckpointWithTheDocuments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() + "/idx"
	e, err := OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if cp, err := e.Checkpoint(); err != nil || cp != nil {
		t.Fatalf("a new index has checkpoint %q (%v), want none", cp, err)
	}
	if err := e.Apply(ctx, Changes{Upsert: catalog, Checkpoint: []byte("one")}); err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(ctx, Changes{Upsert: catalog[:1], Delete: []string{"p02", "p03", "nope", ""}, Checkpoint: []byte("two")}); err != nil {
		t.Fatal(err)
	}
	err = e.Apply(ctx, Changes{Upsert: []Document{{ProductID: "p99", Title: "Kept out"}, {ProductID: ""}}, Checkpoint: []byte("three")})
	if !errors.Is(err, ErrBadDocument) {
		t.Fatalf("a change with a bad document: %v, want ErrBadDocument", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if cp, err := e.Checkpoint(); err != nil || string(cp) != "two" {
		t.Fatalf("checkpoint after reopen %q (%v), want \"two\"", cp, err)
	}
	if n, _ := e.Count(); n != uint64(len(catalog)-2) {
		t.Errorf("Count = %d, want %d", n, len(catalog)-2)
	}
	if r := mustSearch(t, e, Query{Text: "kept"}); r.Total != 0 {
		t.Errorf("a refused change left %v in the index", ids(r))
	}
}

// Reset leaves an empty index without a checkpoint, on disk and in memory,
// that takes new documents.
func TestReset(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"", t.TempDir() + "/idx"} {
		e, err := OpenBleve(dir)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := e.Apply(ctx, Changes{Upsert: catalog, Checkpoint: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if err := e.Reset(); err != nil {
			t.Fatal(err)
		}
		if cp, err := e.Checkpoint(); err != nil || cp != nil {
			t.Errorf("%q: checkpoint after Reset %q (%v)", dir, cp, err)
		}
		if r := mustSearch(t, e, Query{}); r.Total != 0 {
			t.Errorf("%q: %d documents after Reset", dir, r.Total)
		}
		upsert(t, e, catalog[0])
		if r := mustSearch(t, e, Query{}); r.Total != 1 {
			t.Errorf("%q: %d documents after Reset and one upsert", dir, r.Total)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if dir != "" {
			e, err = OpenBleve(dir)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := e.Count(); n != 1 {
				t.Errorf("after Reset and reopen: %d documents, want 1", n)
			}
			e.Close()
		}
	}
}
