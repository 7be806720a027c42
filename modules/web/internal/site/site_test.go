package site

import "testing"

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
