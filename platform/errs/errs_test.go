package errs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/modshop/modshop/platform/errs"
)

func TestKindStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind   errs.Kind
		status int
	}{
		{errs.KindInternal, 500}, {errs.KindBadRequest, 400}, {errs.KindValidation, 422},
		{errs.KindUnauthorized, 401}, {errs.KindForbidden, 403}, {errs.KindNotFound, 404},
		{errs.KindConflict, 409}, {errs.KindPaymentRequired, 402}, {errs.KindTooLarge, 413},
		{errs.KindUnsupportedMedia, 415}, {errs.KindRateLimited, 429}, {errs.KindUnavailable, 503},
	}
	for _, tt := range tests {
		if got := tt.kind.Status(); got != tt.status {
			t.Errorf("Kind(%d).Status() = %d, want %d", tt.kind, got, tt.status)
		}
		if got := errs.KindForStatus(tt.status); got != tt.kind {
			t.Errorf("KindForStatus(%d) = %d, want %d", tt.status, got, tt.kind)
		}
	}
	if got := errs.KindForStatus(418); got != errs.KindInternal {
		t.Errorf("KindForStatus(418) = %d, want KindInternal", got)
	}
}

func TestErrorsKeepTheirIdentityThroughWrapping(t *testing.T) {
	t.Parallel()
	base := errs.Conflict("sku_taken", "the SKU is taken")
	wrapped := fmt.Errorf("create product: %w", base.With("sku", "X"))
	if !errors.Is(wrapped, base) {
		t.Error("errors.Is must match the error a wrapped copy was made from")
	}
	if errors.Is(wrapped, errs.Conflict("sku_taken", "")) {
		t.Error("errors.Is must not match another error of the same code")
	}
	if !errs.HasCode(wrapped, "sku_taken") || errs.HasCode(errors.New("x"), "sku_taken") {
		t.Error("HasCode is wrong")
	}
	if e := errs.As(wrapped); e == nil || e.Kind != errs.KindConflict {
		t.Errorf("As = %v", e)
	}
	if errs.As(errors.New("plain")) != nil {
		t.Error("As of a plain error must be nil")
	}
}

var (
	errA      = errs.Define("errs_test.a", errs.KindNotFound, "not_found", "no such a")
	errB      = errs.Define("errs_test.b", errs.KindNotFound, "not_found", "no such b")
	errFamily = errs.Define("errs_test.family", errs.KindNotFound, "not_found", "not found")
	errMember = errFamily.Specific("errs_test.member", "no such member")
)

func TestDefinedErrorsWithOneCodeAreNotEachOther(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"itself", errA, errA, true},
		{"another of the same code", errA, errB, false},
		{"a copy with an extra member", errA.With("id", "7"), errA, true},
		{"a copy with a cause, wrapped", fmt.Errorf("x: %w", errA.WithCause(errors.New("y"))), errA, true},
		{"a target that is a copy", errA, errA.With("id", "7"), true},
		{"an ad hoc error of the same code", errs.NotFound("no such a"), errA, false},
		{"a specific form is its family", errMember, errFamily, true},
		{"a family is not its specific form", errFamily, errMember, false},
		{"a specific form is not another definition", errMember, errA, false},
		{"a plain error", errors.New("not_found"), errA, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("%s: errors.Is(%v, %v) = %v, want %v", tt.name, tt.err, tt.target, got, tt.want)
		}
	}
	if errA.ID() != "errs_test.a" || errA.With("k", 1).ID() != "errs_test.a" || errMember.ID() != "errs_test.member" || errs.New(errs.KindNotFound, "not_found", "x").ID() != "" {
		t.Errorf("IDs: %q %q", errA.ID(), errMember.ID())
	}
	if errMember.Code != "not_found" || errMember.Kind != errs.KindNotFound || errMember.Message != "no such member" {
		t.Errorf("Specific = %+v", errMember)
	}
}

func TestRestoreGivesBackTheDefinedError(t *testing.T) {
	t.Parallel()
	read := func() *errs.Error { // as a problem answer is read back
		e := errs.New(errs.KindNotFound, "not_found", "no such member")
		e.Extra = map[string]any{"id": "7"}
		return e
	}
	got := errs.Restore("errs_test.member", read())
	if !errors.Is(got, errMember) || !errors.Is(got, errFamily) || errors.Is(got, errA) || got.Extra["id"] != "7" || got.ID() != "errs_test.member" {
		t.Errorf("Restore(errs_test.member) = %v (id %q, extra %v)", got, got.ID(), got.Extra)
	}
	for _, id := range []string{"", "errs_test.unknown"} {
		if got := errs.Restore(id, read()); errors.Is(got, errMember) || errors.Is(got, errFamily) || got.ID() != "" || got.Code != "not_found" {
			t.Errorf("Restore(%q) = %v (id %q): an error without a known id is no api error", id, got, got.ID())
		}
	}
	conflict := errs.New(errs.KindConflict, "conflict", "x")
	if got := errs.Restore("errs_test.a", conflict); errors.Is(got, errA) {
		t.Error("Restore must not give an id to an error of another kind or code")
	}
}

func TestDefiningAnIDTwicePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("a second Define of errs_test.a did not panic")
		}
	}()
	errs.Define("errs_test.a", errs.KindConflict, "conflict", "again")
}

func TestWithCauseAndWithDoNotMutate(t *testing.T) {
	t.Parallel()
	cause := errors.New("disk on fire")
	base := errs.NotFound("no such product").With("a", 1)
	c := base.WithCause(cause).With("b", 2)
	if !errors.Is(c, cause) {
		t.Error("the cause must be reachable with errors.Is")
	}
	if base.Unwrap() != nil || len(base.Extra) != 1 {
		t.Errorf("base was changed: cause=%v extra=%v", base.Unwrap(), base.Extra)
	}
	if c.Extra["a"] != 1 || c.Extra["b"] != 2 {
		t.Errorf("Extra = %v", c.Extra)
	}
	internal := errs.Internal(cause)
	if internal.Message != "internal error" || internal.Code != "internal" || !errors.Is(internal, cause) {
		t.Errorf("Internal = %+v", internal)
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	var f errs.Fields
	if f.Err() != nil {
		t.Fatal("no field errors must give nil")
	}
	f.Check(true, "ok", "never")
	f.Check(false, "quantity", "must be from 1 to 100")
	f.Add("sku", "is required")
	e := errs.As(f.Err())
	if e == nil || e.Kind != errs.KindValidation || e.Code != "validation_failed" || len(e.Fields) != 2 || e.Fields[0].Field != "quantity" {
		t.Fatalf("Err = %+v", e)
	}
}
