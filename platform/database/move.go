package database

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Move copies every table of one module — its own, its outbox, inbox, dead
// letters and schema-migration rows — from the database it uses now to
// another one (`modshop move`).
//
// A module's tables are the tables whose names start with "<module>_": the
// module's migrations create them all with that prefix (docs/development.md).
// Move discovers them; it does not list them.
//
// How it goes:
//  1. Refusals, before anything is written: source and target are the same
//     database; the source is not migrated to this binary's version; the
//     module still runs on the source (a live run lease, see AcquireLease:
//     Move takes the move lease, which also keeps processes from starting
//     the module there until it is done); the target already holds tables
//     of the module.
//  2. In one transaction on the target: the module's migrations create its
//     tables with the target's own types; the rows are copied in batches;
//     each table's row count and checksum (SHA-256 of every row's values,
//     normalised, summed over rows so that order does not matter) are
//     computed from the rows read on the source and read back from the
//     target, and must agree; PostgreSQL sequences continue after the
//     highest copied value (or the source's sequence, if higher).
//  3. Commit. Any failure before it rolls the transaction back: the target
//     keeps nothing of the module, and the source was only read.
type Move struct {
	Module         string
	Source, Target *DB
	// Sets are the module's migrations, every component.
	Sets []MigrationSet
	// BatchRows is how many rows one INSERT carries (default 500).
	BatchRows int
	// AfterTable, when set, runs after each table was copied and verified,
	// inside the target transaction; an error aborts the move (tests use it
	// to fail midway).
	AfterTable func(table string) error
	Log        *slog.Logger
}

// TableCopy is what Move did with one table.
type TableCopy struct {
	Table    string
	Rows     int64
	Checksum string // hex, the first 16 characters of the 256-bit sum
	Next     int64  // the sequence's next value on the target; 0 if the table has none
}

// String is the line `modshop move` prints.
func (c TableCopy) String() string {
	s := fmt.Sprintf("%-32s %8d rows  checksum %s  verified", c.Table, c.Rows, c.Checksum)
	if c.Next > 0 {
		s += fmt.Sprintf("  next id %d", c.Next)
	}
	return s
}

// RefusedError is a move refused before anything was written.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

func refused(format string, a ...any) error { return &RefusedError{Reason: fmt.Sprintf(format, a...)} }

// Run moves the module.
func (m Move) Run(ctx context.Context) ([]TableCopy, error) {
	if m.BatchRows <= 0 {
		m.BatchRows = 500
	}
	if m.Source.URL == m.Target.URL {
		return nil, refused("source and target are the same database (%s)", redactURL(m.Source.URL))
	}
	src := &Handle{Module: m.Module, DB: m.Source, log: m.Log}
	if err := m.checkSourceVersion(ctx); err != nil {
		return nil, err
	}
	lease, err := AcquireLease(ctx, src, LeaseMove, m.Log)
	if err != nil {
		var le *LeaseError
		if errors.As(err, &le) {
			return nil, refused("%s", le.Error())
		}
		return nil, fmt.Errorf("take the move lease on the source: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := lease.Release(rctx); err != nil && m.Log != nil {
			m.Log.Warn("release the move lease", "err", err)
		}
	}()
	// The same database under two URLs sees the lease just taken.
	tgtTables, err := listTables(ctx, m.Target.Gorm.WithContext(ctx), m.Target.Dialect)
	if err != nil {
		return nil, fmt.Errorf("list the target's tables: %w", err)
	}
	if slices.Contains(tgtTables, LeaseTable(m.Module)) {
		var n int64
		if err := m.Target.Gorm.WithContext(ctx).Raw("SELECT COUNT(*) FROM "+LeaseTable(m.Module)+" WHERE holder = ?", lease.Holder()).Scan(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, refused("source and target are the same database (%s and %s)", redactURL(m.Source.URL), redactURL(m.Target.URL))
		}
	}
	if err := m.checkTargetEmpty(ctx, tgtTables); err != nil {
		return nil, err
	}
	var copies []TableCopy
	err = m.inTargetTx(ctx, func(tx *gorm.DB, stx *sql.Tx) error {
		var err error
		copies, err = m.copyAll(ctx, tx, stx)
		if err == nil {
			err = lease.Err()
		}
		return err
	})
	return copies, err
}

// expected lists the component/version pairs of the module's migrations.
func (m Move) expected() map[string]bool {
	want := map[string]bool{}
	for _, s := range m.Sets {
		for _, x := range s.Migrations {
			want[s.Component+"/"+strconv.Itoa(x.Version)] = true
		}
	}
	return want
}

func (m Move) checkSourceVersion(ctx context.Context) error {
	table := m.Module + "_schema_migrations"
	tables, err := listTables(ctx, m.Source.Gorm.WithContext(ctx), m.Source.Dialect)
	if err != nil {
		return fmt.Errorf("list the source's tables: %w", err)
	}
	if !slices.Contains(tables, table) {
		return refused("the source (%s) holds no tables of %s (no %s): nothing to move", redactURL(m.Source.URL), m.Module, table)
	}
	var rows []struct {
		Component string
		Version   int
	}
	if err := m.Source.Gorm.WithContext(ctx).Raw("SELECT component, version FROM " + table).Scan(&rows).Error; err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	want := m.expected()
	got := map[string]bool{}
	for _, r := range rows {
		got[r.Component+"/"+strconv.Itoa(r.Version)] = true
	}
	var missing, unknown []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(unknown)
	switch {
	case len(unknown) > 0:
		return refused("the source's %s has migrations this modshop does not know (%s): move with the version that applied them",
			m.Module, strings.Join(unknown, ", "))
	case len(missing) > 0:
		return refused("the source's %s is not migrated to this version (missing %s): run `modshop migrate` on it first",
			m.Module, strings.Join(missing, ", "))
	}
	return nil
}

func (m Move) checkTargetEmpty(ctx context.Context, tables []string) error {
	var full, empty []string
	for _, t := range m.ownTables(tables) {
		var n int64
		if err := m.Target.Gorm.WithContext(ctx).Raw("SELECT COUNT(*) FROM " + quoteIdent(t)).Scan(&n).Error; err != nil {
			return fmt.Errorf("count %s on the target: %w", t, err)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s: %d rows", t, n))
		} else {
			empty = append(empty, t)
		}
	}
	switch {
	case len(full) > 0:
		return refused("the target already holds rows of %s (%s)", m.Module, strings.Join(full, ", "))
	case len(empty) > 0:
		return refused("the target already has tables of %s, empty (%s): drop them first", m.Module, strings.Join(empty, ", "))
	}
	return nil
}

// ownTables keeps the module's tables of a list.
func (m Move) ownTables(tables []string) []string {
	var out []string
	for _, t := range tables {
		if strings.HasPrefix(t, m.Module+"_") {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// inTargetTx runs fn in one transaction on the target, on one connection.
func (m Move) inTargetTx(ctx context.Context, fn func(tx *gorm.DB, stx *sql.Tx) error) error {
	if m.Target.writer != nil {
		select {
		case m.Target.writer <- struct{}{}:
			defer func() { <-m.Target.writer }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	tx := m.Target.Gorm.WithContext(ctx).Begin()
	if tx.Error != nil {
		return fmt.Errorf("begin on the target: %w", tx.Error)
	}
	stx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		tx.Rollback()
		return fmt.Errorf("begin on the target: no *sql.Tx (%T)", tx.Statement.ConnPool)
	}
	if err := fn(tx, stx); err != nil {
		if rerr := tx.Rollback().Error; rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("roll back the target: %w", rerr))
		}
		return err
	}
	if err := tx.Commit().Error; err != nil {
		return fmt.Errorf("commit on the target: %w", err)
	}
	return nil
}

func (m Move) copyAll(ctx context.Context, tx *gorm.DB, stx *sql.Tx) ([]TableCopy, error) {
	// The schema, by the module's own migrations, with the target's types.
	smTable := m.Module + "_schema_migrations"
	if err := tx.Exec(schemaMigrationsDDL(m.Target.Dialect, smTable)).Error; err != nil {
		return nil, fmt.Errorf("create %s on the target: %w", smTable, err)
	}
	sets := slices.Clone(m.Sets)
	slices.SortStableFunc(sets, func(a, b MigrationSet) int { return strings.Compare(b.Component, a.Component) })
	for _, set := range sets {
		ms := slices.Clone(set.Migrations)
		slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
		for _, x := range ms {
			if _, err := applyOne(tx, m.Target.Dialect, smTable, set.Component, x); err != nil {
				return nil, fmt.Errorf("migrate %s/%s %04d_%s on the target: %w", m.Module, set.Component, x.Version, x.Name, err)
			}
		}
	}
	// The source's record of its migrations replaces the one just written.
	if err := tx.Exec("DELETE FROM " + smTable).Error; err != nil {
		return nil, err
	}
	tgtAll, err := listTables(ctx, tx, m.Target.Dialect)
	if err != nil {
		return nil, err
	}
	srcAll, err := listTables(ctx, m.Source.Gorm.WithContext(ctx), m.Source.Dialect)
	if err != nil {
		return nil, err
	}
	lease := LeaseTable(m.Module)
	tables := slices.DeleteFunc(m.ownTables(tgtAll), func(t string) bool { return t == lease })
	for _, t := range m.ownTables(srcAll) {
		if t != lease && !slices.Contains(tables, t) {
			return nil, fmt.Errorf("the source has table %s, which this version's migrations of %s do not create", t, m.Module)
		}
	}
	var out []TableCopy
	for _, t := range tables {
		c, err := m.copyTable(ctx, tx, stx, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		out = append(out, c)
		if m.AfterTable != nil {
			if err := m.AfterTable(t); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// column is a column of a target table and how its values compare.
type column struct {
	name string
	kind valueKind
}

type valueKind int

const (
	kindText valueKind = iota
	kindInt
	kindFloat
	kindBool
	kindTime
	kindBytes
	kindJSON
)

func kindOf(typ string) valueKind {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "bool"):
		return kindBool
	case strings.Contains(t, "int"), strings.Contains(t, "serial"):
		return kindInt
	case strings.Contains(t, "timestamp"), strings.Contains(t, "date"):
		return kindTime
	case strings.Contains(t, "json"):
		return kindJSON
	case strings.Contains(t, "bytea"), strings.Contains(t, "blob"):
		return kindBytes
	case strings.Contains(t, "real"), strings.Contains(t, "double"), strings.Contains(t, "float"), strings.Contains(t, "numeric"), strings.Contains(t, "decimal"):
		return kindFloat
	}
	return kindText
}

func (m Move) copyTable(ctx context.Context, tx *gorm.DB, stx *sql.Tx, table string) (TableCopy, error) {
	cols, err := listColumns(ctx, tx, m.Target.Dialect, table)
	if err != nil {
		return TableCopy{}, err
	}
	srcCols, err := listColumns(ctx, m.Source.Gorm.WithContext(ctx), m.Source.Dialect, table)
	if err != nil {
		return TableCopy{}, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
		if !slices.ContainsFunc(srcCols, func(s column) bool { return s.name == c.name }) {
			return TableCopy{}, fmt.Errorf("the source's table has no column %s", c.name)
		}
	}
	if len(srcCols) != len(cols) {
		return TableCopy{}, fmt.Errorf("the source's table has %d columns, the target's %d", len(srcCols), len(cols))
	}
	// Quoted names read from the database's own catalog.
	sel := "SELECT " + strings.Join(names, ", ") + " FROM " + quoteIdent(table) //nolint:gosec // G202: see above
	srcDB, err := m.Source.Gorm.DB()
	if err != nil {
		return TableCopy{}, err
	}
	rows, err := srcDB.QueryContext(ctx, sel)
	if err != nil {
		return TableCopy{}, fmt.Errorf("read the source: %w", err)
	}
	defer rows.Close()
	perBatch := max(1, min(m.BatchRows, 30000/len(cols)))
	var srcSum checksum
	var batch []any
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		q := insertSQL(m.Target.Dialect, table, names, n)
		if _, err := stx.ExecContext(ctx, q, batch...); err != nil {
			return fmt.Errorf("insert into the target: %w", err)
		}
		batch, n = batch[:0], 0
		return nil
	}
	var count int64
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return TableCopy{}, err
		}
		row := make([]any, len(cols))
		for i, c := range cols {
			v, err := convert(c.kind, vals[i])
			if err != nil {
				return TableCopy{}, fmt.Errorf("column %s: %w", c.name, err)
			}
			row[i] = v
		}
		srcSum.add(cols, row)
		count++
		batch = append(batch, row...)
		n++
		if n == perBatch {
			if err := flush(); err != nil {
				return TableCopy{}, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return TableCopy{}, fmt.Errorf("read the source: %w", err)
	}
	rows.Close()
	if err := flush(); err != nil {
		return TableCopy{}, err
	}
	// Read back what the target holds now, in the transaction.
	tgtRows, err := stx.QueryContext(ctx, sel)
	if err != nil {
		return TableCopy{}, fmt.Errorf("read back the target: %w", err)
	}
	defer tgtRows.Close()
	var tgtSum checksum
	var tgtCount int64
	for tgtRows.Next() {
		if err := tgtRows.Scan(ptrs...); err != nil {
			return TableCopy{}, err
		}
		row := make([]any, len(cols))
		for i, c := range cols {
			v, err := convert(c.kind, vals[i])
			if err != nil {
				return TableCopy{}, fmt.Errorf("column %s on the target: %w", c.name, err)
			}
			row[i] = v
		}
		tgtSum.add(cols, row)
		tgtCount++
	}
	if err := tgtRows.Err(); err != nil {
		return TableCopy{}, err
	}
	tgtRows.Close()
	if tgtCount != count {
		return TableCopy{}, fmt.Errorf("verify: %d rows read from the source, %d on the target", count, tgtCount)
	}
	if srcSum != tgtSum {
		return TableCopy{}, fmt.Errorf("verify: checksums differ (source %s, target %s)", srcSum.String(), tgtSum.String())
	}
	c := TableCopy{Table: table, Rows: count, Checksum: srcSum.String()}
	if c.Next, err = m.continueSequences(ctx, tx, table, cols); err != nil {
		return TableCopy{}, fmt.Errorf("sequence: %w", err)
	}
	return c, nil
}

// continueSequences sets the sequence of each serial column of a target
// table past the highest copied value, or past the source's sequence if
// that is higher (ids of deleted rows are not given again). It returns the
// next value of the (last) sequence, 0 if the table has none.
func (m Move) continueSequences(ctx context.Context, tx *gorm.DB, table string, cols []column) (int64, error) {
	var next int64
	for _, c := range cols {
		if c.kind != kindInt {
			continue
		}
		var last int64
		switch m.Target.Dialect {
		case Postgres:
			var seq sql.NullString
			if err := tx.Raw("SELECT pg_get_serial_sequence(?, ?)", quoteIdent(table), c.name).Scan(&seq).Error; err != nil {
				return 0, err
			}
			if !seq.Valid || seq.String == "" {
				continue
			}
			if err := tx.Raw("SELECT COALESCE(MAX(" + quoteIdent(c.name) + "), 0) FROM " + quoteIdent(table)).Scan(&last).Error; err != nil {
				return 0, err
			}
			last = max(last, m.sourceSequence(ctx, table, c.name))
			if last > 0 {
				if err := tx.Exec("SELECT setval(?, ?, true)", seq.String, last).Error; err != nil {
					return 0, err
				}
			}
			next = last + 1
		case SQLite:
			var ok int64
			if err := tx.Raw("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").Scan(&ok).Error; err != nil || ok == 0 {
				continue
			}
			var cur sql.NullInt64
			if err := tx.Raw("SELECT seq FROM sqlite_sequence WHERE name = ?", table).Scan(&cur).Error; err != nil {
				return 0, err
			}
			src := m.sourceSequence(ctx, table, c.name)
			if !cur.Valid && src == 0 {
				continue // not an AUTOINCREMENT table, or nothing to continue from
			}
			last = max(cur.Int64, src)
			if src > cur.Int64 {
				res := tx.Exec("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", last, table)
				if res.Error != nil {
					return 0, res.Error
				}
				if res.RowsAffected == 0 {
					if err := tx.Exec("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", table, last).Error; err != nil {
						return 0, err
					}
				}
			}
			next = last + 1
		}
	}
	return next, nil
}

// sourceSequence is the last value the source's sequence of a column gave
// out, 0 if it has none or gave none.
func (m Move) sourceSequence(ctx context.Context, table, col string) int64 {
	db := m.Source.Gorm.WithContext(ctx)
	var v sql.NullInt64
	switch m.Source.Dialect {
	case Postgres:
		var seq sql.NullString
		if db.Raw("SELECT pg_get_serial_sequence(?, ?)", quoteIdent(table), col).Scan(&seq).Error != nil || !seq.Valid || seq.String == "" {
			return 0
		}
		if db.Raw("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM "+seq.String).Scan(&v).Error != nil {
			return 0
		}
	case SQLite:
		if db.Raw("SELECT seq FROM sqlite_sequence WHERE name = ?", table).Scan(&v).Error != nil {
			return 0
		}
	}
	return v.Int64
}

func insertSQL(d Dialect, table string, names []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(quoteIdent(table))
	b.WriteString(" (")
	b.WriteString(strings.Join(names, ", "))
	b.WriteString(") VALUES ")
	p := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			p++
			if d == Postgres {
				b.WriteString("$" + strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// listTables lists the base tables of the database (PostgreSQL: of the
// current schema, the first of search_path).
func listTables(ctx context.Context, db *gorm.DB, d Dialect) ([]string, error) {
	var names []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if d == Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	}
	err := db.WithContext(ctx).Raw(q).Scan(&names).Error
	slices.Sort(names)
	return names, err
}

func listColumns(ctx context.Context, db *gorm.DB, d Dialect, table string) ([]column, error) {
	var rows []struct {
		Name string
		Type string
	}
	q := "SELECT name, type FROM pragma_table_info(?) ORDER BY cid"
	if d == Postgres {
		q = "SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
	}
	if err := db.WithContext(ctx).Raw(q, table).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("table %s has no columns", table)
	}
	out := make([]column, len(rows))
	for i, r := range rows {
		out[i] = column{name: r.Name, kind: kindOf(r.Type)}
	}
	return out, nil
}

// timeLayouts are the forms a timestamp stored as text may take in SQLite.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// convert turns a value read from either database into the Go value of its
// column's kind: what is written to the target, and what the checksum
// reads. Timestamps are UTC, to the microsecond (PostgreSQL's precision).
func convert(k valueKind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok && k != kindBytes {
		v = string(b)
	}
	switch k {
	case kindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case int:
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x != float64(int64(x)) {
				return nil, fmt.Errorf("%v is not an integer", x)
			}
			return int64(x), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case kindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case string:
			return strconv.ParseFloat(x, 64)
		}
	case kindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			return strconv.ParseBool(x)
		}
	case kindTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Round(time.Microsecond), nil
		case string:
			for _, l := range timeLayouts {
				if t, err := time.Parse(l, x); err == nil {
					return t.UTC().Round(time.Microsecond), nil
				}
			}
			return nil, fmt.Errorf("%q is not a timestamp", x)
		}
	case kindBytes:
		switch x := v.(type) {
		case []byte:
			return slices.Clone(x), nil
		case string:
			return []byte(x), nil
		}
	case kindJSON:
		if s, ok := v.(string); ok {
			return s, nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	case kindText:
		switch x := v.(type) {
		case string:
			return x, nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case time.Time:
			return x.UTC().Format(time.RFC3339Nano), nil
		}
	}
	return nil, fmt.Errorf("cannot read %T as this column's type", v)
}

// normal is a converted value's canonical text for the checksum.
func normal(k valueKind, v any) string {
	if v == nil {
		return "\x00null"
	}
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return hex.EncodeToString(x)
	case string:
		if k == kindJSON {
			var j any
			d := json.NewDecoder(strings.NewReader(x))
			d.UseNumber()
			if d.Decode(&j) == nil {
				if b, err := json.Marshal(j); err == nil {
					return string(b)
				}
			}
		}
		return x
	}
	return fmt.Sprint(v)
}

// checksum is the sum, in four 64-bit lanes, of the SHA-256 of every row:
// the same rows in any order give the same sum.
type checksum [4]uint64

func (c *checksum) add(cols []column, row []any) {
	h := sha256.New()
	var n [8]byte
	for i, v := range row {
		s := normal(cols[i].kind, v)
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	sum := h.Sum(nil)
	for i := range c {
		c[i] += binary.BigEndian.Uint64(sum[i*8:])
	}
}

func (c checksum) String() string {
	var b [32]byte
	for i, x := range c {
		binary.BigEndian.PutUint64(b[i*8:], x)
	}
	return hex.EncodeToString(b[:])[:16]
}

// redactURL hides a password in a database URL.
func redactURL(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			cred := rest[:at]
			if user, _, ok := strings.Cut(cred, ":"); ok {
				return raw[:i+3] + user + ":xxxxx" + rest[at:]
			}
		}
	}
	return raw
}
