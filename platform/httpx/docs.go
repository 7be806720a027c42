package httpx

import (
	"embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiDocs is the API reference page: Redoc's standalone bundle (version
// 2.5.0 from npm, with its licence) and a small script that points it at
// /openapi.json. Everything is served from the binary; nothing from a CDN.
//
//go:embed apidocs/index.html apidocs/docs.js apidocs/redoc.standalone.js
var apiDocs embed.FS

// docsCSP is the page's Content-Security-Policy: scripts only from this
// origin, never inline and never eval. Redoc (styled-components) writes its
// CSS into <style> elements at run time, which style-src 'unsafe-inline'
// allows; its search runs in a worker it starts from a blob: URL.
const docsCSP = "default-src 'none'; script-src 'self'; worker-src blob:; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func registerDocs(e *echo.Echo) {
	serve := func(name, contentType string) echo.HandlerFunc {
		return func(c echo.Context) error {
			b, err := apiDocs.ReadFile("apidocs/" + name)
			if err != nil {
				return echo.NewHTTPError(http.StatusNotFound)
			}
			c.Response().Header().Set("Content-Security-Policy", docsCSP)
			c.Response().Header().Set("Cache-Control", "public, max-age=3600")
			return c.Blob(http.StatusOK, contentType, b)
		}
	}
	e.GET("/docs", serve("index.html", echo.MIMETextHTMLCharsetUTF8))
	e.GET("/docs/docs.js", serve("docs.js", echo.MIMEApplicationJavaScriptCharsetUTF8))
	e.GET("/docs/redoc.standalone.js", serve("redoc.standalone.js", echo.MIMEApplicationJavaScriptCharsetUTF8))
}
