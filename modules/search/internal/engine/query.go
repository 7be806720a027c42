package engine

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/search/query"
)

// Scoring weights. A title match weighs titleBoost times a description
// match. Typo matches weigh fuzzyBoost/(edits+1) and prefix matches
// prefixBoost of an exact match in the same field.
const (
	titleBoost  = 4.0
	fuzzyBoost  = 0.5
	prefixBoost = 0.3

	// minPrefixRunes is the shortest last word that is also matched as a
	// prefix; shorter ones would expand to a large part of the dictionary.
	minPrefixRunes = 2
	// maxFuzzyRunes is the longest word that gets typo matching.
	maxFuzzyRunes = 20
	// maxFuzzyWords is the number of words per query that get typo
	// matching (the first ones not common in the catalog); it bounds the
	// cost of a query to a few automata.
	maxFuzzyWords = 4
)

// qword is one word of the query text.
type qword struct {
	raw    string // as the raw analyzer indexes it: lower case, unstemmed
	stem   string // as the English analyzer indexes it; "" for a stop word
	fuzz   int    // allowed edit distance on raw
	prefix bool   // last word: also match raw as a prefix
	// expansions are the typo and prefix matches found in the index (see
	// expand), without terms the exact clauses match anyway.
	expansions []expansion
}

func (w qword) prefixable() bool {
	return w.prefix && utf8.RuneCountInString(w.raw) >= minPrefixRunes
}

// parseText splits user text into at most MaxQueryWords words with the same
// tokenizer the index uses. It accepts any input.
func (b *Bleve) parseText(text string) []qword {
	if len(text) > MaxQueryTextBytes {
		text = text[:MaxQueryTextBytes]
	}
	text = strings.ToValidUTF8(text, " ")
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, text)
	if strings.TrimSpace(text) == "" {
		return nil
	}

	rawTokens := b.raw.Analyze([]byte(text))
	if len(rawTokens) == 0 {
		return nil
	}
	// Both analyzers share the tokenizer, so token positions line up; the
	// stop filter only drops positions.
	stems := make(map[int]string, len(rawTokens))
	for _, t := range b.stem.Analyze([]byte(text)) {
		stems[t.Position] = string(t.Term)
	}

	var words, stopWords []qword
	seen := map[string]int{}
	for i, t := range rawTokens {
		last := i == len(rawTokens)-1
		raw := truncateUTF8(string(t.Term), MaxWordBytes)
		stem, isWord := stems[t.Position]
		w := qword{raw: raw, stem: truncateUTF8(stem, MaxWordBytes), prefix: last}
		if !isWord {
			if len(stopWords) < MaxQueryWords {
				stopWords = append(stopWords, w)
			}
			continue
		}
		w.fuzz = fuzziness(raw)
		if j, dup := seen[raw]; dup {
			words[j].prefix = words[j].prefix || w.prefix
			continue
		}
		if len(words) == MaxQueryWords {
			continue
		}
		seen[raw] = len(words)
		words = append(words, w)
	}
	if len(words) == 0 {
		// Nothing but stop words: match them literally, no typos.
		return dedupeRaw(stopWords)
	}
	return words
}

func dedupeRaw(ws []qword) []qword {
	out := ws[:0]
	seen := map[string]bool{}
	for _, w := range ws {
		if !seen[w.raw] {
			seen[w.raw] = true
			out = append(out, w)
		}
	}
	return out
}

// fuzziness is the allowed edit distance for a word: none up to 2 runes, 1
// for 3–4, 2 for 5 or more. Words with digits (sizes, model numbers) must be
// exact: "1080" should not find "1090". So must words longer than
// maxFuzzyRunes: building the Levenshtein automaton costs about 0.1 ms per
// character, and such words are rarely real.
func fuzziness(raw string) int {
	for _, r := range raw {
		if unicode.IsDigit(r) {
			return 0
		}
	}
	switch n := utf8.RuneCountInString(raw); {
	case n <= 2, n > maxFuzzyRunes:
		return 0
	case n <= 4:
		return 1
	default:
		return 2
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// buildQuery turns parsed words and filters into a bleve query. User text
// only ever reaches bleve as the literal term of a term query.
//
// Every word must match fieldText (title and description) by stem or one of
// its expansions in fieldTextRaw; that conjunction of mostly single terms is
// what bleve iterates. When scoring, title matches are added as optional
// clauses, which bleve only evaluates on documents that already match.
func buildQuery(words []qword, q Query, score bool) query.Query {
	filters := filterQueries(q)
	var filter query.Query
	switch len(filters) {
	case 0:
	case 1:
		filter = filters[0]
	default:
		filter = query.NewConjunctionQuery(filters)
	}
	if len(words) == 0 {
		if filter == nil {
			return query.NewMatchAllQuery()
		}
		return filter
	}

	must := make([]query.Query, 0, len(words))
	var should []query.Query
	for _, w := range words {
		m, s := wordQueries(w)
		must = append(must, m)
		if score {
			should = append(should, s)
		}
	}
	// Single clauses are used as they are: bleve's one-child conjunctions and
	// disjunctions cost a few percent on queries with many matches.
	bq := &query.BooleanQuery{Must: oneOfAll(must)}
	if len(should) > 0 {
		bq.Should = oneOf(should)
	}
	if filter == nil && bq.Should == nil {
		return bq.Must
	}
	bq.Filter = filter
	return bq
}

func oneOfAll(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewConjunctionQuery(qs)
}

// wordQueries returns the clause that matches one word (by stem, or by one
// of its expansions), and the clause that scores its title matches.
func wordQueries(w qword) (must, should query.Query) {
	term := func(field, t string, boost float64) query.Query {
		tq := query.NewTermQuery(t)
		tq.SetField(field)
		tq.SetBoost(boost)
		return tq
	}
	var text, title []query.Query
	if w.stem != "" {
		text = append(text, term(fieldText, w.stem, 1))
		title = append(title, term(fieldTitle, w.stem, titleBoost))
	} else {
		// A stop word (only when the query has nothing else): the stemmed
		// fields do not index it.
		text = append(text, term(fieldTextRaw, w.raw, 1))
		title = append(title, term(fieldTitleRaw, w.raw, titleBoost))
	}
	if len(w.expansions) > 0 {
		textExp := make([]query.Query, len(w.expansions))
		titleExp := make([]query.Query, len(w.expansions))
		for i, e := range w.expansions {
			textExp[i] = term(fieldTextRaw, e.term, e.weight)
			titleExp[i] = term(fieldTitleRaw, e.term, titleBoost*e.weight)
		}
		// Nested, so that bleve's coordination factor counts "matched a
		// typo/prefix variant" once, however many variants there are.
		text = append(text, query.NewDisjunctionQuery(textExp))
		title = append(title, query.NewDisjunctionQuery(titleExp))
	}
	return oneOf(text), oneOf(title)
}

func oneOf(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

// filterQueries builds the non-text conditions of q.
func filterQueries(q Query) []query.Query {
	var fs []query.Query
	if len(q.CategoryIDs) > 0 {
		seen := map[string]bool{}
		var cats []query.Query
		for _, id := range q.CategoryIDs {
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			tq := query.NewTermQuery(id)
			tq.SetField(fieldCategoryPath)
			cats = append(cats, tq)
			if len(cats) == MaxCategoryFilter {
				break
			}
		}
		switch len(cats) {
		case 0:
			// Only empty ids, as from a blank form field: no filter.
		case 1:
			fs = append(fs, cats[0])
		default:
			fs = append(fs, query.NewDisjunctionQuery(cats))
		}
	}
	if q.MinPrice != nil || q.MaxPrice != nil {
		var lo, hi *float64
		if q.MinPrice != nil {
			v := float64(*q.MinPrice)
			lo = &v
		}
		if q.MaxPrice != nil {
			v := float64(*q.MaxPrice)
			hi = &v
		}
		if lo != nil && hi != nil && *lo > *hi {
			fs = append(fs, query.NewMatchNoneQuery())
		} else {
			incl := true
			rq := query.NewNumericRangeInclusiveQuery(lo, hi, &incl, &incl)
			rq.SetField(fieldPrice)
			fs = append(fs, rq)
		}
	}
	if q.InStock != nil {
		t := termOutStock
		if *q.InStock {
			t = termInStock
		}
		tq := query.NewTermQuery(t)
		tq.SetField(fieldDocValues)
		fs = append(fs, tq)
	}
	return fs
}
