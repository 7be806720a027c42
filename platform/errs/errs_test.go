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

func TestErrorsKeepTheirCodeThroughWrapping(t *testing.T) {
	t.Parallel()
	base := errs.Conflict("sku_taken", "the SKU is taken")
	wrapped := fmt.Errorf("create product: %w", base)
	if !errors.Is(wrapped, errs.Conflict("sku_taken", "")) {
		t.Error("errors.Is must match on the code")
	}
	if errors.Is(wrapped, errs.Conflict("slug_taken", "")) {
		t.Error("errors.Is must not match another code")
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
