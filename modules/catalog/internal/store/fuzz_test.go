package store

import (
	"encoding/base64"
	"errors"
	"testing"
)

// FuzzDecodeCursor: a list cursor from outside decodes or is ErrBadCursor,
// never a panic, and what decodes encodes back to a cursor that decodes to
// the same key. Seeds: testdata/fuzz/FuzzDecodeCursor.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(Key{Sort: SortTitle, S: "wool", ID: "p1"}.Encode(), string(SortTitle))
	f.Add(Key{Sort: SortPriceAsc, N: 1999, ID: "p2"}.Encode(), string(SortPriceAsc))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"s":"newest","i":"","n":1}`)), string(SortNewest))
	f.Add("not base64!", string(SortID))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"s":"id","i":"x","i":"y"}`)), string(SortID))
	f.Fuzz(func(t *testing.T, cursor, sort string) {
		s := Sort(sort)
		k, err := DecodeCursor(cursor, s)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("DecodeCursor(%q): %v", cursor, err)
			}
			return
		}
		again, err := DecodeCursor(k.Encode(), s)
		if err != nil || again != k {
			t.Fatalf("%+v does not round-trip: %+v %v", k, again, err)
		}
	})
}
