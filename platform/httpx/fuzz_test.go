package httpx

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/modshop/modshop/platform/errs"
)

type fuzzLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type fuzzBody struct {
	Email   string            `json:"email"`
	Lines   []fuzzLine        `json:"lines"`
	Ship    *fuzzLine         `json:"ship,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
	Extra   any               `json:"extra,omitempty"`
	Enabled *bool             `json:"enabled,omitempty"`
}

// FuzzBind feeds request bodies to the strict binder: it never panics,
// refuses only with 400 bad_request, and what it accepts encodes and binds
// again to the same value. Seeds: testdata/fuzz/FuzzBind.
func FuzzBind(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com","lines":[{"sku":"A","quantity":1}]}`,
		`{"EMAIL":"x"}`, `{"email":"a","email":"b"}`, `{"lines":[{"sku":"\u0000"}]}`,
		`{"attrs":{"a":"1","a":"2"}}`, `{"extra":[{"x":{"y":1,"y":2}}]}`, "{\"email\":\"\xff\"}", `[]`, `null`, `{}`, `{"ship":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v fuzzBody
		err := decodeStrict(data, &v)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindBadRequest {
				t.Fatalf("refused with %v, want a 400", err)
			}
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted a body it cannot encode: %v", err)
		}
		var w fuzzBody
		if err := decodeStrict(again, &w); err != nil {
			t.Fatalf("refused its own encoding %s: %v", again, err)
		}
	})
}
