package inventory

import (
	"slices"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/config"
)

func readSettings(vars map[string]string) (Settings, []string) {
	env := config.NewEnv(func(k string) string { return vars[k] })
	s := ReadSettings(env)
	return s, config.Problems(env.Err())
}

func TestSettingsDefaults(t *testing.T) {
	var s Settings
	s.setDefaults()
	if s.ReservationTTL != 15*time.Minute {
		t.Fatalf("default TTL %v, want 15m", s.ReservationTTL)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("the defaults are invalid: %v", err)
	}
	if got, problems := readSettings(nil); got != s || problems != nil {
		t.Fatalf("from an empty environment: %+v %q, want the defaults", got, problems)
	}
	if got, problems := readSettings(map[string]string{"MODSHOP_RESERVATION_TTL": " 90s"}); got.ReservationTTL != 90*time.Second || problems != nil {
		t.Fatalf("MODSHOP_RESERVATION_TTL=90s: %+v %q", got, problems)
	}
}

// Each bad value is one line naming the variable.
func TestSettingsInvalid(t *testing.T) {
	for value, want := range map[string]string{
		"15":   `MODSHOP_RESERVATION_TTL: "15" is not a duration such as 15m`,
		"10ms": "MODSHOP_RESERVATION_TTL: 10ms is outside 1s..24h0m0s",
		"0":    "MODSHOP_RESERVATION_TTL: 0s is outside 1s..24h0m0s",
		"48h":  "MODSHOP_RESERVATION_TTL: 48h0m0s is outside 1s..24h0m0s",
	} {
		if _, problems := readSettings(map[string]string{"MODSHOP_RESERVATION_TTL": value}); !slices.Equal(problems, []string{want}) {
			t.Errorf("MODSHOP_RESERVATION_TTL=%s: %q, want %q", value, problems, want)
		}
	}
}
