// Package app wires the platform with fx and runs a process's life: listen,
// migrate (retrying while the database is down), start the event bus and the
// modules' workers, open the API, and on a signal stop in reverse order.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/fsmode"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
	"github.com/modshop/modshop/platform/tracing"
)

// Version is set at build time.
var Version = "dev"

// Platform provides everything modules stand on.
func Platform(cfg config.Config, logOut io.Writer) fx.Option {
	return fx.Options(
		fx.Supply(cfg),
		fx.Provide(
			func() *slog.Logger { return NewLogger(cfg, logOut) },
			newMetricsRegistry,
			func(r *prometheus.Registry) prometheus.Registerer { return r },
			func(log *slog.Logger, reg prometheus.Registerer) *database.Registry {
				return database.NewRegistry(cfg.DatabaseURLFor, log, database.NewMetrics(reg)).
					SetLimits(database.Limits{MaxConns: cfg.DatabaseMaxConns, SQLiteCacheKiB: cfg.SQLiteCacheKiB})
			},
			func() (*auth.Keys, error) {
				// A data folder made earlier with a looser mode is made
				// private (fsmode); one that does not exist is not created here.
				if err := fsmode.Tighten(cfg.DataDir); err != nil {
					return nil, err
				}
				return auth.LoadKeys(cfg.JWTSecret, cfg.DataDir)
			},
			newTransport,
			newBus,
			newMigrator,
			newServer,
			newRuntime,
			fx.Annotate(platformRoutes, fx.ResultTags(modkit.GroupRoutes)),
		),
		fx.Invoke(func(lc fx.Lifecycle, log *slog.Logger) error { return setupTracing(lc, cfg, log) }),
	)
}

// setupTracing installs the trace propagator and, when the OTEL_*
// variables ask for it, the OTLP exporter, flushed when the process stops.
// The process is named after the modules it runs.
func setupTracing(lc fx.Lifecycle, cfg config.Config, log *slog.Logger) error {
	service := "modshop"
	if os.Getenv("MODSHOP_MODULES") != "" {
		service += "-" + strings.Join(cfg.Modules, "-")
	}
	shutdown, err := tracing.Setup(context.Background(), service, log)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	lc.Append(fx.StopHook(shutdown))
	return nil
}

// NewLogger makes the process logger.
func NewLogger(cfg config.Config, out io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	// Records logged with a context that carries a span get its trace_id.
	if cfg.LogFormat == "text" {
		return slog.New(tracing.NewLogHandler(slog.NewTextHandler(out, opts)))
	}
	return slog.New(tracing.NewLogHandler(slog.NewJSONHandler(out, opts)))
}

func newMetricsRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// newTransport: NATS JetStream when MODSHOP_NATS_URL is set (modules in
// processes of their own), in-process GoChannel otherwise. The bus closes it.
func newTransport(cfg config.Config, log *slog.Logger) (events.Transport, error) {
	if cfg.NATSURL != "" {
		nc := events.NATSConfig{URL: cfg.NATSURL, Stream: cfg.NATSStream}
		if cfg.NATSStream != events.DefaultNATSStream {
			// Shops sharing one NATS keep their events apart by stream.
			nc.SubjectPrefix = strings.ToLower(cfg.NATSStream) + ".events"
		}
		return events.NewNATS(nc, log)
	}
	return events.NewGoChannel(log), nil
}

// newBus makes the bus; consumers subscribe in newRuntime, because they
// depend on their module's outbox, which the bus hands out.
func newBus(cfg config.Config, t events.Transport, reg *prometheus.Registry, log *slog.Logger) *events.Bus {
	return events.NewBus(t, reg, log, events.WithLinger(cfg.EventsLinger))
}

type serverIn struct {
	fx.In
	Config   config.Config
	Keys     *auth.Keys
	Registry *prometheus.Registry
	Log      *slog.Logger
	DBs      *database.Registry
	Bus      *events.Bus
	Routes   []httpx.RouteSet `group:"routes"`
	Checks   []httpx.Check    `group:"checks"`
}

func newServer(in serverIn) (*httpx.Server, error) {
	checks := append([]httpx.Check{
		{Name: "database", Fn: in.DBs.Ping},
		{Name: "event_bus", Fn: in.Bus.Transport().Ping},
	}, in.Checks...)
	return httpx.NewServer(httpx.Config{Addr: in.Config.HTTPAddr, InternalToken: in.Config.InternalToken,
		Unavailable: database.IsUnavailable, TrustedProxies: in.Config.TrustedProxies},
		in.Routes, checks, in.Keys, in.Registry, in.Log)
}

// Migrator applies every local module's migrations.
type Migrator struct {
	sets []database.MigrationSet
	dbs  *database.Registry
	log  *slog.Logger
}

type migratorIn struct {
	fx.In
	Sets []database.MigrationSet `group:"migrations"`
	DBs  *database.Registry
	Log  *slog.Logger
}

func newMigrator(in migratorIn) *Migrator {
	sets := append([]database.MigrationSet(nil), in.Sets...)
	// Platform tables first, then each module's own, in a stable order.
	sort.SliceStable(sets, func(i, j int) bool {
		if sets[i].Module != sets[j].Module {
			return sets[i].Module < sets[j].Module
		}
		return sets[i].Component > sets[j].Component
	})
	return &Migrator{sets: sets, dbs: in.DBs, log: in.Log}
}

// Run applies pending migrations, logs each, and reports what it applied.
func (m *Migrator) Run(ctx context.Context) ([]database.Applied, error) {
	applied, err := m.Apply(ctx)
	for _, a := range applied {
		m.log.Info("migration applied", "module", a.Module, "component", a.Component, "version", a.Version, "name", a.Name)
	}
	return applied, err
}

// Apply applies pending migrations and reports what it applied, without
// logging: for a command that prints them itself (modshop migrate).
func (m *Migrator) Apply(ctx context.Context) ([]database.Applied, error) {
	var all []database.Applied
	for _, set := range m.sets {
		h, err := m.dbs.For(set.Module)
		if err != nil {
			return all, err
		}
		applied, err := database.Migrate(ctx, h, set)
		all = append(all, applied...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// Leased lists the local modules whose tables carry a lease
// (database.LeaseMigrations, which modkit.Storage registers).
func (m *Migrator) Leased() []string {
	var out []string
	for _, s := range m.sets {
		if s.Component == database.LeaseComponent {
			out = append(out, s.Module)
		}
	}
	return out
}

// Runtime is a serving process's life.
type Runtime struct {
	cfg      config.Config
	log      *slog.Logger
	server   *httpx.Server
	migrator *Migrator
	bus      *events.Bus
	dbs      *database.Registry
	workers  []modkit.Worker
	mods     []modkit.Descriptor
	ready    chan struct{}
	cancel   context.CancelFunc
	booted   chan struct{}
	started  []modkit.Worker
	leases   []*database.Lease
}

type runtimeIn struct {
	fx.In
	Config    config.Config
	Log       *slog.Logger
	Server    *httpx.Server
	Migrator  *Migrator
	Bus       *events.Bus
	DBs       *database.Registry
	Workers   []modkit.Worker     `group:"workers"`
	Modules   []modkit.Descriptor `group:"modules"`
	Consumers []events.Consumer   `group:"consumers"`
}

func newRuntime(in runtimeIn) *Runtime {
	in.Bus.Subscribe(in.Consumers...)
	return &Runtime{cfg: in.Config, log: in.Log, server: in.Server, migrator: in.Migrator, bus: in.Bus, dbs: in.DBs,
		workers: in.Workers, mods: in.Modules, ready: make(chan struct{}), booted: make(chan struct{})}
}

// Server is the HTTP server.
func (r *Runtime) Server() *httpx.Server { return r.server }

// Bus is the event bus.
func (r *Runtime) Bus() *events.Bus { return r.bus }

// Modules are the local modules' descriptors.
func (r *Runtime) Modules() []modkit.Descriptor { return r.mods }

// Ready is closed once the API is open.
func (r *Runtime) Ready() <-chan struct{} { return r.ready }

// Serve hooks the runtime into the fx lifecycle.
func Serve(lc fx.Lifecycle, r *Runtime) {
	lc.Append(fx.Hook{OnStart: r.start, OnStop: r.stop})
}

func (r *Runtime) start(context.Context) error {
	setMemoryLimit(r.cfg, r.log)
	if err := r.server.Listen(); err != nil {
		return err
	}
	go func() {
		if err := r.server.Serve(); err != nil {
			r.log.Error("http server stopped", "err", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.boot(ctx)
	names := make([]string, len(r.mods))
	for i, m := range r.mods {
		names[i] = m.Name
	}
	r.log.Info("listening", "addr", r.server.Addr(), "modules", strings.Join(names, ","), "version", Version)
	return nil
}

// boot migrates (retrying while the database is down), starts the bus and the
// workers, then opens the API.
func (r *Runtime) boot(ctx context.Context) {
	defer close(r.booted)
	wait := 100 * time.Millisecond
	for {
		_, err := r.migrator.Run(ctx)
		if err == nil {
			break
		}
		r.log.Error("start-up: migrations failed; retrying", "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
	// Before anything writes (the relays start with the bus): a run lease
	// on each local module's tables, which `modshop move` waits for the end
	// of, and which is not granted while a move holds the module.
	for _, m := range r.migrator.Leased() {
		for {
			err := r.takeLease(ctx, m)
			if err == nil {
				break
			}
			r.log.Error("start-up: module lease not granted; retrying", "module", m, "err", err, "retry_in", wait.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, 5*time.Second)
		}
	}
	for {
		err := r.bus.Start(ctx)
		if err == nil {
			break
		}
		r.log.Error("start-up: event bus failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	for _, w := range r.workers {
		if err := w.Start(ctx); err != nil {
			r.log.Error("start-up: worker failed to start", "worker", w.Name, "err", err)
			continue
		}
		r.started = append(r.started, w)
	}
	r.server.SetReady(true)
	close(r.ready)
	r.log.Info("ready")
	// Start-up leaves garbage (migrations, module set-up such as a password
	// hasher's first hash) that the next GC, due only at twice the start-up
	// peak, would free much later: free it now and give the pages back, so
	// an idle process is as small as it can be.
	debug.FreeOSMemory()
}

// setMemoryLimit gives the Go runtime MODSHOP_MEMORY_LIMIT_MIB as its soft
// memory limit, unless GOMEMLIMIT set one: near it the GC runs more often and
// returns freed pages to the OS sooner, instead of letting the heap grow to
// twice what is live (GOGC=100). It bounds only what Go allocates: SQLite's
// page caches are bounded by MODSHOP_SQLITE_CACHE_KIB. A live heap above the
// limit is not refused; the GC then spends more CPU (at most about half).
func setMemoryLimit(cfg config.Config, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" || cfg.MemoryLimitMiB <= 0 {
		return
	}
	debug.SetMemoryLimit(int64(cfg.MemoryLimitMiB) << 20)
	log.Debug("go memory limit set", "mib", cfg.MemoryLimitMiB)
}

func (r *Runtime) stop(ctx context.Context) error {
	r.log.Info("stopping")
	grace, cancel := context.WithTimeout(ctx, r.cfg.ShutdownGrace)
	defer cancel()
	err := r.server.Shutdown(grace)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// MODSHOP_SHUTDOWN_TIMEOUT passed: cutting what still runs is the
		// configured behaviour, not a failure of the stop.
		r.log.Warn("requests still in flight were cut", "after", r.cfg.ShutdownGrace.String())
		err = nil
	}
	r.cancel()
	<-r.booted
	for i := len(r.started) - 1; i >= 0; i-- {
		if w := r.started[i]; w.Stop != nil {
			if werr := w.Stop(ctx); werr != nil {
				r.log.Warn("worker stop", "worker", w.Name, "err", werr)
			}
		}
	}
	if berr := r.bus.Stop(ctx); berr != nil {
		r.log.Warn("event bus stop", "err", berr)
	}
	for _, l := range r.leases {
		if lerr := l.Release(ctx); lerr != nil {
			r.log.Warn("module lease release", "err", lerr)
		}
	}
	if derr := r.dbs.Close(); derr != nil {
		r.log.Warn("database close", "err", derr)
	}
	r.log.Info("stopped")
	return err
}

func (r *Runtime) takeLease(ctx context.Context, module string) error {
	h, err := r.dbs.For(module)
	if err != nil {
		return err
	}
	l, err := database.AcquireLease(ctx, h, database.LeaseRun, r.log)
	if err != nil {
		return err
	}
	r.leases = append(r.leases, l)
	return nil
}

// Stderr is where logs go by default.
var Stderr io.Writer = os.Stderr
