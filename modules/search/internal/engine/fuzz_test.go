package engine

import (
	"context"
	"errors"
	"testing"
)

// FuzzSearch feeds the query parser, the synonym and typo expansion and the
// cursor decoder text from outside, over a small catalog: a search never
// panics, and fails only with ErrBadCursor (a cursor it did not make).
// Seeds: testdata/fuzz/FuzzSearch.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"", "lether boots", "trail runing shoes", "\x00\xff", "a*", "\"quoted\" -not +must", "ünïcödé ñ", "x~2 y^3"} {
		f.Add(s, "", "")
	}
	good, _ := encodeCursor(SortRelevance, hitKey{score: 1.5, pid: "p01"})
	f.Add("shoes", good, SortRelevance)
	f.Add("shoes", "eyJ2IjoxfQ", SortPriceAsc)
	e, err := OpenBleve("")
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	if err := e.Upsert(context.Background(), catalog...); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, cursor, sort string) {
		switch sort {
		case SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest:
		default:
			sort = ""
		}
		_, err := e.Search(context.Background(), Query{Text: text, Cursor: cursor, Sort: sort, Limit: 5})
		if err != nil && !errors.Is(err, ErrBadCursor) {
			t.Fatalf("Search(%q, cursor %q): %v", text, cursor, err)
		}
	})
}
