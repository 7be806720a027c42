package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Env reads MODSHOP_* variables for platform and module settings, and
// collects one problem line per bad variable ("MODSHOP_X: what is wrong"),
// so that every bad value is reported at once, before anything starts.
//
// A module's settings follow one pattern (modules/inventory/settings.go):
// a Settings struct, setDefaults for the zero values, Validate reporting
// every bad value, and ReadSettings(env) that starts from the defaults,
// overrides them with the variables that are set and records what Validate
// finds.
type Env struct {
	getenv   func(string) string
	problems []string
}

// NewEnv reads variables through getenv (os.Getenv, or a map in tests).
func NewEnv(getenv func(string) string) *Env {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &Env{getenv: getenv}
}

// String is the variable's value without surrounding blanks, or def when it
// is unset or blank.
func (e *Env) String(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// Raw is the variable's value exactly as set (a secret may begin or end
// with a blank).
func (e *Env) Raw(name string) string { return e.getenv(name) }

// Duration is the variable's value as a duration, or def when it is unset;
// a value that is not a duration is a problem, and gives def.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := e.String(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.Problem(name, "%q is not a duration such as 15m", v)
		return def
	}
	return d
}

// Int is the variable's value as a whole number in min..max, or def when
// it is unset; any other value is a problem, and gives def.
func (e *Env) Int(name string, def, min, max int) int {
	v := e.String(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		e.Problem(name, "%q is not a whole number", v)
		return def
	case n < min || n > max:
		e.Problem(name, "%d is outside %d..%d", n, min, max)
		return def
	}
	return n
}

// Problem records that the variable name is bad.
func (e *Env) Problem(name, format string, args ...any) {
	e.problems = append(e.problems, name+": "+fmt.Sprintf(format, args...))
}

// Check records every problem in err: an error of Validate, one line per
// bad variable (errors.Join of them), or nil.
func (e *Env) Check(err error) {
	if err == nil {
		return
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		e.problems = append(e.problems, line)
	}
}

// Err is nil, or an *Error listing the problems, sorted, each once (two
// modules may read one variable).
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	p := slices.Clone(e.problems)
	slices.Sort(p)
	return &Error{Problems: slices.Compact(p)}
}

// Within is nil when d is in min..max, else the problem of the variable
// name.
func Within(name string, d, min, max time.Duration) error {
	if d < min || d > max {
		return fmt.Errorf("%s: %s is outside %s..%s", name, d, min, max)
	}
	return nil
}

// Problems are the lines of an *Error, or err's own lines.
func Problems(err error) []string {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Problems
	}
	return strings.Split(err.Error(), "\n")
}
