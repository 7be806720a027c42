package customers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/modshop/modshop/platform/config"
)

// Settings are the customers module's own settings, read from MODSHOP_*
// variables (README.md, "Configuration"), in the pattern of
// modules/inventory/settings.go.
type Settings struct {
	// AdminEmail and AdminPassword name an admin account the module
	// creates at start unless it exists (MODSHOP_BOOTSTRAP_ADMIN_EMAIL and
	// MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: both or neither; 8+ characters).
	AdminEmail    string
	AdminPassword string
}

// setDefaults: no bootstrap admin unless one is named.
func (s *Settings) setDefaults() {}

// Validate reports every bad setting, one line each.
func (s Settings) Validate() error {
	if (s.AdminEmail == "") != (s.AdminPassword == "") {
		return errors.New("MODSHOP_BOOTSTRAP_ADMIN_EMAIL and MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: set both or neither")
	}
	if s.AdminEmail == "" {
		return nil
	}
	var problems []error
	if at := strings.LastIndex(s.AdminEmail, "@"); at < 1 || at == len(s.AdminEmail)-1 || strings.ContainsAny(s.AdminEmail, " \t<>") {
		problems = append(problems, fmt.Errorf("MODSHOP_BOOTSTRAP_ADMIN_EMAIL: %q is not an e-mail address", s.AdminEmail))
	}
	if len([]rune(s.AdminPassword)) < 8 {
		problems = append(problems, errors.New("MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: must be at least 8 characters"))
	}
	return errors.Join(problems...)
}

// ReadSettings reads the settings from env: defaults, the variables that
// are set, then what Validate finds, recorded in env.
func ReadSettings(env *config.Env) Settings {
	var s Settings
	s.setDefaults()
	s.AdminEmail = env.String("MODSHOP_BOOTSTRAP_ADMIN_EMAIL", s.AdminEmail)
	s.AdminPassword = env.Raw("MODSHOP_BOOTSTRAP_ADMIN_PASSWORD") // a password may begin or end with a blank
	env.Check(s.Validate())
	return s
}
