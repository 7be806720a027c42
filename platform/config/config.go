// Package config reads modshop's configuration from MODSHOP_* variables.
//
// Every value is validated at start; each wrong value gives one line that
// names the variable, and the command exits with code 2.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the platform's configuration of one process: where it
// listens, its databases, its events, which modules run here and where the
// others run, secrets, timeouts and logging. A module's own settings (the
// reservation TTL, the bootstrap admin) are not here: each module reads
// them from Env (modules/<m>/settings.go).
type Config struct {
	HTTPAddr      string            // MODSHOP_HTTP_ADDR, listen address
	DatabaseURL   string            // MODSHOP_DATABASE_URL, sqlite://PATH or postgres://...
	ModuleDBURLs  map[string]string // MODSHOP_DATABASE_URL_<MODULE>, a module's own database
	Modules       []string          // MODSHOP_MODULES, the modules this process runs
	Remotes       map[string]string // MODSHOP_REMOTE_<MODULE>, where a module runs
	NATSURL       string            // MODSHOP_NATS_URL, events over JetStream when set
	NATSStream    string            // MODSHOP_NATS_STREAM, the JetStream stream of the shop's events
	EventsLinger  time.Duration     // MODSHOP_EVENTS_LINGER, how long a relay gathers events before it publishes
	InternalToken string            // MODSHOP_INTERNAL_TOKEN, module-to-module calls
	JWTSecret     string            // MODSHOP_JWT_SECRET; generated in DataDir when empty (one process only)
	DataDir       string            // MODSHOP_DATA_DIR
	// Currency (MODSHOP_CURRENCY) is the shop's one currency. It stays a
	// platform setting although no platform package uses it: it is
	// shop-wide, not a module's. Catalog prices in it, cart and search show
	// it, orders charge in it, and a price is only comparable, and a total
	// only a sum, when every module, in every process of the shop, uses the
	// same one; a setting of one module would let two of them disagree.
	Currency       string
	LogLevel       string         // MODSHOP_LOG_LEVEL: debug|info|warn|error
	LogFormat      string         // MODSHOP_LOG_FORMAT: json|text
	ShutdownGrace  time.Duration  // MODSHOP_SHUTDOWN_TIMEOUT, how long in-flight requests may finish
	TrustedProxies []netip.Prefix // MODSHOP_TRUSTED_PROXIES, addresses whose X-Forwarded-For is believed

	// Memory bounds (docs/architecture.md, "Memory").
	DatabaseMaxConns int // MODSHOP_DATABASE_MAX_CONNS, connections per database pool; 0: 8 on SQLite, 32 on PostgreSQL
	SQLiteCacheKiB   int // MODSHOP_SQLITE_CACHE_KIB, page cache of each SQLite connection
	ReadCacheMiB     int // MODSHOP_READ_CACHE_MIB, the bytes each read cache (catalog, search) may hold
	MemoryLimitMiB   int // MODSHOP_MEMORY_LIMIT_MIB, the Go runtime's soft memory limit (GOMEMLIMIT wins); 0: none

	getenv func(string) string // where modules read their own settings (Env)
}

// Defaults of the memory bounds.
const (
	DefaultSQLiteCacheKiB = 1024
	DefaultReadCacheMiB   = 8
	DefaultMemoryLimitMiB = 128
)

// Variables are the names of the MODSHOP_* variables Load reads, but for
// the per-module ones (PerModule). A module's own settings
// (modules/<m>/settings.go) are read through an Env, which lists what it
// read (Env.Read).
var Variables = []string{
	"MODSHOP_HTTP_ADDR", "MODSHOP_DATA_DIR", "MODSHOP_DATABASE_URL", "MODSHOP_MODULES",
	"MODSHOP_NATS_URL", "MODSHOP_NATS_STREAM", "MODSHOP_EVENTS_LINGER", "MODSHOP_INTERNAL_TOKEN",
	"MODSHOP_JWT_SECRET", "MODSHOP_CURRENCY", "MODSHOP_TRUSTED_PROXIES",
	"MODSHOP_SHUTDOWN_TIMEOUT", "MODSHOP_LOG_LEVEL", "MODSHOP_LOG_FORMAT",
	"MODSHOP_DATABASE_MAX_CONNS", "MODSHOP_SQLITE_CACHE_KIB", "MODSHOP_READ_CACHE_MIB", "MODSHOP_MEMORY_LIMIT_MIB",
}

// PerModule are the prefixes of the variables Load reads per module: the
// prefix, then the module's name in capitals.
var PerModule = []string{"MODSHOP_DATABASE_URL_", "MODSHOP_REMOTE_"}

// Names lists every MODSHOP_* variable Load reads for the given modules.
func Names(modules []string) []string {
	out := slices.Clone(Variables)
	for _, p := range PerModule {
		for _, m := range modules {
			out = append(out, p+strings.ToUpper(m))
		}
	}
	return out
}

// DefaultEventsLinger is how long an outbox relay waits, once a commit woke
// it, for more events to publish with that one (docs/architecture.md,
// "Events").
const DefaultEventsLinger = 20 * time.Millisecond

// Error lists every wrong value, one line each.
type Error struct{ Problems []string }

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Load reads the environment through getenv and validates it against the
// names of the modules the binary knows.
func Load(getenv func(string) string, environ []string, known []string) (Config, error) {
	e := NewEnv(getenv)
	c := Config{getenv: getenv}
	c.readServer(e)
	c.readStorage(e)
	c.readEvents(e)
	c.readModules(e, known)
	c.readModuleVariables(e, environ, known)
	c.readSecrets(e)
	c.readMemory(e)
	return c, e.Err()
}

// Env is a fresh reader of the variables Load read, for a module's own
// settings; with a Config that Load did not make, every variable is unset.
func (c Config) Env() *Env { return NewEnv(c.getenv) }

func (c *Config) readServer(e *Env) {
	c.HTTPAddr = e.String("MODSHOP_HTTP_ADDR", ":8080")
	if err := ValidateAddr(c.HTTPAddr); err != nil {
		e.Problem("MODSHOP_HTTP_ADDR", "%s", err)
	}
	c.ShutdownGrace = durationWithin(e, "MODSHOP_SHUTDOWN_TIMEOUT", 10*time.Second, 0, 5*time.Minute)
	c.LogLevel = e.String("MODSHOP_LOG_LEVEL", "info")
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		e.Problem("MODSHOP_LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	c.LogFormat = e.String("MODSHOP_LOG_FORMAT", "json")
	if c.LogFormat != "json" && c.LogFormat != "text" {
		e.Problem("MODSHOP_LOG_FORMAT", "%q is not json or text", c.LogFormat)
	}
	var err error
	if c.TrustedProxies, err = prefixes(e.String("MODSHOP_TRUSTED_PROXIES", "")); err != nil {
		e.Problem("MODSHOP_TRUSTED_PROXIES", "%s", err)
	}
	c.Currency = e.String("MODSHOP_CURRENCY", "EUR")
	if len(c.Currency) != 3 || strings.Trim(c.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		e.Problem("MODSHOP_CURRENCY", "%q is not an ISO 4217 code such as EUR", c.Currency)
	}
}

func (c *Config) readStorage(e *Env) {
	c.DataDir = e.String("MODSHOP_DATA_DIR", "./data")
	c.DatabaseURL = e.String("MODSHOP_DATABASE_URL", "sqlite://"+filepath.ToSlash(filepath.Join(c.DataDir, "modshop.db")))
	if err := ValidateDatabaseURL(c.DatabaseURL); err != nil {
		e.Problem("MODSHOP_DATABASE_URL", "%s", err)
	}
}

func (c *Config) readEvents(e *Env) {
	c.NATSURL = e.String("MODSHOP_NATS_URL", "")
	if c.NATSURL != "" {
		if u, err := url.Parse(c.NATSURL); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			e.Problem("MODSHOP_NATS_URL", "%q is not a nats://host:port URL", c.NATSURL)
		}
	}
	c.NATSStream = e.String("MODSHOP_NATS_STREAM", "MODSHOP_EVENTS")
	if strings.Trim(c.NATSStream, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" || len(c.NATSStream) > 64 {
		e.Problem("MODSHOP_NATS_STREAM", "%q: use 1..64 letters, digits, _ and -", c.NATSStream)
	}
	c.EventsLinger = durationWithin(e, "MODSHOP_EVENTS_LINGER", DefaultEventsLinger, 0, time.Second)
}

// readModules reads MODSHOP_MODULES: "all", or names the binary knows.
func (c *Config) readModules(e *Env, known []string) {
	mods := e.String("MODSHOP_MODULES", "all")
	if mods == "all" {
		c.Modules = slices.Clone(known)
		return
	}
	unknown := false
	for m := range strings.SplitSeq(mods, ",") {
		m = strings.TrimSpace(m)
		switch {
		case m == "":
		case !slices.Contains(known, m):
			unknown = true
			e.Problem("MODSHOP_MODULES", "unknown module %q (known: %s)", m, strings.Join(known, ", "))
		case !slices.Contains(c.Modules, m):
			c.Modules = append(c.Modules, m)
		}
	}
	if len(c.Modules) == 0 && !unknown {
		e.Problem("MODSHOP_MODULES", "names no module")
	}
}

// readModuleVariables reads MODSHOP_DATABASE_URL_<MODULE> and
// MODSHOP_REMOTE_<MODULE>.
func (c *Config) readModuleVariables(e *Env, environ []string, known []string) {
	c.ModuleDBURLs, c.Remotes = map[string]string{}, map[string]string{}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		value = strings.TrimSpace(value)
		for prefix, check := range map[string]func(mod, value string) string{
			"MODSHOP_DATABASE_URL_": c.moduleDatabase, "MODSHOP_REMOTE_": c.remote,
		} {
			mod, ok := strings.CutPrefix(name, prefix)
			if !ok || value == "" {
				continue
			}
			mod = strings.ToLower(mod)
			if !slices.Contains(known, mod) {
				e.Problem(name, "unknown module %q", mod)
			} else if problem := check(mod, value); problem != "" {
				e.Problem(name, "%s", problem)
			}
		}
	}
}

// moduleDatabase takes MODSHOP_DATABASE_URL_<MODULE>, or tells what is wrong.
func (c *Config) moduleDatabase(mod, value string) string {
	if err := ValidateDatabaseURL(value); err != nil {
		return err.Error()
	}
	c.ModuleDBURLs[mod] = value
	return ""
}

// remote takes MODSHOP_REMOTE_<MODULE>, or tells what is wrong.
func (c *Config) remote(mod, value string) string {
	if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an http(s) URL", value)
	}
	if slices.Contains(c.Modules, mod) {
		return mod + " runs in this process (MODSHOP_MODULES); a module is either local or remote"
	}
	c.Remotes[mod] = value
	return ""
}

// readSecrets reads the internal token and the JWT secret, which other
// processes of the shop must share.
func (c *Config) readSecrets(e *Env) {
	c.InternalToken = e.Raw("MODSHOP_INTERNAL_TOKEN")
	switch {
	case len(c.Remotes) > 0 && c.InternalToken == "":
		e.Problem("MODSHOP_INTERNAL_TOKEN", "required (16+ characters) when a module is remote")
	case c.InternalToken != "" && len(c.InternalToken) < 16:
		e.Problem("MODSHOP_INTERNAL_TOKEN", "must be at least 16 characters")
	}
	c.JWTSecret = e.Raw("MODSHOP_JWT_SECRET")
	switch {
	case c.JWTSecret != "" && len(c.JWTSecret) < 32:
		e.Problem("MODSHOP_JWT_SECRET", "must be at least 32 characters")
	case c.JWTSecret == "" && (c.NATSURL != "" || len(c.Remotes) > 0):
		// A key generated in the data folder is this process's alone:
		// another process (a replica, a module run elsewhere) would refuse
		// the tokens it signs.
		e.Problem("MODSHOP_JWT_SECRET", "required (32+ characters) when MODSHOP_NATS_URL or a MODSHOP_REMOTE_* is set: every process must accept the tokens the others sign")
	}
}

// durationWithin reads a duration variable and checks its bounds.
func durationWithin(e *Env, name string, def, min, max time.Duration) time.Duration {
	d := e.Duration(name, def)
	e.Check(Within(name, d, min, max))
	return d
}

// FromEnv loads the process environment.
func FromEnv(known []string) (Config, error) { return Load(os.Getenv, os.Environ(), known) }

// DatabaseURLFor is the database a module uses: its own when configured.
func (c Config) DatabaseURLFor(module string) string {
	if u, ok := c.ModuleDBURLs[module]; ok {
		return u
	}
	return c.DatabaseURL
}

// Runs reports whether this process runs the module.
func (c Config) Runs(module string) bool { return slices.Contains(c.Modules, module) }

// ValidateDatabaseURL accepts sqlite://PATH, sqlite::memory: forms and postgres URLs.
func ValidateDatabaseURL(raw string) error {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		if file, _, _ := strings.Cut(strings.TrimPrefix(raw, "sqlite://"), "?"); file == "" {
			return fmt.Errorf("%q names no file", raw)
		}
		return nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		// The server is a host, or a Unix socket directory given as
		// ?host=/path (a server on the same machine: on a small VM a
		// round trip over the socket costs about half one over TCP).
		u, err := url.Parse(raw)
		if err != nil || (u.Host == "" && !strings.HasPrefix(u.Query().Get("host"), "/")) {
			return fmt.Errorf("%q is not a valid postgres URL", redact(raw))
		}
		return nil
	default:
		return fmt.Errorf("%q must start with sqlite:// or postgres://", redact(raw))
	}
}

// ValidateAddr accepts a listen address host:port with a numeric port
// (0 picks a free one).
func ValidateAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("%q is not a host:port address", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no port number from 0 to 65535", addr)
	}
	return nil
}

// redact hides a password in a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// prefixes reads a comma-separated list of CIDR prefixes or single
// addresses (a /32 or /128).
func prefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(item); err == nil {
			out = append(out, pre.Masked())
			continue
		}
		addr, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix such as 10.0.0.0/8", item)
		}
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}

// readMemory reads the bounds on what the process may hold in memory.
func (c *Config) readMemory(e *Env) {
	c.DatabaseMaxConns = e.Int("MODSHOP_DATABASE_MAX_CONNS", 0, 0, 1024)
	c.SQLiteCacheKiB = e.Int("MODSHOP_SQLITE_CACHE_KIB", DefaultSQLiteCacheKiB, 64, 1<<20)
	c.ReadCacheMiB = e.Int("MODSHOP_READ_CACHE_MIB", DefaultReadCacheMiB, 1, 1<<14)
	c.MemoryLimitMiB = e.Int("MODSHOP_MEMORY_LIMIT_MIB", DefaultMemoryLimitMiB, 0, 1<<20)
	if c.MemoryLimitMiB > 0 && c.MemoryLimitMiB < 32 {
		e.Problem("MODSHOP_MEMORY_LIMIT_MIB", "%d is below 32 (0 turns the limit off)", c.MemoryLimitMiB)
	}
}
