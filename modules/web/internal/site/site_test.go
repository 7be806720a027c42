package site

import (
	"bytes"
	"testing"
)

// After sign-in the visitor goes back where they were, but only to a path
// of this shop: anything that a browser would read as another origin goes
// to the account page instead.
func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/checkout":              "/checkout",
		"/products/boots?x=1":    "/products/boots?x=1",
		"":                       "/account",
		"https://evil.example/":  "/account",
		"//evil.example/":        "/account",
		"/\\evil.example":        "/account",
		"javascript:alert(1)":    "/account",
		"/ok\r\nSet-Cookie: x=1": "/account",
		"evil.example/path":      "/account",
	} {
		if got := SafeNext(next); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// A cart cookie that could not be a cart id is not sent on to the cart
// module.
func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"01jq4cart0000000000000001": true, "abc": false, "../../etc/passwd": false,
		"a b c d e f g h": false, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0": false,
	} {
		if got := validID(id); got != want {
			t.Errorf("validID(%q) = %v, want %v", id, got, want)
		}
	}
}

// The kept fragments hold at most their bound in bytes, dropping the least
// recently used first, and a kept key is answered as it was put.
func TestFragmentsStayWithinTheirBound(t *testing.T) {
	f := newFragments(100)
	page := func(c byte) []byte { return bytes.Repeat([]byte{c}, 30) }
	f.put("a", page('a'))
	f.put("b", page('b'))
	f.put("c", page('c'))
	if _, ok := f.get("a"); !ok { // a is now the most recently used
		t.Fatal("a was dropped within the bound")
	}
	f.put("d", page('d')) // 4 × 31 bytes > 100: the least recently used (b) goes
	if _, ok := f.get("b"); ok {
		t.Fatal("b should have been dropped")
	}
	for _, k := range []string{"a", "c", "d"} {
		if html, ok := f.get(k); !ok || html[0] != k[0] {
			t.Fatalf("%s: %q %v", k, html, ok)
		}
	}
	if f.size > 100 || f.size != 3*31 {
		t.Fatalf("size %d", f.size)
	}
	f.put("big", bytes.Repeat([]byte{'x'}, 200)) // larger than the bound: kept by nothing
	if f.size > 100 {
		t.Fatalf("size %d over the bound", f.size)
	}
}
