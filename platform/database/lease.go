package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// A module lease says who uses a module's tables in a database: every
// process that runs the module holds a "run" lease in the module's own
// <module>_leases table and renews it while it runs; `modshop move` takes a
// "move" lease, which it only gets while no run lease is live, and while it
// holds one no process starts the module on that database. A process that
// stops gives its lease back; one that was killed loses it LeaseTTL after
// its last renewal.

// LeaseTTL is how long a lease lives without a renewal.
const LeaseTTL = 30 * time.Second

// leaseRenewal is how often a holder renews its lease.
const leaseRenewal = 10 * time.Second

// LeaseComponent is the component of the lease table's migration.
const LeaseComponent = "lease"

// Kinds of lease.
const (
	LeaseRun  = "run"
	LeaseMove = "move"
)

// LeaseMigrations creates the module's lease table.
func LeaseMigrations(module string) MigrationSet {
	return MigrationSet{Module: module, Component: LeaseComponent, Migrations: []Migration{{
		Version: 1, Name: "module_lease",
		SQL: `CREATE TABLE ` + module + `_leases (
	holder TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	host TEXT NOT NULL,
	renewed_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);`,
	}}}
}

// LeaseTable is the name of a module's lease table.
func LeaseTable(module string) string { return module + "_leases" }

// LeaseHolder is a live lease of another holder.
type LeaseHolder struct {
	Holder, Kind, Host string
	RenewedAt          time.Time
}

// LeaseError says why a lease was not granted.
type LeaseError struct {
	Module  string
	Holders []LeaseHolder
}

func (e *LeaseError) Error() string {
	var run, move []string
	for _, h := range e.Holders {
		d := fmt.Sprintf("%s, renewed %s ago", h.Host, time.Since(h.RenewedAt).Round(time.Second))
		if h.Kind == LeaseMove {
			move = append(move, d)
		} else {
			run = append(run, d)
		}
	}
	if len(move) > 0 {
		return fmt.Sprintf("%s is being moved to another database (modshop move on %s)", e.Module, strings.Join(move, "; "))
	}
	return fmt.Sprintf("%s is still running on this database: %d process(es) hold its lease (%s); stop them first, or wait %s after one was killed",
		e.Module, len(run), strings.Join(run, "; "), LeaseTTL)
}

// Moving reports whether the lease was refused because a move holds it.
func (e *LeaseError) Moving() bool {
	for _, h := range e.Holders {
		if h.Kind == LeaseMove {
			return true
		}
	}
	return false
}

// Lease is a held lease; Renew keeps it, Release gives it back.
type Lease struct {
	h      *Handle
	holder string
	kind   string
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	lost   error
}

// Holder is the lease's id.
func (l *Lease) Holder() string { return l.holder }

// AcquireLease takes a lease of kind on the module of h. A run lease is
// refused while a move lease is live; a move lease while any other lease is.
// Expired leases are dropped on the way. The lease is renewed in the
// background until Release.
func AcquireLease(ctx context.Context, h *Handle, kind string, log *slog.Logger) (*Lease, error) {
	l := &Lease{h: plainHandle(h), holder: newHolderID(), kind: kind, stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.take(ctx); err != nil {
		return nil, err
	}
	// The lease outlives ctx, the context of taking it: renewed until Release.
	go l.renewLoop(log) //nolint:gosec // G118: see above

	return l, nil
}

// plainHandle is h without metrics: leases are not the module's traffic.
func plainHandle(h *Handle) *Handle { return &Handle{Module: h.Module, DB: h.DB, log: h.log} }

func newHolderID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func hostName() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown host"
	}
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}

// lockLeases serialises lease changes of a module on PostgreSQL (SQLite's
// write transactions are serial already).
func lockLeases(tx *gorm.DB, d Dialect, module string) error {
	if d != Postgres {
		return nil
	}
	f := fnv.New64a()
	f.Write([]byte(LeaseTable(module)))
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(f.Sum64()>>1)).Error
}

func (l *Lease) take(ctx context.Context) error {
	table := LeaseTable(l.h.Module)
	return l.h.Transact(ctx, func(tx *gorm.DB) error {
		if err := lockLeases(tx, l.h.Dialect, l.h.Module); err != nil {
			return err
		}
		now := time.Now().UTC()
		if err := tx.Exec("DELETE FROM "+table+" WHERE expires_at < ?", now).Error; err != nil {
			return err
		}
		var rows []struct {
			Holder, Kind, Host string
			RenewedAt          time.Time
		}
		if err := tx.Raw("SELECT holder, kind, host, renewed_at FROM " + table + " ORDER BY renewed_at").Scan(&rows).Error; err != nil {
			return err
		}
		var blocking []LeaseHolder
		for _, r := range rows {
			if r.Holder == l.holder {
				continue
			}
			if l.kind == LeaseMove || r.Kind == LeaseMove {
				blocking = append(blocking, LeaseHolder{Holder: r.Holder, Kind: r.Kind, Host: r.Host, RenewedAt: r.RenewedAt})
			}
		}
		if len(blocking) > 0 {
			return &LeaseError{Module: l.h.Module, Holders: blocking}
		}
		if err := tx.Exec("DELETE FROM "+table+" WHERE holder = ?", l.holder).Error; err != nil {
			return err
		}
		return tx.Exec("INSERT INTO "+table+" (holder, kind, host, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			l.holder, l.kind, hostName(), now, now.Add(LeaseTTL)).Error
	})
}

// renew extends the lease; if it expired and was dropped meanwhile (the
// process was paused longer than LeaseTTL), it is taken again, which fails
// while a move holds the module.
func (l *Lease) renew(ctx context.Context) error {
	var renewed int64
	err := l.h.Transact(ctx, func(tx *gorm.DB) error {
		now := time.Now().UTC()
		res := tx.Exec("UPDATE "+LeaseTable(l.h.Module)+" SET renewed_at = ?, expires_at = ? WHERE holder = ?",
			now, now.Add(LeaseTTL), l.holder)
		renewed = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return err
	}
	if renewed == 0 {
		return l.take(ctx)
	}
	return nil
}

func (l *Lease) renewLoop(log *slog.Logger) {
	defer close(l.done)
	t := time.NewTicker(leaseRenewal)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), leaseRenewal)
			err := l.renew(ctx)
			cancel()
			l.mu.Lock()
			l.lost = err
			l.mu.Unlock()
			if err != nil && log != nil {
				log.Error("module lease not renewed", "module", l.h.Module, "kind", l.kind, "err", err)
			}
		}
	}
}

// Err is the last renewal's error, if it failed.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Release stops renewing and deletes the lease (idempotent).
func (l *Lease) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		err = l.h.Transact(ctx, func(tx *gorm.DB) error {
			return tx.Exec("DELETE FROM "+LeaseTable(l.h.Module)+" WHERE holder = ?", l.holder).Error
		})
	})
	return err
}
