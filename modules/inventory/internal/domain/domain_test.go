package domain

import (
	"fmt"
	"strings"
	"testing"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/errs"
)

func TestNormalizeLines(t *testing.T) {
	t.Parallel()
	got, err := NormalizeLines([]api.Line{{SKU: "b", Quantity: 1}, {SKU: "a", Quantity: 2}, {SKU: "b", Quantity: 3}})
	if err != nil || fmt.Sprint(got) != "[{a 2} {b 4}]" {
		t.Fatalf("NormalizeLines = %v, %v; want one line per SKU, sorted", got, err)
	}
	for _, bad := range [][]api.Line{nil, {{SKU: "", Quantity: 1}}, {{SKU: "a", Quantity: 0}}, {{SKU: "a", Quantity: api.MaxAdjustment + 1}}} {
		if _, err := NormalizeLines(bad); !errs.HasCode(err, "validation_failed") {
			t.Errorf("NormalizeLines(%v) = %v, want validation_failed", bad, err)
		}
	}
}

func TestCheckAdjustment(t *testing.T) {
	t.Parallel()
	if r, err := CheckAdjustment(-5, "  broken  "); err != nil || r != "broken" {
		t.Fatalf("CheckAdjustment = %q, %v", r, err)
	}
	for _, tc := range []struct {
		delta  int64
		reason string
	}{{0, "x"}, {api.MaxAdjustment + 1, "x"}, {-api.MaxAdjustment - 1, "x"}, {1, " "}, {1, strings.Repeat("ü", api.MaxReasonLen+1)}} {
		if _, err := CheckAdjustment(tc.delta, tc.reason); !errs.HasCode(err, "validation_failed") {
			t.Errorf("CheckAdjustment(%d, %.8q) = %v", tc.delta, tc.reason, err)
		}
	}
}

func TestOutcomesOfSettledReservations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status                  api.ReservationStatus
		commit, release, resrve string // "" means no error
	}{
		{api.StatusCommitted, "", "invalid_state", ""},
		{api.StatusReleased, "checkout_expired", "", "invalid_state"},
		{api.StatusExpired, "checkout_expired", "", "checkout_expired"},
	} {
		for op, got := range map[string]error{"commit": CommitOutcome(tc.status), "release": ReleaseOutcome(tc.status), "reserve": ReserveOutcome(tc.status)} {
			want := map[string]string{"commit": tc.commit, "release": tc.release, "reserve": tc.resrve}[op]
			if (want == "" && got != nil) || (want != "" && !errs.HasCode(got, want)) {
				t.Errorf("%s of a %s reservation = %v, want %q", op, tc.status, got, want)
			}
		}
	}
}
