package idempotency_test

import (
	"strings"
	"testing"

	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/idempotency"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{"a", "order-2026-11-27#1", strings.Repeat("k", idempotency.MaxLen), "~!@$%^&*()_+{}|:<>?"} {
		if err := idempotency.Check(ok); err != nil {
			t.Errorf("Check(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{strings.Repeat("k", idempotency.MaxLen+1), "two words", "tab\there", "é", "nul\x00"} {
		e := errs.As(idempotency.Check(bad))
		if e == nil || e.Kind != errs.KindValidation || len(e.Fields) != 1 || e.Fields[0].Field != idempotency.Header {
			t.Errorf("Check(%q) = %v, want a validation error on %s", bad, e, idempotency.Header)
		}
	}
}
