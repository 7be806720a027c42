package database

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Migration is one versioned schema change of a module.
//
// SQL is written for PostgreSQL; for SQLite a few type names are rewritten
// (BIGSERIAL PRIMARY KEY, TIMESTAMPTZ, JSONB, BYTEA). SQLite or Postgres,
// when set, replace SQL for that dialect.
type Migration struct {
	Version  int
	Name     string
	SQL      string
	SQLite   string
	Postgres string
}

// MigrationSet is what a module contributes: its migrations, applied in
// version order and recorded in the module's own <module>_schema_migrations.
type MigrationSet struct {
	Module     string
	Component  string // "module" for the module's tables, "platform" for outbox/inbox
	Migrations []Migration
}

var sqliteTypes = strings.NewReplacer(
	"BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT",
	"TIMESTAMPTZ", "TIMESTAMP",
	"JSONB", "TEXT",
	"BYTEA", "BLOB",
)

func (m Migration) sqlFor(d Dialect) string {
	switch {
	case d == SQLite && m.SQLite != "":
		return m.SQLite
	case d == Postgres && m.Postgres != "":
		return m.Postgres
	case d == SQLite:
		return sqliteTypes.Replace(m.SQL)
	default:
		return m.SQL
	}
}

// statements splits a script at semicolons that end a line.
func statements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if s := strings.TrimSpace(cur.String()); s != ";" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Applied is one migration that Migrate applied.
type Applied struct {
	Module, Component, Name string
	Version                 int
}

// Migrate applies the pending migrations of one set in its module's handle.
// Each migration runs in its own transaction with its record; on PostgreSQL an
// advisory lock keeps concurrent processes from applying the same one twice.
func Migrate(ctx context.Context, h *Handle, set MigrationSet) ([]Applied, error) {
	table := h.Module + "_schema_migrations"
	ms := slices.Clone(set.Migrations)
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version <= 0 || (i > 0 && ms[i-1].Version == m.Version) {
			return nil, fmt.Errorf("migrate %s/%s: version %d is not positive or not unique", h.Module, set.Component, m.Version)
		}
	}
	ddl := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
		component TEXT NOT NULL,
		version INTEGER NOT NULL,
		name TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL,
		PRIMARY KEY (component, version))`, table)
	if h.Dialect == SQLite {
		ddl = sqliteTypes.Replace(ddl)
	}
	// On PostgreSQL every step holds the module's advisory lock, even
	// creating the table: two concurrent CREATE TABLE IF NOT EXISTS can both
	// pass the check and one then fails on the catalog's unique index.
	lock := func(tx *gorm.DB) error {
		if h.Dialect != Postgres {
			return nil
		}
		f := fnv.New64a()
		f.Write([]byte(table))
		return tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(f.Sum64()>>1)).Error
	}
	if err := h.Transact(ctx, func(tx *gorm.DB) error {
		if err := lock(tx); err != nil {
			return err
		}
		return tx.Exec(ddl).Error
	}); err != nil {
		return nil, fmt.Errorf("create %s: %w", table, err)
	}
	var applied []Applied
	for _, m := range ms {
		done := false
		err := h.Transact(ctx, func(tx *gorm.DB) error {
			if err := lock(tx); err != nil {
				return err
			}
			var n int64
			if err := tx.Table(table).Where("component = ? AND version = ?", set.Component, m.Version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				done = true
				return nil
			}
			for _, stmt := range statements(m.sqlFor(h.Dialect)) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%s: %w", firstLine(stmt), err)
				}
			}
			return tx.Exec("INSERT INTO "+table+" (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
				set.Component, m.Version, m.Name, time.Now().UTC()).Error
		})
		if err != nil {
			return applied, fmt.Errorf("migrate %s/%s %04d_%s: %w", h.Module, set.Component, m.Version, m.Name, err)
		}
		if !done {
			applied = append(applied, Applied{Module: h.Module, Component: set.Component, Name: m.Name, Version: m.Version})
		}
	}
	return applied, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	if len(l) > 80 {
		l = l[:80]
	}
	return l
}
