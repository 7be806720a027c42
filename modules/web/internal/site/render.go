package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	catalog "github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/errs"
)

// templates are the pages: layout.html is the frame, _*.html are partials
// every page may use, and every other file is one page that defines
// "content" (and may define "head").
//
//go:embed templates/*.html
var templateFS embed.FS

type views struct{ pages map[string]*template.Template }

func parseViews() (*views, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	partials, _ := fs.Glob(templateFS, "templates/_*.html")
	if len(partials) > 0 {
		if base, err = base.ParseFS(templateFS, partials...); err != nil {
			return nil, err
		}
	}
	files, _ := fs.Glob(templateFS, "templates/*.html")
	v := &views{pages: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		v.pages[name] = t
	}
	return v, nil
}

// View is what the layout gets: the page's own data is Data.
type View struct {
	Title     string
	Visitor   Visitor
	CSRF      string
	Flash     string
	CartCount int64
	Query     string // the search box's text
	Path      string // the request's path (the current page in the navigation)
	Data      any
	// Content, when set, is the page's content rendered already (a kept
	// fragment, fragments.go), shown instead of its "content" template.
	Content template.HTML
}

func errNoTemplate(name string) error { return fmt.Errorf("no template %q", name) }

func (s *Site) render(c echo.Context, v *Visit, status int, name, title string, data any) error {
	return s.renderContent(c, v, status, name, title, data, "")
}

// renderContent renders the page in the layout, with its content rendered
// already when content is not "".
func (s *Site) renderContent(c echo.Context, v *Visit, status int, name, title string, data any, content template.HTML) error {
	t, ok := s.views.pages[name]
	if !ok {
		return errNoTemplate(name)
	}
	view := View{Title: title, Data: data, Path: c.Request().URL.Path, Query: c.QueryParam("q"), Content: content}
	if v != nil {
		view.Visitor, view.CSRF, view.Flash = v.Visitor, v.CSRF, v.flash
		view.CartCount = s.cartCount(v)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", view); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// ErrorPage is what error.html shows.
type ErrorPage struct {
	Status  int
	Heading string
	Message string
	Fields  []errs.FieldError
}

// fail answers a request that went wrong with an HTML page of the error's
// status: a module's api error keeps its status and message (404 for a
// product that is not there), anything else is a 500 that says nothing of
// its cause, which is logged.
func (s *Site) fail(c echo.Context, v *Visit, err error) error {
	if c.Response().Committed {
		return nil
	}
	e := errs.As(err)
	if e == nil { // not an api error (a database's, say): a 500, logged below
		e = errs.Internal(err)
	}
	status := e.Kind.Status()
	page := ErrorPage{Status: status, Message: e.Message, Fields: e.Fields}
	switch {
	case status >= 500:
		s.d.Log.Error("web page failed", "path", c.Request().URL.Path, "err", err)
		page.Heading = "Something went wrong"
		page.Message = "The shop could not answer this page. Please try again in a moment."
		if status == http.StatusServiceUnavailable {
			page.Heading = "Temporarily unavailable"
		}
	case status == http.StatusNotFound:
		page.Heading = "Not found"
	case status == http.StatusForbidden:
		page.Heading = "Not allowed"
	default:
		page.Heading = "That did not work"
	}
	return s.render(c, v, status, "error", page.Heading, page)
}

var funcs = template.FuncMap{
	"money":     Money,
	"date":      func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"asset":     assetURL,
	"query":     url.QueryEscape,
	"path":      url.PathEscape,
	"add":       func(a, b int) int { return a + b },
	"hasPrefix": strings.HasPrefix,
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	// fieldError is the message of one field of a form's error, "" if none.
	"fieldError": func(fields []errs.FieldError, name string) string {
		for _, f := range fields {
			if f.Field == name {
				return f.Message
			}
		}
		return ""
	},
}

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}

// Money formats minor units with the currency's symbol (or code).
func Money(m catalog.Money) string {
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	n := strconv.FormatInt(a/100, 10) + "." + fmt.Sprintf("%02d", a%100)
	if sym, ok := currencySymbols[m.Currency]; ok {
		return sign + sym + n
	}
	return sign + n + " " + m.Currency
}
