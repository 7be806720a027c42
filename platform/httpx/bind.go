package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/errs"
)

// Bind decodes a JSON request body into dst strictly: the content type must be
// application/json (else 415), unknown fields, wrong types, trailing data and
// malformed JSON, keys in another case than their field's and keys named
// twice in one object are 400 bad_request, a body over the limit is 413.
func Bind(c echo.Context, dst any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType)
	}
	data, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return decodeError(err)
	}
	return decodeStrict(data, dst)
}

// decodeStrict is Bind's decoding of a body already read.
func decodeStrict(data []byte, dst any) error {
	if !utf8.Valid(data) {
		return errs.BadRequest("the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.BadRequest("the body must hold exactly one JSON value")
	}
	if err := checkKeys(data, reflect.TypeOf(dst)); err != nil {
		return errs.BadRequest(err.Error())
	}
	return nil
}

func decodeError(err error) error {
	var he *echo.HTTPError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he // the body limit's 413
	case errors.As(err, &mbe):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	case errors.Is(err, io.EOF):
		return errs.BadRequest("the request body is empty")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.BadRequest("the body is not valid JSON")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return errs.BadRequest(fmt.Sprintf("field %q must be of JSON type %s", field, jsonType(typ.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errs.BadRequest("unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return errs.BadRequest("the body is not valid JSON")
	}
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "string":
		return "string"
	case kind == "bool":
		return "boolean"
	case kind == "slice", kind == "array":
		return "array"
	default:
		return "object"
	}
}

// QueryInt reads an optional integer query parameter within [min, max];
// a bad value is a 422 field error.
func QueryInt(c echo.Context, name string, def, min, max int64, fe *errs.Fields) int64 {
	raw := c.QueryParam(name)
	if raw == "" {
		return def
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v < min || v > max {
		fe.Add(name, fmt.Sprintf("must be a whole number from %d to %d", min, max))
		return def
	}
	return v
}

// QueryOptInt is QueryInt for a parameter with no default.
func QueryOptInt(c echo.Context, name string, min, max int64, fe *errs.Fields) *int64 {
	if c.QueryParam(name) == "" {
		return nil
	}
	v := QueryInt(c, name, 0, min, max, fe)
	return &v
}

func jsonEncode(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func toString(v any) string { return fmt.Sprint(v) }
