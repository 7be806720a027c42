package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/tracing"
)

// Operations are declared once per api method, in the module's remote.go,
// as a value of one of the generic types below, named by the number of the
// method's arguments (after its context) and the shape of its results:
//
//	OpN   N arguments, one result and an error
//	CmdN  N arguments, only an error
//	OpNPair  N arguments, two results and an error
//
// The server serves the method with Serve and the client calls it with
// Call, both typed by the one declaration: a method that does not fit it,
// or a call with other arguments, does not compile. On the wire the
// arguments are a JSON array (`["r-1",[{"sku":"A","quantity":1}],900000000000]`),
// a result is its JSON (a pair: an array of two), a command answers 204.
//
// Retry says whether the client tries a call again when the module cannot
// be reached or answers 503 (Once, the zero value: never); RetryIf, when
// set, has the calls whose arguments it accepts tried again too (an
// adjustment is retried only when it carries an idempotency key).

// Policy says whether a call is tried again.
type Policy int

const (
	// Once: the call is tried once; a caller that needs a retry makes it,
	// with the same ids.
	Once Policy = iota
	// Retry: the call is tried again, twice at most, when the module cannot
	// be reached or answers 503: it is idempotent.
	Retry
)

// Op0 is an operation without arguments and with one result.
type Op0[R any] struct {
	Name  string
	Retry Policy
}

// Call runs the operation at c's module. (Each Call assigns err before it
// returns r: in `return r, c.call(…, &r)` Go does not say whether r is read
// before or after the call.)
func (o Op0[R]) Call(ctx context.Context, c *Client) (r R, err error) {
	if fn, lctx, span, ok, lerr := inProcess[func(context.Context) (R, error)](ctx, c, o.Name); lerr != nil {
		return r, lerr
	} else if ok {
		defer func() { tracing.End(span, err) }()
		return fn(lctx)
	}
	err = c.call(ctx, o.Name, o.Retry == Retry, []any{}, &r)
	return r, err
}

// Serve is the internal route that runs fn.
func (o Op0[R]) Serve(fn func(context.Context) (R, error)) Endpoint {
	return Endpoint{Op: o.Name, fn: fn, Handler: func(ec echo.Context) error {
		return serve(ec, func(ctx context.Context) (any, error) { return fn(ctx) })
	}}
}

// Op1 is an operation of one argument and one result.
type Op1[A, R any] struct {
	Name    string
	Retry   Policy
	RetryIf func(A) bool
}

func (o Op1[A, R]) Call(ctx context.Context, c *Client, a A) (r R, err error) {
	if fn, lctx, span, ok, lerr := inProcess[func(context.Context, A) (R, error)](ctx, c, o.Name); lerr != nil {
		return r, lerr
	} else if ok {
		defer func() { tracing.End(span, err) }()
		return fn(lctx, a)
	}
	retry := o.Retry == Retry || o.RetryIf != nil && o.RetryIf(a)
	err = c.call(ctx, o.Name, retry, []any{a}, &r)
	return r, err
}

func (o Op1[A, R]) Serve(fn func(context.Context, A) (R, error)) Endpoint {
	return Endpoint{Op: o.Name, fn: fn, Handler: func(ec echo.Context) error {
		var a A
		return serve(ec, func(ctx context.Context) (any, error) { return fn(ctx, a) }, &a)
	}}
}

// Op2 is an operation of two arguments and one result.
type Op2[A, B, R any] struct {
	Name    string
	Retry   Policy
	RetryIf func(A, B) bool
}

func (o Op2[A, B, R]) Call(ctx context.Context, c *Client, a A, b B) (r R, err error) {
	if fn, lctx, span, ok, lerr := inProcess[func(context.Context, A, B) (R, error)](ctx, c, o.Name); lerr != nil {
		return r, lerr
	} else if ok {
		defer func() { tracing.End(span, err) }()
		return fn(lctx, a, b)
	}
	retry := o.Retry == Retry || o.RetryIf != nil && o.RetryIf(a, b)
	err = c.call(ctx, o.Name, retry, []any{a, b}, &r)
	return r, err
}

func (o Op2[A, B, R]) Serve(fn func(context.Context, A, B) (R, error)) Endpoint {
	return Endpoint{Op: o.Name, fn: fn, Handler: func(ec echo.Context) error {
		var a A
		var b B
		return serve(ec, func(ctx context.Context) (any, error) { return fn(ctx, a, b) }, &a, &b)
	}}
}

// Op3 is an operation of three arguments and one result.
type Op3[A, B, C, R any] struct {
	Name    string
	Retry   Policy
	RetryIf func(A, B, C) bool
}

func (o Op3[A, B, C, R]) Call(ctx context.Context, c *Client, a A, b B, cc C) (r R, err error) {
	if fn, lctx, span, ok, lerr := inProcess[func(context.Context, A, B, C) (R, error)](ctx, c, o.Name); lerr != nil {
		return r, lerr
	} else if ok {
		defer func() { tracing.End(span, err) }()
		return fn(lctx, a, b, cc)
	}
	retry := o.Retry == Retry || o.RetryIf != nil && o.RetryIf(a, b, cc)
	err = c.call(ctx, o.Name, retry, []any{a, b, cc}, &r)
	return r, err
}

func (o Op3[A, B, C, R]) Serve(fn func(context.Context, A, B, C) (R, error)) Endpoint {
	return Endpoint{Op: o.Name, fn: fn, Handler: func(ec echo.Context) error {
		var a A
		var b B
		var cc C
		return serve(ec, func(ctx context.Context) (any, error) { return fn(ctx, a, b, cc) }, &a, &b, &cc)
	}}
}

// Cmd1 is an operation of one argument that gives only an error.
type Cmd1[A any] struct {
	Name    string
	Retry   Policy
	RetryIf func(A) bool
}

func (o Cmd1[A]) Call(ctx context.Context, c *Client, a A) (err error) {
	if fn, lctx, span, ok, lerr := inProcess[func(context.Context, A) error](ctx, c, o.Name); lerr != nil {
		return lerr
	} else if ok {
		defer func() { tracing.End(span, err) }()
		return fn(lctx, a)
	}
	retry := o.Retry == Retry || o.RetryIf != nil && o.RetryIf(a)
	return c.call(ctx, o.Name, retry, []any{a}, nil)
}

func (o Cmd1[A]) Serve(fn func(context.Context, A) error) Endpoint {
	return Endpoint{Op: o.Name, fn: fn, Handler: func(ec echo.Context) error {
		var a A
		return serve(ec, func(ctx context.Context) (any, error) { return nil, fn(ctx, a) }, &a)
	}}
}

// Cmd2 is an operation of two arguments that gives only an error.
type Cmd2[A, B any] struct {
	Name    string
	Retry   Policy
	RetryIf func(A, B) bool
}

func (o Cmd2[A, B]) Call(ctx context.Context, c *Client, a A, b B) (err error) {
	if fn, lctx, span, ok, lerr := inProcess[func(context.Context, A, B) error](ctx, c, o.Name); lerr != nil {
		return lerr
	} else if ok {
		defer func() { tracing.End(span, err) }()
		return fn(lctx, a, b)
	}
	retry := o.Retry == Retry || o.RetryIf != nil && o.RetryIf(a, b)
	return c.call(ctx, o.Name, retry, []any{a, b}, nil)
}

func (o Cmd2[A, B]) Serve(fn func(context.Context, A, B) error) Endpoint {
	return Endpoint{Op: o.Name, fn: fn, Handler: func(ec echo.Context) error {
		var a A
		var b B
		return serve(ec, func(ctx context.Context) (any, error) { return nil, fn(ctx, a, b) }, &a, &b)
	}}
}

// Op2Pair is an operation of two arguments and two results (a page and
// its next cursor).
type Op2Pair[A, B, R1, R2 any] struct {
	Name    string
	Retry   Policy
	RetryIf func(A, B) bool
}

func (o Op2Pair[A, B, R1, R2]) Call(ctx context.Context, c *Client, a A, b B) (r1 R1, r2 R2, err error) {
	if fn, lctx, span, ok, lerr := inProcess[func(context.Context, A, B) (R1, R2, error)](ctx, c, o.Name); lerr != nil {
		return r1, r2, lerr
	} else if ok {
		defer func() { tracing.End(span, err) }()
		return fn(lctx, a, b)
	}
	retry := o.Retry == Retry || o.RetryIf != nil && o.RetryIf(a, b)
	err = c.call(ctx, o.Name, retry, []any{a, b}, &[2]any{&r1, &r2})
	return r1, r2, err
}

func (o Op2Pair[A, B, R1, R2]) Serve(fn func(context.Context, A, B) (R1, R2, error)) Endpoint {
	return Endpoint{Op: o.Name, fn: fn, Handler: func(ec echo.Context) error {
		var a A
		var b B
		return serve(ec, func(ctx context.Context) (any, error) { return pair(fn(ctx, a, b)) }, &a, &b)
	}}
}

// Op5Pair is an operation of five arguments and two results.
type Op5Pair[A, B, C, D, E, R1, R2 any] struct {
	Name    string
	Retry   Policy
	RetryIf func(A, B, C, D, E) bool
}

func (o Op5Pair[A, B, C, D, E, R1, R2]) Call(ctx context.Context, c *Client, a A, b B, cc C, d D, e E) (r1 R1, r2 R2, err error) {
	if fn, lctx, span, ok, lerr := inProcess[func(context.Context, A, B, C, D, E) (R1, R2, error)](ctx, c, o.Name); lerr != nil {
		return r1, r2, lerr
	} else if ok {
		defer func() { tracing.End(span, err) }()
		return fn(lctx, a, b, cc, d, e)
	}
	retry := o.Retry == Retry || o.RetryIf != nil && o.RetryIf(a, b, cc, d, e)
	err = c.call(ctx, o.Name, retry, []any{a, b, cc, d, e}, &[2]any{&r1, &r2})
	return r1, r2, err
}

func (o Op5Pair[A, B, C, D, E, R1, R2]) Serve(fn func(context.Context, A, B, C, D, E) (R1, R2, error)) Endpoint {
	return Endpoint{Op: o.Name, fn: fn, Handler: func(ec echo.Context) error {
		var a A
		var b B
		var cc C
		var d D
		var e E
		return serve(ec, func(ctx context.Context) (any, error) { return pair(fn(ctx, a, b, cc, d, e)) }, &a, &b, &cc, &d, &e)
	}}
}

func pair[R1, R2 any](r1 R1, r2 R2, err error) (any, error) { return [2]any{r1, r2}, err }

// serve decodes a request's arguments into args (a JSON array of exactly
// that many values, decoded strictly: unknown fields, wrong types or
// another number of arguments are 400 bad_request), runs the operation with
// the caller's deadline, identity and trace, and answers its result: JSON,
// or 204 for a command's nil. An api error's answer carries its id.
func serve(ec echo.Context, run func(context.Context) (any, error), args ...any) error {
	if err := decodeArgs(ec.Request(), args); err != nil {
		return err
	}
	ctx, cancel := callContext(ec.Request())
	defer cancel()
	out, err := run(ctx)
	switch {
	case err != nil:
		return withID(err)
	case out == nil:
		return ec.NoContent(http.StatusNoContent)
	}
	return ec.JSON(http.StatusOK, out)
}

func decodeArgs(r *http.Request, args []any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	bad := func(what string, err error) error {
		var he *echo.HTTPError // the body limit's 413
		if errors.As(err, &he) {
			return he
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return errs.BadRequest(fmt.Sprintf("the arguments must be a JSON array of %d values: %s", len(args), what)).WithCause(err)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return bad("no array", err)
	}
	for i, a := range args {
		if !dec.More() {
			return bad(fmt.Sprintf("%d given", i), nil)
		}
		if err := dec.Decode(a); err != nil {
			return bad(fmt.Sprintf("argument %d is not valid", i+1), err)
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') {
		return bad("too many values", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("data after the array", err)
	}
	return nil
}
