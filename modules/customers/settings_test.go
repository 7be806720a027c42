package customers

import (
	"slices"
	"testing"

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
	if s != (Settings{}) || s.Validate() != nil {
		t.Fatalf("defaults %+v (%v), want no bootstrap admin", s, s.Validate())
	}
	got, problems := readSettings(map[string]string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": " Root@Example.com ", "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": " long password "})
	if got.AdminEmail != "Root@Example.com" || got.AdminPassword != " long password " || problems != nil {
		t.Fatalf("read %+v %q", got, problems)
	}
}

// Each bad value is one line naming its variable.
func TestSettingsInvalid(t *testing.T) {
	for _, tt := range []struct {
		name        string
		email, pass string
		want        []string
	}{
		{"email without password", "a@b.c", "", []string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL and MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: set both or neither"}},
		{"password without email", "", "long enough", []string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL and MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: set both or neither"}},
		{"email not an address", "admin", "long enough", []string{`MODSHOP_BOOTSTRAP_ADMIN_EMAIL: "admin" is not an e-mail address`}},
		{"password too short", "a@b.c", "short", []string{"MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: must be at least 8 characters"}},
		{"both bad", "a@", "short", []string{`MODSHOP_BOOTSTRAP_ADMIN_EMAIL: "a@" is not an e-mail address`, "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: must be at least 8 characters"}},
	} {
		_, problems := readSettings(map[string]string{"MODSHOP_BOOTSTRAP_ADMIN_EMAIL": tt.email, "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD": tt.pass})
		if !slices.Equal(problems, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, problems, tt.want)
		}
	}
}
