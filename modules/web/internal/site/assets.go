package site

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/httpx"
)

// assets are the site's stylesheet and script, served from the binary
// (nothing from a CDN) under a URL that carries their hash, so a browser
// may keep them for a year and still never runs a stale one.
//
//go:embed assets/*
var assetFS embed.FS

type asset struct {
	body        []byte
	contentType string
	url         string // /assets/NAME?v=HASH
}

var assets = func() map[string]asset {
	out := map[string]asset{}
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	entries, _ := assetFS.ReadDir("assets")
	for _, e := range entries {
		b, _ := assetFS.ReadFile("assets/" + e.Name())
		sum := sha256.Sum256(b)
		out[e.Name()] = asset{body: b, contentType: types[path.Ext(e.Name())], url: "/assets/" + e.Name() + "?v=" + hex.EncodeToString(sum[:6])}
	}
	return out
}()

// assetURL is a named asset's URL, with its hash.
func assetURL(name string) string { return assets[name].url }

func (s *Site) assetRoutes() []httpx.Route {
	return []httpx.Route{{Method: http.MethodGet, Path: "/assets/:name", Access: httpx.Public, Hidden: true, Summary: "web asset",
		Handler: func(c echo.Context) error {
			a, ok := assets[c.Param("name")]
			if !ok {
				return echo.NewHTTPError(http.StatusNotFound)
			}
			c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
			return c.Blob(http.StatusOK, a.contentType, a.body)
		}}}
}
