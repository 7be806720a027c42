package database

import (
	"context"
	"fmt"
	"hash/fnv"
	"regexp"
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

// splitStatements splits a migration script into the statements Migrate runs
// one by one. It splits at each ';' that is outside
//
//   - string literals: '...', and PostgreSQL's E'...', where a backslash
//     also escapes;
//   - quoted identifiers: "..." and `...`;
//   - comments: -- to the end of the line, and /* */, which nest as in
//     PostgreSQL;
//   - PostgreSQL dollar-quoted strings: $$...$$ and $tag$...$tag$, where a tag
//     is [A-Za-z_][A-Za-z0-9_]*, non-ASCII letters allowed (a $ right after
//     an identifier character, as in a$b, and parameters such as $1 open
//     none).
//
// The same rules hold for SQLite scripts: SQLite has no dollar quoting, but
// it has no use for '$' outside quotes and comments either.
//
// Bodies of statements: in a statement that creates a trigger, function or
// procedure, BEGIN ... END (a SQLite trigger's body, PostgreSQL's BEGIN
// ATOMIC) holds its ';'; CASE ... END is counted in them, so that an END of
// a CASE does not close the body.
//
// A statement is trimmed, starts at its first token (comments before it are
// dropped), and keeps its ';'. A statement of nothing but comments is dropped,
// as is an empty one. An unterminated quote or comment runs to the end of the
// script, for the database to report. In quotes of every kind a doubled
// quote stands for one.
func splitStatements(script string) []string {
	var out []string
	start := -1 // the offset of the current statement's first token, if any
	depth := 0  // BEGIN and CASE open, END closes, in a body (createsBody)
	for i := 0; i < len(script); {
		c := script[i]
		switch {
		case c == ';' && depth > 0:
			i++
			continue
		case c == ';':
			i++
			if start >= 0 {
				out = append(out, strings.TrimSpace(script[start:i]))
				start = -1
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case strings.HasPrefix(script[i:], "--"):
			if n := strings.IndexByte(script[i:], '\n'); n >= 0 {
				i += n + 1
			} else {
				i = len(script)
			}
			continue
		case strings.HasPrefix(script[i:], "/*"):
			i = blockCommentEnd(script, i)
			continue
		}
		if start < 0 {
			start = i
		}
		switch c {
		case '\'':
			escaped := i > 0 && (script[i-1] == 'E' || script[i-1] == 'e') && (i < 2 || !identByte(script[i-2]))
			i = quotedEnd(script, i, escaped)
		case '"', '`':
			i = quotedEnd(script, i, false)
		case '$':
			if tag := dollarTag(script, i); tag != "" {
				if n := strings.Index(script[i+len(tag):], tag); n >= 0 {
					i += len(tag) + n + len(tag)
				} else {
					i = len(script)
				}
			} else {
				i++
			}
		default:
			if !identByte(c) || (i > 0 && identByte(script[i-1])) {
				i++
				break
			}
			j := i
			for j < len(script) && identByte(script[j]) {
				j++
			}
			switch word := strings.ToUpper(script[i:j]); {
			case word == "BEGIN" && depth == 0 && createsBody.MatchString(script[start:i]):
				depth++
			case (word == "BEGIN" || word == "CASE") && depth > 0:
				depth++
			case word == "END" && depth > 0:
				depth--
			}
			i = j
		}
	}
	if start >= 0 {
		if s := strings.TrimSpace(script[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// createsBody matches the start of a statement whose BEGIN opens a body.
var createsBody = regexp.MustCompile(`(?is)^CREATE\s+(OR\s+REPLACE\s+)?((TEMP|TEMPORARY)\s+)?(TRIGGER|FUNCTION|PROCEDURE)\b`)

// quotedEnd returns the offset just past the quoted text opening at s[i]: it
// ends at the next lone quote of the same kind (a doubled quote stands for
// one), or, when backslash is set, also skips a quote after a backslash.
func quotedEnd(s string, i int, backslash bool) int {
	q := s[i]
	for i++; i < len(s); i++ {
		switch {
		case backslash && s[i] == '\\':
			i++
		case s[i] == q:
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(s)
}

// blockCommentEnd returns the offset just past the /* */ comment opening at
// s[i], counting nested ones as PostgreSQL does.
func blockCommentEnd(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch {
		case strings.HasPrefix(s[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(s[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return len(s)
}

// dollarTag returns the dollar-quote tag ($$ or $tag$) opening at s[i], or ""
// when the '$' there opens none.
func dollarTag(s string, i int) string {
	if i > 0 && identByte(s[i-1]) {
		return "" // part of an identifier, as in a$b
	}
	j := i + 1
	if j < len(s) && s[j] != '$' {
		if !tagStartByte(s[j]) {
			return "" // a parameter such as $1, or no tag at all
		}
		for j++; j < len(s) && (tagStartByte(s[j]) || s[j] >= '0' && s[j] <= '9'); j++ {
		}
	}
	if j < len(s) && s[j] == '$' {
		return s[i : j+1]
	}
	return ""
}

func tagStartByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

// identByte reports whether c can continue an identifier (or a number).
func identByte(c byte) bool {
	return tagStartByte(c) || c >= '0' && c <= '9' || c == '$'
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
	ddl := schemaMigrationsDDL(h.Dialect, table)
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
			var err error
			done, err = applyOne(tx, h.Dialect, table, set.Component, m)
			return err
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

// applyOne applies one migration in tx unless table records it already
// (done).
func applyOne(tx *gorm.DB, d Dialect, table, component string, m Migration) (done bool, err error) {
	var n int64
	if err := tx.Table(table).Where("component = ? AND version = ?", component, m.Version).Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	for _, stmt := range splitStatements(m.sqlFor(d)) {
		if err := tx.Exec(stmt).Error; err != nil {
			return false, fmt.Errorf("%s: %w", firstLine(stmt), err)
		}
	}
	return false, tx.Exec("INSERT INTO "+table+" (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
		component, m.Version, m.Name, time.Now().UTC()).Error
}

// schemaMigrationsDDL creates a module's record of applied migrations.
func schemaMigrationsDDL(d Dialect, table string) string {
	ddl := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
		component TEXT NOT NULL,
		version INTEGER NOT NULL,
		name TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL,
		PRIMARY KEY (component, version))`, table)
	if d == SQLite {
		ddl = sqliteTypes.Replace(ddl)
	}
	return ddl
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	if len(l) > 80 {
		l = l[:80]
	}
	return l
}
