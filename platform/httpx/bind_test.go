package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/httpx"
)

type line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type base struct {
	Note string `json:"note,omitempty"`
}

type order struct {
	base
	Lines   []line            `json:"lines"`
	Ship    *line             `json:"ship"`
	Meta    map[string]string `json:"meta"`
	Any     any               `json:"any"`
	Skipped string            `json:"-"`
}

func bindString(t testing.TB, body string, dst any) error {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	c := echo.New().NewContext(req, httptest.NewRecorder())
	return httpx.Bind(c, dst)
}

// TestBindStrictKeys: keys match their field exactly, and no object,
// however deep, names a key twice.
func TestBindStrictKeys(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`{"lines":[{"sku":"A","quantity":1}],"ship":{"sku":"B","quantity":2},"meta":{"a":"1","A":"2"},"any":{"x":1},"note":"n"}`, true},
		{`{"Lines":[]}`, false},
		{`{"lines":[{"SKU":"A","quantity":1}]}`, false},
		{`{"ship":{"sku":"A","Quantity":1}}`, false},
		{`{"NOTE":"x"}`, false},
		{`{"Skipped":"x"}`, false},
		{`{"lines":[],"lines":[]}`, false},
		{`{"lines":[{"sku":"A","sku":"B"}]}`, false},
		{`{"meta":{"a":"1","a":"2"}}`, false},
		{`{"any":{"x":1,"x":2}}`, false},
		{`{"any":[{"y":{"z":1,"z":1}}]}`, false},
	} {
		var o order
		err := bindString(t, tt.body, &o)
		if tt.ok != (err == nil) {
			t.Errorf("%s: err %v, want ok=%v", tt.body, err, tt.ok)
		}
		var e *errs.Error
		if err != nil && (!errors.As(err, &e) || e.Kind != errs.KindBadRequest) {
			t.Errorf("%s: %v is not a bad request", tt.body, err)
		}
	}
}
