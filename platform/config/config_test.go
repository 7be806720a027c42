package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/config"
)

var known = []string{"catalog", "inventory", "search"}

// load runs config.Load over a fake environment.
func load(env map[string]string) (config.Config, error) {
	environ := make([]string, 0, len(env))
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	return config.Load(func(k string) string { return env[k] }, environ, known)
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(nil)
	if err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"HTTPAddr", c.HTTPAddr, ":8080"},
		{"DataDir", c.DataDir, "./data"},
		{"DatabaseURL", c.DatabaseURL, "sqlite://data/modshop.db"},
		{"ShutdownGrace", c.ShutdownGrace, 10 * time.Second},
		{"Currency", c.Currency, "EUR"},
		{"LogLevel", c.LogLevel, "info"},
		{"LogFormat", c.LogFormat, "json"},
		{"Modules", strings.Join(c.Modules, ","), "catalog,inventory,search"},
		{"NATSURL", c.NATSURL, ""},
		{"EventsLinger", c.EventsLinger, 20 * time.Millisecond},
		{"DatabaseMaxConns", c.DatabaseMaxConns, 0},
		{"SQLiteCacheKiB", c.SQLiteCacheKiB, 1024},
		{"ReadCacheMiB", c.ReadCacheMiB, 8},
		{"MemoryLimitMiB", c.MemoryLimitMiB, 128},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestLoadValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c config.Config)
	}{
		{"data dir moves the default database", map[string]string{"MODSHOP_DATA_DIR": "/var/lib/modshop"}, func(t *testing.T, c config.Config) {
			if c.DatabaseURL != "sqlite:///var/lib/modshop/modshop.db" {
				t.Errorf("DatabaseURL = %q", c.DatabaseURL)
			}
		}},
		{"postgres URL", map[string]string{"MODSHOP_DATABASE_URL": "postgres://u:p@db:5432/shop?sslmode=disable"}, func(t *testing.T, c config.Config) {
			if c.DatabaseURL != "postgres://u:p@db:5432/shop?sslmode=disable" {
				t.Errorf("DatabaseURL = %q", c.DatabaseURL)
			}
		}},
		{"postgres over a Unix socket", map[string]string{"MODSHOP_DATABASE_URL": "postgres://u@/shop?host=/var/run/postgresql"}, func(t *testing.T, c config.Config) {
			if c.DatabaseURL != "postgres://u@/shop?host=/var/run/postgresql" {
				t.Errorf("DatabaseURL = %q", c.DatabaseURL)
			}
		}},
		{"module list is trimmed and deduplicated", map[string]string{"MODSHOP_MODULES": " inventory , catalog,inventory,"}, func(t *testing.T, c config.Config) {
			if !slices.Equal(c.Modules, []string{"inventory", "catalog"}) {
				t.Errorf("Modules = %v", c.Modules)
			}
			if !c.Runs("catalog") || c.Runs("search") {
				t.Errorf("Runs is wrong for %v", c.Modules)
			}
		}},
		{"a module's own database", map[string]string{"MODSHOP_DATABASE_URL_SEARCH": "sqlite:///tmp/search.db"}, func(t *testing.T, c config.Config) {
			if got := c.DatabaseURLFor("search"); got != "sqlite:///tmp/search.db" {
				t.Errorf("DatabaseURLFor(search) = %q", got)
			}
			if got := c.DatabaseURLFor("catalog"); got != c.DatabaseURL {
				t.Errorf("DatabaseURLFor(catalog) = %q, want the shared %q", got, c.DatabaseURL)
			}
		}},
		{"a remote module with a token", map[string]string{
			"MODSHOP_MODULES": "catalog", "MODSHOP_REMOTE_INVENTORY": "http://inv:8080", "MODSHOP_INTERNAL_TOKEN": "0123456789abcdef",
			"MODSHOP_JWT_SECRET": "0123456789abcdef0123456789abcdef",
		}, func(t *testing.T, c config.Config) {
			if c.Remotes["inventory"] != "http://inv:8080" {
				t.Errorf("Remotes = %v", c.Remotes)
			}
		}},
		{"durations, currency, logging, nats", map[string]string{
			"MODSHOP_SHUTDOWN_TIMEOUT": "0s", "MODSHOP_CURRENCY": "USD",
			"MODSHOP_LOG_LEVEL": "debug", "MODSHOP_LOG_FORMAT": "text", "MODSHOP_NATS_URL": "nats://127.0.0.1:4222",
			"MODSHOP_HTTP_ADDR": "127.0.0.1:0", "MODSHOP_EVENTS_LINGER": "0s", "MODSHOP_JWT_SECRET": "0123456789abcdef0123456789abcdef",
		}, func(t *testing.T, c config.Config) {
			if c.ShutdownGrace != 0 || c.Currency != "USD" || c.LogFormat != "text" || c.EventsLinger != 0 {
				t.Errorf("config = %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(tt.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

// Every wrong value gives exactly one line that names its variable.
func TestLoadInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string // the problem lines, each must start with the variable's name
	}{
		{"addr without port", map[string]string{"MODSHOP_HTTP_ADDR": "8080"}, []string{"MODSHOP_HTTP_ADDR: "}},
		{"addr with a named port", map[string]string{"MODSHOP_HTTP_ADDR": "localhost:http"}, []string{"MODSHOP_HTTP_ADDR: "}},
		{"addr with a port out of range", map[string]string{"MODSHOP_HTTP_ADDR": ":70000"}, []string{"MODSHOP_HTTP_ADDR: "}},
		{"database scheme", map[string]string{"MODSHOP_DATABASE_URL": "mysql://x"}, []string{"MODSHOP_DATABASE_URL: "}},
		{"sqlite without a file", map[string]string{"MODSHOP_DATABASE_URL": "sqlite://"}, []string{"MODSHOP_DATABASE_URL: "}},
		{"sqlite with only a query", map[string]string{"MODSHOP_DATABASE_URL": "sqlite://?mode=ro"}, []string{"MODSHOP_DATABASE_URL: "}},
		{"postgres without host", map[string]string{"MODSHOP_DATABASE_URL": "postgres:///db"}, []string{"MODSHOP_DATABASE_URL: "}},
		{"postgres socket host not a path", map[string]string{"MODSHOP_DATABASE_URL": "postgres:///db?host=var/run"}, []string{"MODSHOP_DATABASE_URL: "}},
		{"postgres bad port", map[string]string{"MODSHOP_DATABASE_URL": "postgres://u:secret@h:port/db"}, []string{"MODSHOP_DATABASE_URL: "}},
		{"pool size not a number", map[string]string{"MODSHOP_DATABASE_MAX_CONNS": "eight"}, []string{"MODSHOP_DATABASE_MAX_CONNS: "}},
		{"pool size negative", map[string]string{"MODSHOP_DATABASE_MAX_CONNS": "-1"}, []string{"MODSHOP_DATABASE_MAX_CONNS: "}},
		{"sqlite cache too small", map[string]string{"MODSHOP_SQLITE_CACHE_KIB": "10"}, []string{"MODSHOP_SQLITE_CACHE_KIB: "}},
		{"read cache zero", map[string]string{"MODSHOP_READ_CACHE_MIB": "0"}, []string{"MODSHOP_READ_CACHE_MIB: "}},
		{"memory limit too small", map[string]string{"MODSHOP_MEMORY_LIMIT_MIB": "8"}, []string{"MODSHOP_MEMORY_LIMIT_MIB: "}},
		{"negative shutdown", map[string]string{"MODSHOP_SHUTDOWN_TIMEOUT": "-1s"}, []string{"MODSHOP_SHUTDOWN_TIMEOUT: "}},
		{"linger not a duration", map[string]string{"MODSHOP_EVENTS_LINGER": "20"}, []string{"MODSHOP_EVENTS_LINGER: "}},
		{"linger too long", map[string]string{"MODSHOP_EVENTS_LINGER": "2s"}, []string{"MODSHOP_EVENTS_LINGER: "}},
		{"currency lower case", map[string]string{"MODSHOP_CURRENCY": "eur"}, []string{"MODSHOP_CURRENCY: "}},
		{"currency too long", map[string]string{"MODSHOP_CURRENCY": "EURO"}, []string{"MODSHOP_CURRENCY: "}},
		{"currency digits", map[string]string{"MODSHOP_CURRENCY": "E1R"}, []string{"MODSHOP_CURRENCY: "}},
		{"log level", map[string]string{"MODSHOP_LOG_LEVEL": "verbose"}, []string{"MODSHOP_LOG_LEVEL: "}},
		{"log format", map[string]string{"MODSHOP_LOG_FORMAT": "xml"}, []string{"MODSHOP_LOG_FORMAT: "}},
		{"trusted proxy not an address", map[string]string{"MODSHOP_TRUSTED_PROXIES": "10.0.0.0/8, lb.internal"}, []string{"MODSHOP_TRUSTED_PROXIES: "}},
		{"trusted proxy prefix too long", map[string]string{"MODSHOP_TRUSTED_PROXIES": "10.0.0.0/33"}, []string{"MODSHOP_TRUSTED_PROXIES: "}},
		{"short jwt secret", map[string]string{"MODSHOP_JWT_SECRET": "short"}, []string{"MODSHOP_JWT_SECRET: "}},
		{"nats scheme", map[string]string{"MODSHOP_NATS_URL": "http://nats:4222", "MODSHOP_JWT_SECRET": "0123456789abcdef0123456789abcdef"}, []string{"MODSHOP_NATS_URL: "}},
		{"nats without a jwt secret", map[string]string{"MODSHOP_NATS_URL": "nats://nats:4222"}, []string{"MODSHOP_JWT_SECRET: required"}},
		{"unknown module", map[string]string{"MODSHOP_MODULES": "catalog,billing"}, []string{"MODSHOP_MODULES: "}},
		{"no module", map[string]string{"MODSHOP_MODULES": " , "}, []string{"MODSHOP_MODULES: "}},
		{"no module next to another problem", map[string]string{"MODSHOP_MODULES": ",", "MODSHOP_CURRENCY": "x"}, []string{"MODSHOP_CURRENCY: ", "MODSHOP_MODULES: "}},
		{"module database of an unknown module", map[string]string{"MODSHOP_DATABASE_URL_BILLING": "sqlite://b.db"}, []string{"MODSHOP_DATABASE_URL_BILLING: "}},
		{"module database bad URL", map[string]string{"MODSHOP_DATABASE_URL_SEARCH": "redis://x"}, []string{"MODSHOP_DATABASE_URL_SEARCH: "}},
		{"remote not http", map[string]string{"MODSHOP_MODULES": "catalog", "MODSHOP_REMOTE_INVENTORY": "ftp://x", "MODSHOP_INTERNAL_TOKEN": "0123456789abcdef"}, []string{"MODSHOP_REMOTE_INVENTORY: "}},
		{"remote of a local module", map[string]string{"MODSHOP_REMOTE_INVENTORY": "http://inv:8080", "MODSHOP_INTERNAL_TOKEN": "0123456789abcdef"}, []string{"MODSHOP_REMOTE_INVENTORY: "}},
		{"remote without token", map[string]string{"MODSHOP_MODULES": "catalog", "MODSHOP_REMOTE_INVENTORY": "http://inv:8080", "MODSHOP_JWT_SECRET": "0123456789abcdef0123456789abcdef"}, []string{"MODSHOP_INTERNAL_TOKEN: "}},
		{"remote without a jwt secret", map[string]string{"MODSHOP_MODULES": "catalog", "MODSHOP_REMOTE_INVENTORY": "http://inv:8080", "MODSHOP_INTERNAL_TOKEN": "0123456789abcdef"},
			[]string{"MODSHOP_JWT_SECRET: required"}},
		{"short internal token", map[string]string{"MODSHOP_INTERNAL_TOKEN": "short"}, []string{"MODSHOP_INTERNAL_TOKEN: "}},
		{"several problems at once", map[string]string{"MODSHOP_HTTP_ADDR": "x", "MODSHOP_CURRENCY": "x", "MODSHOP_LOG_LEVEL": "x"},
			[]string{"MODSHOP_CURRENCY: ", "MODSHOP_HTTP_ADDR: ", "MODSHOP_LOG_LEVEL: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(tt.env)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want a *config.Error", err)
			}
			if len(ce.Problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d line(s) starting %q", ce.Problems, len(tt.want), tt.want)
			}
			for i, p := range ce.Problems {
				if !strings.HasPrefix(p, tt.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, p, tt.want[i])
				}
				if strings.Contains(p, "\n") {
					t.Errorf("problem %q spans lines", p)
				}
			}
			if strings.Count(err.Error(), "\n") != len(tt.want)-1 {
				t.Errorf("Error() = %q, want one line per problem", err.Error())
			}
		})
	}
}

func TestLoadRedactsPasswords(t *testing.T) {
	t.Parallel()
	_, err := load(map[string]string{"MODSHOP_DATABASE_URL": "postgresql://u:hunter2@/db"})
	if err == nil {
		t.Fatal("a postgres URL without a host must be refused")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("the problem shows the password: %q", err)
	}
}

func TestValidateAddr(t *testing.T) {
	t.Parallel()
	for addr, ok := range map[string]bool{
		":8080": true, "127.0.0.1:0": true, "[::1]:65535": true, "localhost:1": true,
		"": false, "8080": false, ":": false, ":-1": false, ":65536": false, "host:http": false,
	} {
		if err := config.ValidateAddr(addr); (err == nil) != ok {
			t.Errorf("ValidateAddr(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestLoadTrustedProxies(t *testing.T) {
	t.Parallel()
	c, err := load(map[string]string{"MODSHOP_TRUSTED_PROXIES": " 10.1.2.3/8, 192.0.2.1 ,fd00::/8,"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if want := []string{"10.0.0.0/8", "192.0.2.1/32", "fd00::/8"}; !slices.Equal(got, want) {
		t.Fatalf("TrustedProxies = %v, want %v", got, want)
	}
	if c, _ := load(nil); len(c.TrustedProxies) != 0 {
		t.Fatalf("trusted proxies by default: %v", c.TrustedProxies)
	}
}

// Env gives defaults for unset variables, one problem per bad one, and
// what a module's Validate finds, sorted and each once.
func TestEnv(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"MODSHOP_A": " 5m ", "MODSHOP_B": "soon", "MODSHOP_C": " x ", "MODSHOP_D": "0s"}
	e := config.NewEnv(func(k string) string { return vars[k] })
	if a := e.Duration("MODSHOP_A", time.Second); a != 5*time.Minute {
		t.Errorf("MODSHOP_A = %v, want 5m", a)
	}
	if b := e.Duration("MODSHOP_B", time.Second); b != time.Second {
		t.Errorf("MODSHOP_B (bad) = %v, want its default 1s", b)
	}
	if u := e.Duration("MODSHOP_UNSET", time.Hour); u != time.Hour {
		t.Errorf("unset = %v, want its default", u)
	}
	if c, raw, def := e.String("MODSHOP_C", "d"), e.Raw("MODSHOP_C"), e.String("MODSHOP_UNSET", "d"); c != "x" || raw != " x " || def != "d" {
		t.Errorf("String %q, Raw %q, default %q", c, raw, def)
	}
	d := e.Duration("MODSHOP_D", time.Minute)
	e.Check(errors.Join(config.Within("MODSHOP_D", d, time.Second, time.Hour), nil))
	e.Check(config.Within("MODSHOP_D", d, time.Second, time.Hour)) // a second module reading it
	e.Check(nil)
	want := []string{`MODSHOP_B: "soon" is not a duration such as 15m`, "MODSHOP_D: 0s is outside 1s..1h0m0s"}
	if got := config.Problems(e.Err()); !slices.Equal(got, want) {
		t.Fatalf("problems = %q, want %q", got, want)
	}
	if err := config.NewEnv(nil).Err(); err != nil {
		t.Fatalf("an empty environment has problems: %v", err)
	}
}

// Names are exactly the variables Load reads: each name of Names is asked
// for (or, per module, found in the environment), and Load asks for no
// MODSHOP_* variable Names leaves out.
func TestNamesAreRead(t *testing.T) {
	known := []string{"inventory", "search"} // a list of its own
	asked := map[string]bool{}
	var environ []string
	for _, p := range config.PerModule {
		for _, m := range known {
			environ = append(environ, p+strings.ToUpper(m)+"=http://x")
		}
	}
	_, _ = config.Load(func(k string) string { asked[k] = true; return "" }, environ, known)
	names := config.Names(known)
	for _, name := range names {
		perModule := slices.ContainsFunc(config.PerModule, func(p string) bool { return strings.HasPrefix(name, p) })
		if !asked[name] && !perModule {
			t.Errorf("%s: Load does not read it", name)
		}
	}
	for name := range asked {
		if strings.HasPrefix(name, "MODSHOP_") && !slices.Contains(names, name) {
			t.Errorf("Load reads %s, which Names leaves out", name)
		}
	}
	if slices.Contains(config.Names(known), "MODSHOP_REMOTE_CART") || !slices.Contains(config.Names(known), "MODSHOP_REMOTE_SEARCH") {
		t.Error("the per-module names are not those of the modules given")
	}
}
