package inventory

import (
	"time"

	"github.com/modshop/modshop/platform/config"
)

// Settings are the inventory module's own settings, read from MODSHOP_*
// variables (README.md, "Configuration"). The pattern every module with
// settings follows: setDefaults fills the zero values, Validate reports
// every bad value on a line of its own naming the variable, and
// ReadSettings reads the variables that are set over the defaults.
type Settings struct {
	// ReservationTTL is how long a reservation lives before it expires on
	// its own, when Reserve is given none (MODSHOP_RESERVATION_TTL, 1s to
	// 24h). The orders module reserves a checkout's stock without one.
	ReservationTTL time.Duration
}

// DefaultReservationTTL is MODSHOP_RESERVATION_TTL's default.
const DefaultReservationTTL = 15 * time.Minute

func (s *Settings) setDefaults() {
	if s.ReservationTTL == 0 {
		s.ReservationTTL = DefaultReservationTTL
	}
}

// Validate reports every bad setting, one line each.
func (s Settings) Validate() error {
	return config.Within("MODSHOP_RESERVATION_TTL", s.ReservationTTL, time.Second, 24*time.Hour)
}

// ReadSettings reads the settings from env: defaults, the variables that
// are set, then what Validate finds, recorded in env.
func ReadSettings(env *config.Env) Settings {
	var s Settings
	s.setDefaults()
	s.ReservationTTL = env.Duration("MODSHOP_RESERVATION_TTL", s.ReservationTTL)
	env.Check(s.Validate())
	return s
}
