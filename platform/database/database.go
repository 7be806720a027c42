// Package database opens the databases modules keep their tables in and runs
// their transactions.
//
// SQLite is the embedded default; PostgreSQL is used when a URL says
// postgres://. Each module gets its own Handle. Modules that point at the same
// URL share one connection pool (and, on SQLite, one writer), but a module can
// be given a database of its own with MODSHOP_DATABASE_URL_<MODULE>.
package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/libtnb/sqlite"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/modshop/modshop/platform/fsmode"
	"github.com/modshop/modshop/platform/tracing"
)

// Dialect names the database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrDuplicate is returned (wrapped) for a unique constraint violation.
var ErrDuplicate = gorm.ErrDuplicatedKey

// DB is one opened database, shared by the modules that use its URL.
type DB struct {
	URL     string
	Dialect Dialect
	Gorm    *gorm.DB
	// writer serialises write transactions on SQLite inside this process, so
	// writers queue in Go instead of sleeping in SQLite's busy handler;
	// BEGIN IMMEDIATE and the busy timeout cover other processes.
	writer chan struct{}
}

// Limits bound the memory an opened database holds: its connections, and on
// SQLite each connection's page cache (SQLite allocates it outside the Go
// heap, through the pure-Go driver's own allocator, so neither GOGC nor
// GOMEMLIMIT bounds it). Zero fields take the defaults below.
type Limits struct {
	// MaxConns caps the pool's connections, open and idle
	// (MODSHOP_DATABASE_MAX_CONNS).
	MaxConns int
	// SQLiteCacheKiB is each SQLite connection's page cache in KiB
	// (MODSHOP_SQLITE_CACHE_KIB): the SQLite memory of a pool is at most
	// about MaxConns times this, plus SQLite's own few hundred KiB per
	// connection.
	SQLiteCacheKiB int
}

// Defaults of Limits.
const (
	DefaultSQLiteMaxConns   = 8
	DefaultPostgresMaxConns = 32
	DefaultSQLiteCacheKiB   = 1024
)

// Open opens a database URL with the default Limits; see OpenLimited.
func Open(rawURL string) (*DB, error) { return OpenLimited(rawURL, Limits{}) }

// OpenLimited opens a database URL without requiring the server to be up yet:
// PostgreSQL connects lazily, so a database that is down at start makes
// readiness fail instead of crashing the process.
func OpenLimited(rawURL string, lim Limits) (*DB, error) {
	if lim.SQLiteCacheKiB <= 0 {
		lim.SQLiteCacheKiB = DefaultSQLiteCacheKiB
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		DisableAutomaticPing:   true,
	}
	switch {
	case strings.HasPrefix(rawURL, "sqlite://"):
		path := strings.TrimPrefix(rawURL, "sqlite://")
		file, rawQuery, _ := strings.Cut(path, "?")
		file = strings.TrimPrefix(file, "file:")
		if file == "" {
			return nil, fmt.Errorf("sqlite URL %q names no file", rawURL)
		}
		memory := file == ":memory:"
		if !memory {
			// The database holds password hashes and personal data: a new
			// folder is 0700, the file 0600 (SQLite gives its WAL and SHM
			// files the database's mode).
			if err := fsmode.Parent(file); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
			for _, f := range []string{file, file + "-wal", file + "-shm"} {
				if f == file {
					if err := fsmode.File(f); err != nil {
						return nil, err
					}
				} else if err := fsmode.Tighten(f); err != nil {
					return nil, err
				}
			}
		}
		g, err := gorm.Open(sqlite.Open(sqliteDSN(file, rawQuery, lim.SQLiteCacheKiB)), cfg)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", file, err)
		}
		sqlDB, _ := g.DB()
		conns := lim.MaxConns
		if conns <= 0 {
			// Readers run in parallel under WAL; writers are serialised by DB.writer.
			conns = DefaultSQLiteMaxConns
		}
		if memory {
			// Every connection to :memory: is a database of its own: keep one.
			conns = 1
		}
		sqlDB.SetMaxOpenConns(conns)
		sqlDB.SetMaxIdleConns(conns)
		sqlDB.SetConnMaxLifetime(0)
		return &DB{URL: rawURL, Dialect: SQLite, Gorm: g, writer: make(chan struct{}, 1)}, nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		g, err := gorm.Open(postgres.New(postgres.Config{DSN: rawURL}), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, _ := g.DB()
		conns := lim.MaxConns
		if conns <= 0 {
			conns = DefaultPostgresMaxConns
		}
		sqlDB.SetMaxOpenConns(conns)
		sqlDB.SetMaxIdleConns(conns)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		return &DB{URL: rawURL, Dialect: Postgres, Gorm: g}, nil
	default:
		return nil, fmt.Errorf("unsupported database URL scheme in %q", rawURL)
	}
}

// sqliteDSN is the modernc DSN of a database file. Every connection of the
// pool runs the pragmas: WAL (readers never block the writer), a busy timeout
// and BEGIN IMMEDIATE (a writer in another process makes this one wait
// instead of failing with SQLITE_BUSY), foreign keys, and a page cache of
// cacheKiB. Parameters in the URL's own query are kept; they win over these.
func sqliteDSN(file, rawQuery string, cacheKiB int) string {
	pragmas := map[string]string{
		"busy_timeout": "10000",
		"synchronous":  "NORMAL",
		"foreign_keys": "1",
		"temp_store":   "MEMORY",
		"cache_size":   strconv.Itoa(-cacheKiB), // negative: KiB, not pages
	}
	if file != ":memory:" {
		pragmas["journal_mode"] = "WAL"
	}
	q := url.Values{}
	q.Set("_txlock", "immediate")
	if user, err := url.ParseQuery(rawQuery); err == nil {
		for k, vs := range user {
			if k != "_pragma" {
				q[k] = vs
				continue
			}
			for _, v := range vs { // name(value) or name=value
				name, val, _ := strings.Cut(strings.TrimSuffix(v, ")"), "(")
				if n, v2, ok := strings.Cut(v, "="); ok {
					name, val = n, v2
				}
				pragmas[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(val)
			}
		}
	}
	for name, val := range pragmas {
		q.Add("_pragma", name+"("+val+")")
	}
	// A file: URI: escape what SQLite would read as a query or fragment.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(file)
	return "file:" + esc + "?" + q.Encode()
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	sqlDB, err := d.Gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the pool.
func (d *DB) Close() error {
	sqlDB, err := d.Gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Handle is one module's view of its database.
type Handle struct {
	Module string
	*DB
	log      *slog.Logger
	counters *counters // nil: not counted (a handle made outside a registry with metrics)
}

// Conn is the module's gorm handle bound to ctx, for reads and single statements.
func (h *Handle) Conn(ctx context.Context) *gorm.DB { return h.Gorm.WithContext(h.withCounters(ctx)) }

// ErrNestedTransaction is returned by Transact when it is called, on SQLite,
// with the context of a transaction that is still open on the same database:
// SQLite has one writer, so the inner transaction could only wait for the
// outer one forever.
var ErrNestedTransaction = errors.New("nested write transaction on the same SQLite database: it would deadlock")

type txKey struct{}

// Transact runs fn in one transaction. On SQLite write transactions are
// serialised in-process and begin IMMEDIATE, so they never fail with
// SQLITE_BUSY while another writer commits. The transaction's context
// (tx.Statement.Context) marks it as open, so that a nested Transact on the
// same SQLite database fails at once instead of deadlocking. On PostgreSQL a
// transaction chosen as a deadlock victim runs again (up to 3 times).
func (h *Handle) Transact(ctx context.Context, fn func(tx *gorm.DB) error) (err error) {
	ctx, span := txTracer.Start(ctx, "transaction "+h.Module, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", string(h.Dialect))))
	defer func() { tracing.End(span, err) }()
	if h.writer != nil {
		if open, _ := ctx.Value(txKey{}).(*DB); open == h.DB {
			return ErrNestedTransaction
		}
		select {
		case h.writer <- struct{}{}:
			defer func() { <-h.writer }()
		case <-ctx.Done():
			return ctx.Err()
		}
		ctx = context.WithValue(ctx, txKey{}, h.DB)
	}
	ctx = h.withCounters(ctx)
	for attempt := 1; ; attempt++ {
		err := h.Gorm.WithContext(ctx).Transaction(fn, &sql.TxOptions{})
		h.countTransaction(err)
		if attempt == maxTxAttempts || !isDeadlock(err) {
			return err
		}
		// PostgreSQL chose this transaction as a deadlock victim and rolled it
		// back: nothing of it happened, so it runs again (fn must only set
		// what it returns, as every fn here does).
		time.Sleep(time.Duration(attempt*(5+mrand.IntN(10))) * time.Millisecond) //nolint:gosec // G404: jitter, not a secret
	}
}

var txTracer = tracing.Tracer("platform/database")

// maxTxAttempts bounds how often a deadlocked transaction is run again.
const maxTxAttempts = 3

// isDeadlock reports a PostgreSQL deadlock (40P01) or serialization failure
// (40001): the transaction was rolled back and may simply run again.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// IsDuplicate reports a unique-constraint violation.
func IsDuplicate(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// IsUnavailable reports an error that says the database cannot be reached
// (refused, cut, or a connection that broke), as opposed to a bad query.
// The HTTP layer answers such errors with 503 unavailable.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	var ne *net.OpError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return pgconn.SafeToRetry(err)
}

// Registry opens each database URL once and hands out module handles.
type Registry struct {
	mu      sync.Mutex
	urlFor  func(module string) string
	dbs     map[string]*DB
	handles map[string]*Handle
	log     *slog.Logger
	metrics *Metrics
	limits  Limits
}

// NewRegistry makes a registry; urlFor gives a module's database URL.
// With metrics (may be nil), every handle's statements and transactions are
// counted.
func NewRegistry(urlFor func(module string) string, log *slog.Logger, metrics *Metrics) *Registry {
	return &Registry{urlFor: urlFor, dbs: map[string]*DB{}, handles: map[string]*Handle{}, log: log, metrics: metrics}
}

// SetLimits sets the Limits of the databases the registry opens from now on;
// call it before the first For.
func (r *Registry) SetLimits(l Limits) *Registry {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limits = l
	return r
}

// For returns the module's handle, opening its database on first use.
func (r *Registry) For(module string) (*Handle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.handles[module]; ok {
		return h, nil
	}
	u := r.urlFor(module)
	db, ok := r.dbs[u]
	if !ok {
		var err error
		if db, err = OpenLimited(u, r.limits); err != nil {
			return nil, fmt.Errorf("module %s: %w", module, err)
		}
		if r.metrics != nil {
			if err := countStatements(db.Gorm); err != nil {
				db.Close()
				return nil, fmt.Errorf("module %s: count statements: %w", module, err)
			}
		}
		r.dbs[u] = db
	}
	h := &Handle{Module: module, DB: db, log: r.log.With("module", module)}
	if r.metrics != nil {
		h.counters = r.metrics.counters(module)
	}
	r.handles[module] = h
	return h, nil
}

// Handles lists the handles opened so far.
func (r *Registry) Handles() []*Handle {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Handle, 0, len(r.handles))
	for _, h := range r.handles {
		out = append(out, h)
	}
	return out
}

// Ping checks every opened database.
func (r *Registry) Ping(ctx context.Context) error {
	r.mu.Lock()
	dbs := make([]*DB, 0, len(r.dbs))
	for _, d := range r.dbs {
		dbs = append(dbs, d)
	}
	r.mu.Unlock()
	for _, d := range dbs {
		if err := d.Ping(ctx); err != nil {
			return fmt.Errorf("database %s: %w", d.Dialect, err)
		}
	}
	return nil
}

// Close closes every database.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for u, d := range r.dbs {
		errs = append(errs, d.Close())
		delete(r.dbs, u)
	}
	return errors.Join(errs...)
}
