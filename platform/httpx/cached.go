package httpx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// EncodeJSON encodes v exactly as c.JSON would answer it (HTML-safe
// escaping, a final newline, two-space indent when pretty) and gives the
// body's strong ETag: what a read cache keeps to answer again.
func EncodeJSON(v any, pretty bool) (body []byte, etag string, err error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b.Bytes())
	return b.Bytes(), `"` + hex.EncodeToString(sum[:16]) + `"`, nil
}

// WantsPretty is echo's rule for indenting JSON (?pretty present).
func WantsPretty(c echo.Context) bool {
	_, ok := c.QueryParams()["pretty"]
	return ok
}

// CachedJSON answers a kept JSON body with its ETag, or 304 Not Modified
// when the client already has it. Caches may keep the answer but must ask
// again before using it (Cache-Control: no-cache): with If-None-Match that
// costs a 304.
func CachedJSON(c echo.Context, body []byte, etag string) error {
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if noneMatch(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

// noneMatch is If-None-Match's weak comparison (RFC 9110, 13.1.2).
func noneMatch(header, etag string) bool {
	if header == "" || etag == "" {
		return false
	}
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
