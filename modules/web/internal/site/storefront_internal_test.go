package site

import (
	"testing"

	"github.com/modshop/modshop/platform/errs"
)

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64 // -1: a field error
	}{
		{"25", 2500}, {"19.99", 1999}, {"19,9", 1990}, {"0", 0}, {".5", 50}, {"0.05", 5}, {"10000000", 1_000_000_000},
		{"abc", -1}, {"-5", -1}, {"1.999", -1}, {"1.", -1}, {".", -1}, {"1e3", -1}, {"1 000", -1}, {"10000001", -1},
		{"1234567890", -1}, {"12.3.4", -1}, {"+5", -1},
	} {
		var f errs.Fields
		got := parseMoney(&f, "p", c.in)
		switch {
		case c.want < 0 && (got != nil || len(f) != 1 || f[0].Field != "p"):
			t.Errorf("%q: %v %v, want a field error", c.in, got, f)
		case c.want >= 0 && (got == nil || *got != c.want || len(f) != 0):
			t.Errorf("%q: %v %v, want %d", c.in, got, f, c.want)
		}
	}
	var f errs.Fields
	if got := parseMoney(&f, "p", ""); got != nil || len(f) != 0 {
		t.Errorf("empty: %v %v, want no amount and no error", got, f)
	}
}

// A snippet's only markup is <mark>, whatever the search answered.
func TestMarkOnly(t *testing.T) {
	for in, want := range map[string]string{
		"The <mark>leather</mark> boots &amp; belts":     "The <mark>leather</mark> boots &amp; belts",
		"<script>alert(1)</script><mark>x</mark>":        "&lt;script&gt;alert(1)&lt;/script&gt;<mark>x</mark>",
		"&lt;b&gt; <mark>a<img src=x></mark> </mark>end": "&lt;b&gt; <mark>a&lt;img src=x&gt;</mark> end",
		"<mark>unclosed": "<mark>unclosed</mark>",
	} {
		if got := string(markOnly(in)); got != want {
			t.Errorf("%q:\n got %q\nwant %q", in, got, want)
		}
	}
}
