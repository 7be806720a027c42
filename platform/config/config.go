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

// Config is the whole configuration of one process.
type Config struct {
	HTTPAddr       string            // MODSHOP_HTTP_ADDR, listen address
	DatabaseURL    string            // MODSHOP_DATABASE_URL, sqlite://PATH or postgres://...
	ModuleDBURLs   map[string]string // MODSHOP_DATABASE_URL_<MODULE>, a module's own database
	Modules        []string          // MODSHOP_MODULES, the modules this process runs
	Remotes        map[string]string // MODSHOP_REMOTE_<MODULE>, where a module runs
	NATSURL        string            // MODSHOP_NATS_URL, events over JetStream when set
	NATSStream     string            // MODSHOP_NATS_STREAM, the JetStream stream of the shop's events
	EventsLinger   time.Duration     // MODSHOP_EVENTS_LINGER, how long a relay gathers events before it publishes
	InternalToken  string            // MODSHOP_INTERNAL_TOKEN, module-to-module calls
	ReservationTTL time.Duration     // MODSHOP_RESERVATION_TTL
	JWTSecret      string            // MODSHOP_JWT_SECRET; generated in DataDir when empty (one process only)
	DataDir        string            // MODSHOP_DATA_DIR
	Currency       string            // MODSHOP_CURRENCY, the one store currency
	LogLevel       string            // MODSHOP_LOG_LEVEL: debug|info|warn|error
	LogFormat      string            // MODSHOP_LOG_FORMAT: json|text
	ShutdownGrace  time.Duration     // MODSHOP_SHUTDOWN_TIMEOUT, how long in-flight requests may finish
	AdminEmail     string            // MODSHOP_BOOTSTRAP_ADMIN_EMAIL
	AdminPassword  string            // MODSHOP_BOOTSTRAP_ADMIN_PASSWORD
	TrustedProxies []netip.Prefix    // MODSHOP_TRUSTED_PROXIES, addresses whose X-Forwarded-For is believed
}

// Variables are the names of the MODSHOP_* variables Load reads, but for
// the per-module ones (PerModule).
var Variables = []string{
	"MODSHOP_HTTP_ADDR", "MODSHOP_DATA_DIR", "MODSHOP_DATABASE_URL", "MODSHOP_MODULES",
	"MODSHOP_NATS_URL", "MODSHOP_NATS_STREAM", "MODSHOP_EVENTS_LINGER", "MODSHOP_INTERNAL_TOKEN",
	"MODSHOP_JWT_SECRET", "MODSHOP_CURRENCY", "MODSHOP_RESERVATION_TTL", "MODSHOP_TRUSTED_PROXIES",
	"MODSHOP_SHUTDOWN_TIMEOUT", "MODSHOP_LOG_LEVEL", "MODSHOP_LOG_FORMAT",
	"MODSHOP_BOOTSTRAP_ADMIN_EMAIL", "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD",
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
	var p []string
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		HTTPAddr:      get("MODSHOP_HTTP_ADDR", ":8080"),
		DataDir:       get("MODSHOP_DATA_DIR", "./data"),
		NATSURL:       get("MODSHOP_NATS_URL", ""),
		NATSStream:    get("MODSHOP_NATS_STREAM", "MODSHOP_EVENTS"),
		InternalToken: getenv("MODSHOP_INTERNAL_TOKEN"),
		JWTSecret:     getenv("MODSHOP_JWT_SECRET"),
		Currency:      get("MODSHOP_CURRENCY", "EUR"),
		LogLevel:      get("MODSHOP_LOG_LEVEL", "info"),
		LogFormat:     get("MODSHOP_LOG_FORMAT", "json"),
		AdminEmail:    get("MODSHOP_BOOTSTRAP_ADMIN_EMAIL", ""),
		AdminPassword: getenv("MODSHOP_BOOTSTRAP_ADMIN_PASSWORD"),
		ModuleDBURLs:  map[string]string{},
		Remotes:       map[string]string{},
	}
	c.DatabaseURL = get("MODSHOP_DATABASE_URL", "sqlite://"+filepath.ToSlash(filepath.Join(c.DataDir, "modshop.db")))

	if err := ValidateAddr(c.HTTPAddr); err != nil {
		p = append(p, "MODSHOP_HTTP_ADDR: "+err.Error())
	}
	if err := ValidateDatabaseURL(c.DatabaseURL); err != nil {
		p = append(p, "MODSHOP_DATABASE_URL: "+err.Error())
	}
	var err error
	if c.ReservationTTL, err = duration(get("MODSHOP_RESERVATION_TTL", "15m"), time.Second, 24*time.Hour); err != nil {
		p = append(p, "MODSHOP_RESERVATION_TTL: "+err.Error())
	}
	if c.ShutdownGrace, err = duration(get("MODSHOP_SHUTDOWN_TIMEOUT", "10s"), 0, 5*time.Minute); err != nil {
		p = append(p, "MODSHOP_SHUTDOWN_TIMEOUT: "+err.Error())
	}
	if c.EventsLinger, err = duration(get("MODSHOP_EVENTS_LINGER", DefaultEventsLinger.String()), 0, time.Second); err != nil {
		p = append(p, "MODSHOP_EVENTS_LINGER: "+err.Error())
	}
	if len(c.Currency) != 3 || strings.ToUpper(c.Currency) != c.Currency || strings.Trim(c.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		p = append(p, fmt.Sprintf("MODSHOP_CURRENCY: %q is not an ISO 4217 code such as EUR", c.Currency))
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		p = append(p, fmt.Sprintf("MODSHOP_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		p = append(p, fmt.Sprintf("MODSHOP_LOG_FORMAT: %q is not json or text", c.LogFormat))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		p = append(p, "MODSHOP_JWT_SECRET: must be at least 32 characters")
	}
	if c.NATSStream == "" || strings.Trim(c.NATSStream, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" || len(c.NATSStream) > 64 {
		p = append(p, fmt.Sprintf("MODSHOP_NATS_STREAM: %q: use 1..64 letters, digits, _ and -", c.NATSStream))
	}
	if c.NATSURL != "" {
		if u, err := url.Parse(c.NATSURL); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			p = append(p, fmt.Sprintf("MODSHOP_NATS_URL: %q is not a nats://host:port URL", c.NATSURL))
		}
	}
	switch {
	case (c.AdminEmail == "") != (c.AdminPassword == ""):
		p = append(p, "MODSHOP_BOOTSTRAP_ADMIN_EMAIL and MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: set both or neither")
	case c.AdminEmail != "":
		if at := strings.LastIndex(c.AdminEmail, "@"); at < 1 || at == len(c.AdminEmail)-1 || strings.ContainsAny(c.AdminEmail, " \t<>") {
			p = append(p, fmt.Sprintf("MODSHOP_BOOTSTRAP_ADMIN_EMAIL: %q is not an e-mail address", c.AdminEmail))
		}
		if len([]rune(c.AdminPassword)) < 8 {
			p = append(p, "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD: must be at least 8 characters")
		}
	}

	mods := get("MODSHOP_MODULES", "all")
	if mods == "all" {
		c.Modules = slices.Clone(known)
	} else {
		unknown := false
		for _, m := range strings.Split(mods, ",") {
			m = strings.TrimSpace(m)
			switch {
			case m == "":
			case !slices.Contains(known, m):
				unknown = true
				p = append(p, fmt.Sprintf("MODSHOP_MODULES: unknown module %q (known: %s)", m, strings.Join(known, ", ")))
			case !slices.Contains(c.Modules, m):
				c.Modules = append(c.Modules, m)
			}
		}
		if len(c.Modules) == 0 && !unknown {
			p = append(p, "MODSHOP_MODULES: names no module")
		}
	}

	// Per-module variables: MODSHOP_DATABASE_URL_<MODULE>, MODSHOP_REMOTE_<MODULE>.
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		for prefix, dst := range map[string]map[string]string{"MODSHOP_DATABASE_URL_": c.ModuleDBURLs, "MODSHOP_REMOTE_": c.Remotes} {
			mod, ok := strings.CutPrefix(name, prefix)
			if !ok || strings.TrimSpace(value) == "" {
				continue
			}
			mod = strings.ToLower(mod)
			if !slices.Contains(known, mod) {
				p = append(p, fmt.Sprintf("%s: unknown module %q", name, mod))
				continue
			}
			value = strings.TrimSpace(value)
			if prefix == "MODSHOP_DATABASE_URL_" {
				if err := ValidateDatabaseURL(value); err != nil {
					p = append(p, name+": "+err.Error())
					continue
				}
			} else if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p = append(p, fmt.Sprintf("%s: %q is not an http(s) URL", name, value))
				continue
			} else if slices.Contains(c.Modules, mod) {
				p = append(p, fmt.Sprintf("%s: %s runs in this process (MODSHOP_MODULES); a module is either local or remote", name, mod))
				continue
			}
			dst[mod] = value
		}
	}
	if c.TrustedProxies, err = prefixes(get("MODSHOP_TRUSTED_PROXIES", "")); err != nil {
		p = append(p, "MODSHOP_TRUSTED_PROXIES: "+err.Error())
	}
	switch {
	case len(c.Remotes) > 0 && c.InternalToken == "":
		p = append(p, "MODSHOP_INTERNAL_TOKEN: required (16+ characters) when a module is remote")
	case c.InternalToken != "" && len(c.InternalToken) < 16:
		p = append(p, "MODSHOP_INTERNAL_TOKEN: must be at least 16 characters")
	}
	// A key generated in the data folder is this process's alone: another
	// process (a replica, a module run elsewhere) would refuse the tokens it
	// signs.
	if c.JWTSecret == "" && (c.NATSURL != "" || len(c.Remotes) > 0) {
		p = append(p, "MODSHOP_JWT_SECRET: required (32+ characters) when MODSHOP_NATS_URL or a MODSHOP_REMOTE_* is set: every process must accept the tokens the others sign")
	}
	if len(p) > 0 {
		slices.Sort(p)
		return c, &Error{Problems: p}
	}
	return c, nil
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

func duration(s string, min, max time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 15m", s)
	}
	if d < min || d > max {
		return 0, fmt.Errorf("%s is outside %s..%s", d, min, max)
	}
	return d, nil
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
