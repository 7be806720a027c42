package engine

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	index "github.com/blevesearch/bleve_index_api"
)

// Typo and prefix matching.
//
// Before a search, each query word is resolved against the term dictionary
// of fieldTextRaw (title and description words, unstemmed) into the
// concrete terms it should also match: terms within the allowed edit
// distance (same first rune), and for the last word, terms it is a prefix
// of. The query then matches those terms exactly, in fieldTitleRaw and
// fieldTextRaw, with reduced weights; the snippet highlights the same terms.
//
// Compared with bleve's FuzzyQuery and PrefixQuery on each field this
//   - walks one dictionary with one Levenshtein automaton per word instead of
//     one per field (building the automaton for 2 edits costs 0.2–1 ms for
//     a word of 5–10 letters, more for longer ones);
//   - leaves out terms the word's exact clauses already match (the word
//     itself and words with the same stem), so a document with the exact
//     word does not walk the same postings twice;
//   - keeps at most maxExpansions terms per word, and typo-matches at most
//     maxFuzzyWords words per query, none longer than maxFuzzyRunes;
//   - weights expansions so that a rare variant never outscores the exact
//     word (see blend);
//   - skips typo matching for words that are common in the catalog.
//
// The last point is Lucene's spell-checker rule (maxQueryFrequency): a word
// that occurs in more than commonWordFraction of the documents is taken to
// be spelled as intended. Without it "shirt" also matches "short", "skirt",
// "shift" and "sheet" (all within 2 edits), which on a clothing catalog
// multiplies both the cost and the noise of a broad query. Rare and
// unknown words ("sheos") still get typo matching.
const (
	// maxExpansions bounds the terms one word expands to. The closest
	// (fewest edits) and most frequent are kept.
	maxExpansions = 50
	// maxDictScan bounds how many dictionary terms one expansion walks.
	maxDictScan = 5000
	// commonWordFraction: words in more than this fraction of all documents
	// (and in more than commonWordMinDocs) are not typo-matched.
	commonWordFraction = 0.01
	commonWordMinDocs  = 10
)

// expansion is one extra term a query word matches.
type expansion struct {
	term   string
	weight float64 // relative to an exact match in the same field
}

// expand fills in the expansions of words from the index snapshot r.
func (b *Bleve) expand(ctx context.Context, r index.IndexReader, words []qword) error {
	needed := false
	for _, w := range words {
		needed = needed || w.fuzz > 0 || w.prefixable()
	}
	if !needed {
		return nil
	}
	docs, err := r.DocCount()
	if err != nil {
		return err
	}
	common := uint64(max(commonWordMinDocs, math.Ceil(commonWordFraction*float64(docs))))
	fuzzyWords := 0
	for i := range words {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := &words[i]
		if w.fuzz > 0 {
			df, err := docFreq(ctx, r, fieldTextRaw, w.raw)
			if err != nil {
				return err
			}
			if df > common || fuzzyWords == maxFuzzyWords {
				w.fuzz = 0
			} else {
				fuzzyWords++
			}
		}
		if w.expansions, err = b.candidates(r, *w); err != nil {
			return fmt.Errorf("expand %q: %w", w.raw, err)
		}
		if err := blend(ctx, r, docs, w); err != nil {
			return fmt.Errorf("expand %q: %w", w.raw, err)
		}
	}
	return nil
}

// blend scales the expansion weights of w so that no expansion outscores
// an exact match through a higher idf. bleve's TF-IDF term score grows with
// boost * idf², and a rare misspelling has a much higher idf than the word
// the user meant, so on a large catalog "sneakerz" (1 document) could
// outrank "sneakers". Like Lucene's fuzzy rewrite (which blends document
// frequencies), each expansion is weighted as if its idf were the reference
// idf: that of the word's stem if the index has it, else the highest among
// the expansions (the most common variant). Statistics are taken from the
// text fields and applied to the title clause as well.
func blend(ctx context.Context, r index.IndexReader, docs uint64, w *qword) error {
	if len(w.expansions) == 0 {
		return nil
	}
	dfs := make([]uint64, len(w.expansions))
	var ref uint64
	for i, e := range w.expansions {
		df, err := docFreq(ctx, r, fieldTextRaw, e.term)
		if err != nil {
			return err
		}
		dfs[i] = df
		ref = max(ref, df)
	}
	if w.stem != "" {
		df, err := docFreq(ctx, r, fieldText, w.stem)
		if err != nil {
			return err
		}
		if df > 0 {
			ref = df
		}
	}
	refIDF := idf(docs, ref)
	for i := range w.expansions {
		if f := refIDF / idf(docs, dfs[i]); f < 1 {
			w.expansions[i].weight *= f * f
		}
	}
	return nil
}

// idf is bleve's TF-IDF inverse document frequency.
func idf(docs, df uint64) float64 {
	return 1 + math.Log(float64(docs)/float64(df+1))
}

func docFreq(ctx context.Context, r index.IndexReader, field, term string) (uint64, error) {
	tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
	if err != nil {
		return 0, err
	}
	n := tfr.Count()
	return n, tfr.Close()
}

type candidate struct {
	expansion
	dist int    // edit distance; 0 for a prefix-only match
	df   uint64 // document frequency, for prefix matches
}

func (b *Bleve) candidates(r index.IndexReader, w qword) ([]expansion, error) {
	found := map[string]candidate{}
	add := func(c candidate) {
		if old, ok := found[c.term]; !ok || c.weight > old.weight {
			found[c.term] = c
		}
	}

	if w.fuzz > 0 {
		typos, err := b.typoTerms(r, w.raw, w.fuzz)
		if err != nil {
			return nil, err
		}
		for _, t := range typos {
			add(candidate{
				expansion: expansion{term: t.term, weight: fuzzyBoost / float64(t.dist+1)},
				dist:      int(t.dist),
			})
		}
	}
	if w.prefixable() {
		fd, err := r.FieldDictPrefix(fieldTextRaw, []byte(w.raw))
		if err != nil {
			return nil, err
		}
		err = eachTerm(fd, func(e *index.DictEntry) {
			add(candidate{expansion: expansion{term: e.Term, weight: prefixBoost}, df: e.Count})
		})
		if err != nil {
			return nil, err
		}
	}

	cands := make([]candidate, 0, len(found))
	for _, c := range found {
		if !b.coveredByExact(w, c.term) {
			cands = append(cands, c)
		}
	}
	if len(cands) > maxExpansions {
		slices.SortFunc(cands, func(x, y candidate) int {
			if c := cmp.Compare(y.weight, x.weight); c != 0 {
				return c
			}
			if c := cmp.Compare(y.df, x.df); c != 0 {
				return c
			}
			return strings.Compare(x.term, y.term)
		})
		cands = cands[:maxExpansions]
	}
	out := make([]expansion, len(cands))
	for i, c := range cands {
		out[i] = c.expansion
	}
	slices.SortFunc(out, func(x, y expansion) int { return strings.Compare(x.term, y.term) })
	return out, nil
}

// eachTerm calls fn for at most maxDictScan entries of fd and closes it.
func eachTerm(fd index.FieldDict, fn func(*index.DictEntry)) (err error) {
	defer func() {
		if cerr := fd.Close(); err == nil {
			err = cerr
		}
	}()
	for n := 0; n < maxDictScan; n++ {
		e, err := fd.Next()
		if err != nil || e == nil {
			return err
		}
		fn(e)
	}
	return nil
}

// coveredByExact reports whether the exact clauses of w already match the
// raw term: it is the word itself, or has the same stem.
func (b *Bleve) coveredByExact(w qword, term string) bool {
	if term == w.raw {
		return true
	}
	if w.stem == "" || !mayStemTo(term, w.stem) {
		return false
	}
	return b.stemOf(term) == w.stem
}

// mayStemTo is a cheap necessary condition for stemOf(term) == stem: Porter
// stemming only rewrites the end of a word, keeping all but at most the
// last letter of the stem.
func mayStemTo(term, stem string) bool {
	return strings.HasPrefix(term, stem[:max(1, len(stem)-1)])
}

// stemOf is the English analyzer's term for one word, "" for a stop word.
func (b *Bleve) stemOf(word string) string {
	toks := b.stem.Analyze([]byte(word))
	if len(toks) != 1 {
		return ""
	}
	return string(toks[0].Term)
}

// typoTerm is a dictionary term within the allowed edit distance of a word.
type typoTerm struct {
	term string
	dist uint8
}

// typoTerms returns the terms of fieldTextRaw within fuzz edits of word
// whose first rune is the same, from the cache or from the index.
func (b *Bleve) typoTerms(r index.IndexReader, word string, fuzz int) ([]typoTerm, error) {
	key := typoKey{word: word, fuzz: fuzz}
	if ts, ok := b.typos.get(key); ok {
		return ts, nil
	}
	fr, ok := r.(index.IndexReaderFuzzy)
	if !ok {
		return nil, nil
	}
	_, size := utf8.DecodeRuneInString(word)
	fd, _, err := fr.FieldDictFuzzyAutomaton(fieldTextRaw, word, fuzz, word[:size])
	if err != nil {
		return nil, err
	}
	var ts []typoTerm
	err = eachTerm(fd, func(e *index.DictEntry) {
		ts = append(ts, typoTerm{term: e.Term, dist: e.EditDistance})
	})
	if err != nil {
		return nil, err
	}
	b.typos.put(key, ts)
	return ts, nil
}

// typoCache remembers the typo terms of recently searched words. Finding
// them costs a Levenshtein automaton (0.2–1 ms and ~1 MB of garbage for a
// 5–10 letter word at 2 edits), and shoppers repeat the same misspellings.
//
// Entries live between typoCacheTTL and twice that. A write to the index
// empties the cache at the next lookup, but at most once per
// typoCacheStaleness, so a word new to the catalog is reachable through a
// misspelling within that time even under a steady stream of writes, while
// the cache still serves between writes. Terms that disappear from the index
// simply match nothing. The cache holds at most 2*typoCacheSize words.
type typoCache struct {
	mu        sync.Mutex
	cur, prev map[typoKey][]typoTerm
	since     time.Time // when cur was started
	dirty     bool      // the index gained terms since the last reset
	resetAt   time.Time
}

type typoKey struct {
	word string
	fuzz int
}

const (
	typoCacheTTL       = time.Minute
	typoCacheSize      = 20_000
	typoCacheStaleness = 250 * time.Millisecond
)

// written records that the index may hold new terms.
func (c *typoCache) written() {
	c.mu.Lock()
	c.dirty = true
	c.mu.Unlock()
}

func (c *typoCache) get(k typoKey) ([]typoTerm, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate()
	if ts, ok := c.cur[k]; ok {
		return ts, true
	}
	ts, ok := c.prev[k]
	return ts, ok
}

func (c *typoCache) put(k typoKey, ts []typoTerm) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate()
	if len(c.cur) >= typoCacheSize {
		c.prev, c.cur, c.since = c.cur, map[typoKey][]typoTerm{}, time.Now()
	}
	c.cur[k] = ts
}

// rotate drops entries older than the TTL generation.
func (c *typoCache) rotate() {
	if c.dirty && time.Since(c.resetAt) >= typoCacheStaleness {
		c.cur, c.prev, c.since = map[typoKey][]typoTerm{}, nil, time.Now()
		c.dirty, c.resetAt = false, time.Now()
		return
	}
	switch age := time.Since(c.since); {
	case c.cur == nil || age >= 2*typoCacheTTL:
		c.cur, c.prev, c.since = map[typoKey][]typoTerm{}, nil, time.Now()
	case age >= typoCacheTTL:
		c.prev, c.cur, c.since = c.cur, map[typoKey][]typoTerm{}, time.Now()
	}
}
