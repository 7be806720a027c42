package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestCachedJSONAnswers304ToAClientThatHasIt(t *testing.T) {
	body, etag, err := EncodeJSON(map[string]any{"a": "<b>"}, false)
	if err != nil || string(body) != "{\"a\":\"\\u003cb\\u003e\"}\n" || len(etag) != 34 {
		t.Fatalf("EncodeJSON = %q %q %v (want c.JSON's bytes and a quoted 32-hex ETag)", body, etag, err)
	}
	e := echo.New()
	for _, c := range []struct {
		ifNoneMatch string
		status      int
	}{{"", 200}, {etag, 304}, {"W/" + etag, 304}, {`"other", ` + etag, 304}, {"*", 304}, {`"other"`, 200}} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if c.ifNoneMatch != "" {
			req.Header.Set("If-None-Match", c.ifNoneMatch)
		}
		rec := httptest.NewRecorder()
		if err := CachedJSON(e.NewContext(req, rec), body, etag); err != nil {
			t.Fatal(err)
		}
		if rec.Code != c.status || rec.Header().Get("ETag") != etag || rec.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("If-None-Match %q: %d, ETag %q, Cache-Control %q; want %d", c.ifNoneMatch, rec.Code, rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"), c.status)
		}
		if c.status == 200 && rec.Body.String() != string(body) {
			t.Errorf("body %q", rec.Body.String())
		}
	}
}
