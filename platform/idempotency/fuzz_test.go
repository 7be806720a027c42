package idempotency

import "testing"

// FuzzCheck: a key is valid exactly when it is 1 to MaxLen bytes of
// printable ASCII without spaces. Seeds: testdata/fuzz/FuzzCheck.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"my-first-order", "", " ", "a b", "\x00", "ü", "k\x7f", string(make([]byte, 256))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		want := len(key) <= MaxLen
		for i := 0; i < len(key); i++ {
			if key[i] < 0x21 || key[i] > 0x7e {
				want = false
			}
		}
		if got := Check(key) == nil; got != want {
			t.Fatalf("Check(%q) accepted=%v, want %v", key, got, want)
		}
	})
}
