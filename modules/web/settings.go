package web

import "github.com/modshop/modshop/platform/config"

// Settings are the web module's own settings, read from MODSHOP_*
// variables (README.md, "Configuration"), as every module's are
// (modules/inventory/settings.go).
type Settings struct {
	// PageCacheMiB bounds the product pages' content the storefront keeps
	// rendered (MODSHOP_WEB_PAGE_CACHE_MIB, 1 to 16384): a page is
	// rendered once per change of its product or stock while it is kept.
	PageCacheMiB int
}

// DefaultPageCacheMiB is MODSHOP_WEB_PAGE_CACHE_MIB's default: some 2,500
// product pages of about 3 KiB.
const DefaultPageCacheMiB = 8

func (s *Settings) setDefaults() {
	if s.PageCacheMiB == 0 {
		s.PageCacheMiB = DefaultPageCacheMiB
	}
}

// ReadSettings reads the settings from env over the defaults; a bad value
// is recorded in env, naming its variable.
func ReadSettings(env *config.Env) Settings {
	var s Settings
	s.setDefaults()
	s.PageCacheMiB = env.Int("MODSHOP_WEB_PAGE_CACHE_MIB", s.PageCacheMiB, 1, 16384)
	return s
}
