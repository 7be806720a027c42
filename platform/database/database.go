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
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
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

// Open opens a database URL without requiring the server to be up yet:
// PostgreSQL connects lazily, so a database that is down at start makes
// readiness fail instead of crashing the process.
func Open(rawURL string) (*DB, error) {
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
		file, _, _ := strings.Cut(path, "?")
		if file != ":memory:" && !strings.HasPrefix(file, "file:") {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Add("_pragma", "cache_size(-16000)")
		q.Set("_txlock", "immediate")
		dsn := "file:" + file + "?" + q.Encode()
		g, err := gorm.Open(sqlite.Open(dsn), cfg)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", file, err)
		}
		sqlDB, _ := g.DB()
		// Readers run in parallel under WAL; writers are serialised by DB.writer.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxLifetime(0)
		return &DB{URL: rawURL, Dialect: SQLite, Gorm: g, writer: make(chan struct{}, 1)}, nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		g, err := gorm.Open(postgres.New(postgres.Config{DSN: rawURL}), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, _ := g.DB()
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		return &DB{URL: rawURL, Dialect: Postgres, Gorm: g}, nil
	default:
		return nil, fmt.Errorf("unsupported database URL scheme in %q", rawURL)
	}
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
	log *slog.Logger
}

// Conn is the module's gorm handle bound to ctx, for reads and single statements.
func (h *Handle) Conn(ctx context.Context) *gorm.DB { return h.Gorm.WithContext(ctx) }

// Transact runs fn in one transaction. On SQLite write transactions are
// serialised in-process and begin IMMEDIATE, so they never fail with
// SQLITE_BUSY while another writer commits.
func (h *Handle) Transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if h.writer != nil {
		select {
		case h.writer <- struct{}{}:
			defer func() { <-h.writer }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return h.Gorm.WithContext(ctx).Transaction(fn, &sql.TxOptions{})
}

// IsDuplicate reports a unique-constraint violation.
func IsDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// Registry opens each database URL once and hands out module handles.
type Registry struct {
	mu      sync.Mutex
	urlFor  func(module string) string
	dbs     map[string]*DB
	handles map[string]*Handle
	log     *slog.Logger
}

// NewRegistry makes a registry; urlFor gives a module's database URL.
func NewRegistry(urlFor func(module string) string, log *slog.Logger) *Registry {
	return &Registry{urlFor: urlFor, dbs: map[string]*DB{}, handles: map[string]*Handle{}, log: log}
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
		if db, err = Open(u); err != nil {
			return nil, fmt.Errorf("module %s: %w", module, err)
		}
		r.dbs[u] = db
	}
	h := &Handle{Module: module, DB: db, log: r.log.With("module", module)}
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
