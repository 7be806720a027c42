package engine

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Snippets are built from the stored text of the returned hits only, with
// the same matching rules as the query (stem, typo, prefix), instead of
// bleve's highlighter: that one needs term vectors in the index and term
// locations collected for every match, which costs index size and search
// time for every hit, not just the page that is shown.

const (
	markOpen  = "<mark>"
	markClose = "</mark>"
	ellipsis  = "…"
	// snippetLead is how many characters of context are kept before the
	// first highlighted word when the snippet does not start the text.
	snippetLead = 30
)

// matcher decides whether a word of a hit's text matches the query: the
// same rules as the query itself, i.e. the word, its stem, or one of its
// expansions.
type matcher struct {
	b        *Bleve
	words    []qword
	expanded map[string]int // expansion term -> index in words
}

func (b *Bleve) newMatcher(words []qword) *matcher {
	m := &matcher{b: b, words: words, expanded: map[string]int{}}
	for i, w := range words {
		for _, e := range w.expansions {
			if _, dup := m.expanded[e.term]; !dup {
				m.expanded[e.term] = i
			}
		}
	}
	return m
}

// match returns the index of the query word that raw (a lower-cased word
// of the text) matches, or -1.
func (m *matcher) match(raw string) int {
	for i, w := range m.words {
		if raw == w.raw {
			return i
		}
	}
	if i, ok := m.expanded[raw]; ok {
		return i
	}
	// Stemming is the costly check: only for words that could share a stem.
	stem := ""
	for i, w := range m.words {
		if w.stem == "" || !mayStemTo(raw, w.stem) {
			continue
		}
		if stem == "" {
			if stem = m.b.stemOf(raw); stem == "" {
				return -1
			}
		}
		if stem == w.stem {
			return i
		}
	}
	return -1
}

type span struct {
	start, end int // byte offsets of a matched token
	word       int // index of the query word
}

// matches returns the matched words of text, in order.
func (b *Bleve) matches(m *matcher, text string) []span {
	if len(m.words) == 0 || text == "" {
		return nil
	}
	var out []span
	eachWord(text, func(start, end int) {
		w := text[start:end]
		if hasUpper(w) {
			w = strings.ToLower(w)
		}
		if i := m.match(w); i >= 0 {
			out = append(out, span{start: start, end: end, word: i})
		}
	})
	return out
}

// eachWord calls fn with the byte range of every word in text: runs of
// letters, digits and marks, which may contain single apostrophes, periods
// and underscores between letters or digits. This is close to the Unicode
// word boundaries the index uses ("t-shirt" is two words, "o'neill" and
// "3.5" one), at a fraction of the cost, and only decides what gets
// highlighted.
func eachWord(text string, fn func(start, end int)) {
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }
	start := -1
	prevJoin := false
	for i, r := range text {
		switch {
		case isWord(r):
			if start < 0 {
				start = i
			}
			prevJoin = false
		case start >= 0 && !prevJoin && (r == '\'' || r == '’' || r == '.' || r == '_'):
			// Joins only if a word character follows.
			next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
			if isWord(next) {
				prevJoin = true
				continue
			}
			fn(start, i)
			start = -1
		default:
			if start >= 0 {
				fn(start, i)
				start = -1
			}
			prevJoin = false
		}
	}
	if start >= 0 {
		fn(start, len(text))
	}
}

func hasUpper(s string) bool {
	for _, r := range s {
		if unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

// snippet is the HTML snippet of a hit: the best fragment of the description
// that matches the query, else the title if it matches, else the start of
// the description.
func (b *Bleve) snippet(m *matcher, title, desc string) string {
	if spans := b.matches(m, desc); len(spans) > 0 {
		return fragment(desc, spans)
	}
	if spans := b.matches(m, title); len(spans) > 0 {
		return fragment(title, spans)
	}
	return fragment(desc, nil)
}

// fragment cuts about SnippetChars characters of text around the window
// with the most distinct matched words, escapes it and marks the spans.
func fragment(text string, spans []span) string {
	start, end := 0, len(text)
	if utf8.RuneCountInString(text) > SnippetChars {
		start = bestWindowStart(text, spans)
		end = advanceRunes(text, start, SnippetChars)
		// Don't cut words: back off to the last space, if there is one.
		if end < len(text) {
			if i := strings.LastIndexAny(text[start:end], " \t\n"); i > 0 {
				end = start + i
			}
		}
	}

	var sb strings.Builder
	sb.Grow(end - start + 64)
	if start > 0 {
		sb.WriteString(ellipsis)
	}
	pos := start
	for _, s := range spans {
		if s.start < pos || s.end > end {
			continue
		}
		sb.WriteString(html.EscapeString(text[pos:s.start]))
		sb.WriteString(markOpen)
		sb.WriteString(html.EscapeString(text[s.start:s.end]))
		sb.WriteString(markClose)
		pos = s.end
	}
	sb.WriteString(html.EscapeString(strings.TrimRight(text[pos:end], " \t\n")))
	if end < len(text) {
		sb.WriteString(ellipsis)
	}
	return sb.String()
}

// bestWindowStart picks the byte offset where the snippet starts: a little
// before the span that opens the window of SnippetChars characters covering
// the most distinct query words (earliest on ties), at a word start.
func bestWindowStart(text string, spans []span) int {
	if len(spans) == 0 {
		return 0
	}
	best, bestScore := 0, -1
	for i, s := range spans {
		winEnd := advanceRunes(text, s.start, SnippetChars-snippetLead)
		seen := map[int]bool{}
		count := 0
		for _, t := range spans[i:] {
			if t.end > winEnd {
				break
			}
			seen[t.word] = true
			count++
		}
		if score := len(seen)*1000 + count; score > bestScore {
			best, bestScore = i, score
		}
	}
	anchor := spans[best].start
	start := retreatRunes(text, anchor, snippetLead)
	if start == 0 {
		return 0
	}
	// Start at a word: after the first space in the lead, if any.
	if i := strings.IndexAny(text[start:anchor], " \t\n"); i >= 0 {
		start += i + 1
	}
	return start
}

// advanceRunes returns the byte offset n runes after from (or len(s)).
func advanceRunes(s string, from, n int) int {
	i := from
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// retreatRunes returns the byte offset n runes before from (or 0).
func retreatRunes(s string, from, n int) int {
	i := from
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return i
}
