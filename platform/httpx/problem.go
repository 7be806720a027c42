package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/errs"
)

// ProblemContentType is the media type of RFC 9457 problem documents.
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem document with modshop's members.
type Problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail,omitempty"`
	Instance string            `json:"instance,omitempty"`
	Code     string            `json:"code"`
	Errors   []errs.FieldError `json:"errors,omitempty"`
	// Extra members (e.g. "unavailable" for out_of_stock) are merged in when written.
	Extra map[string]any `json:"-"`
}

// ProblemFor maps any error to a problem; ok is false for an unexpected error
// that must be logged (its text never reaches the client).
func ProblemFor(err error) (p Problem, ok bool) {
	var he *echo.HTTPError
	var ne *net.OpError
	switch e := errs.As(err); {
	case (e == nil || e.Kind == errs.KindInternal) && errors.Is(err, context.DeadlineExceeded):
		return problem(503, "unavailable", "the request took too long"), true
	case e != nil && e.Kind == errs.KindInternal && errors.As(err, &ne):
		// A dependency (the database, a remote module) cannot be reached.
		return problem(503, "unavailable", "a service this request needs is not answering"), false
	case e != nil:
		if e.Kind == errs.KindInternal {
			return problem(http.StatusInternalServerError, "internal", "internal error"), false
		}
		p = problem(e.Kind.Status(), e.Code, e.Message)
		p.Errors = e.Fields
		p.Extra = e.Extra
		return p, true
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return problem(404, "not_found", "no such resource"), true
		case http.StatusMethodNotAllowed:
			return problem(405, "bad_request", "method not allowed on this resource"), true
		case http.StatusRequestEntityTooLarge:
			return problem(413, "payload_too_large", "the request body is larger than 1 MiB"), true
		case http.StatusUnsupportedMediaType:
			return problem(415, "unsupported_media_type", "request bodies must be application/json"), true
		case http.StatusUnauthorized:
			return problem(401, "unauthorized", "a valid bearer token is required"), true
		case http.StatusForbidden:
			return problem(403, "forbidden", "not allowed for your role"), true
		case http.StatusServiceUnavailable:
			return problem(503, "unavailable", "the service is not available right now"), true
		case http.StatusTooManyRequests:
			return problem(429, "rate_limited", "too many requests"), true
		case http.StatusBadRequest:
			return problem(400, "bad_request", "the request is malformed"), true
		}
		if he.Code >= 400 && he.Code < 500 {
			return problem(he.Code, "bad_request", http.StatusText(he.Code)), true
		}
		return problem(http.StatusInternalServerError, "internal", "internal error"), false
	case errors.Is(err, context.DeadlineExceeded):
		return problem(503, "unavailable", "the request took too long"), true
	case errors.Is(err, context.Canceled):
		return problem(503, "unavailable", "the request was cancelled"), true
	case errors.As(err, &ne):
		return problem(503, "unavailable", "a service this request needs is not answering"), false
	default:
		return problem(http.StatusInternalServerError, "internal", "internal error"), false
	}
}

func problem(status int, code, detail string) Problem {
	return Problem{Type: "/problems/" + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

// body merges Extra into the document.
func (p Problem) body() map[string]any {
	m := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status, "code": p.Code}
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.Instance != "" {
		m["instance"] = p.Instance
	}
	if len(p.Errors) > 0 {
		m["errors"] = p.Errors
	}
	for k, v := range p.Extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return m
}

// ErrorHandler is echo's one error mapper: every error becomes problem+json.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler { return errorHandler(log, nil) }

func errorHandler(log *slog.Logger, unavailable func(error) bool) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p, ok := ProblemFor(err)
		if p.Status == http.StatusInternalServerError && unavailable != nil && unavailable(err) {
			p, ok = problem(503, "unavailable", "a service this request needs is not answering"), false
		}
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		if !ok {
			log.Error("request failed", "err", err, "method", c.Request().Method, "path", c.Request().URL.Path, "request_id", rid)
		}
		p.Instance = c.Request().URL.Path
		if badText(p.Instance) {
			p.Instance = c.Request().URL.EscapedPath() // never echo a NUL byte or invalid UTF-8
		}
		if p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable {
			if c.Response().Header().Get("Retry-After") == "" {
				if v, ok := p.Extra["retry_after"]; ok {
					c.Response().Header().Set("Retry-After", toString(v))
				} else if p.Status == http.StatusServiceUnavailable {
					c.Response().Header().Set("Retry-After", "1")
				}
			}
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
		c.Response().WriteHeader(p.Status)
		_ = jsonEncode(c.Response(), p.body())
	}
}
