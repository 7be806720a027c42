package database_test

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// ware is a module for the move tests: a table with every kind of column
// the modules use, a serial id, and the lease table.
var wareSets = []database.MigrationSet{
	{Module: "ware", Component: "module", Migrations: []database.Migration{
		{Version: 1, Name: "items", SQL: `
CREATE TABLE ware_items (
	id BIGSERIAL PRIMARY KEY,
	sku TEXT NOT NULL UNIQUE,
	qty INTEGER NOT NULL,
	at TIMESTAMPTZ NOT NULL,
	note TEXT,
	blob BYTEA
);
CREATE TABLE ware_clock (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);`},
		{Version: 2, Name: "events", SQL: `
CREATE TABLE ware_outbox (seq BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL, published_at TIMESTAMPTZ);`},
	}},
	database.LeaseMigrations("ware"),
}

// migrated is a database with ware's tables and rows: 30 items of which 5
// were deleted (so the sequence is ahead of the highest id), 40 outbox rows.
func migrated(t *testing.T, db testkit.DB) *database.Handle {
	t.Helper()
	h := handle(t, db.URL, "ware")
	ctx := t.Context()
	for _, s := range wareSets {
		if _, err := database.Migrate(ctx, h, s); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	for i := range 30 {
		var note, blob any
		if i%3 == 0 {
			note, blob = fmt.Sprintf("note %d ‘quoted’", i), []byte{0, byte(i), 0xff}
		}
		if err := h.Conn(ctx).Exec("INSERT INTO ware_items (sku, qty, at, note, blob) VALUES (?, ?, ?, ?, ?)",
			fmt.Sprintf("SKU-%02d", i), i*7-50, at.Add(time.Duration(i)*time.Hour+time.Duration(i)*499*time.Nanosecond), note, blob).Error; err != nil {
			t.Fatal(err)
		}
	}
	must(t, h.Conn(ctx).Exec("DELETE FROM ware_items WHERE id > 25").Error)
	must(t, h.Conn(ctx).Exec("INSERT INTO ware_clock (id, seq) VALUES (1, 9007199254740993)").Error)
	for i := range 40 {
		var pub any
		if i < 30 {
			pub = at
		}
		must(t, h.Conn(ctx).Exec("INSERT INTO ware_outbox (payload, published_at) VALUES (?, ?)", fmt.Sprintf(`{"n":%d}`, i), pub).Error)
	}
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// dump is every row of ware's tables, as text, to compare databases.
func dump(t *testing.T, url string) map[string][]string {
	t.Helper()
	db := open(t, url)
	out := map[string][]string{}
	queries := map[string]string{
		"ware_items":             "SELECT id, sku, qty, at, note, blob FROM ware_items ORDER BY id",
		"ware_clock":             "SELECT id, seq FROM ware_clock",
		"ware_outbox":            "SELECT seq, payload, published_at FROM ware_outbox ORDER BY seq",
		"ware_schema_migrations": "SELECT component, version, name, applied_at FROM ware_schema_migrations ORDER BY component, version",
	}
	for table, q := range queries {
		rows, err := db.Gorm.Raw(q).Rows()
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			var parts []string
			for _, v := range vals {
				switch x := v.(type) {
				case time.Time:
					parts = append(parts, x.UTC().Round(time.Microsecond).Format(time.RFC3339Nano))
				case []byte:
					parts = append(parts, fmt.Sprintf("%x", x))
				default:
					parts = append(parts, fmt.Sprint(x))
				}
			}
			out[table] = append(out[table], strings.Join(parts, "|"))
		}
		rows.Close()
	}
	return out
}

// tablesOf lists ware's tables in a database.
func tablesOf(t *testing.T, url string) []string {
	t.Helper()
	tables, err := open(t, url).Gorm.Migrator().GetTables()
	must(t, err)
	return slices.DeleteFunc(tables, func(s string) bool { return !strings.HasPrefix(s, "ware_") })
}

type pair struct {
	name     string
	src, tgt func(t *testing.T) testkit.DB
}

func sqliteDB(t *testing.T) testkit.DB   { return testkit.SQLite(t) }
func postgresDB(t *testing.T) testkit.DB { return testkit.Postgres(t) }

var pairs = []pair{
	{"sqlite_to_sqlite", sqliteDB, sqliteDB},
	{"sqlite_to_postgres", sqliteDB, postgresDB},
	{"postgres_to_postgres", postgresDB, postgresDB},
}

func moveOf(t *testing.T, src, tgt string) database.Move {
	return database.Move{Module: "ware", Source: open(t, src), Target: open(t, tgt), Sets: wareSets, BatchRows: 7, Log: discard}
}

// A module's tables arrive whole: every row with its values, the migration
// record as the source had it, sequences that continue after the source's,
// and the source as it was.
func TestMoveCopiesEveryTableOfTheModule(t *testing.T) {
	t.Parallel()
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			src, tgt := p.src(t), p.tgt(t)
			migrated(t, src)
			// Another module's table in the same database stays behind.
			must(t, open(t, src.URL).Gorm.Exec("CREATE TABLE warehouse_x (id INTEGER)").Error)
			before := dump(t, src.URL)
			copies, err := moveOf(t, src.URL, tgt.URL).Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range copies {
				got = append(got, fmt.Sprintf("%s:%d", c.Table, c.Rows))
			}
			want := []string{"ware_clock:1", "ware_items:25", "ware_outbox:40", "ware_schema_migrations:3"}
			if !slices.Equal(got, want) {
				t.Fatalf("copied %v, want %v", got, want)
			}
			if after := dump(t, src.URL); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatal("the source changed")
			}
			if moved := dump(t, tgt.URL); fmt.Sprint(moved) != fmt.Sprint(before) {
				t.Fatalf("the target holds\n%v\nwant\n%v", moved, before)
			}
			if tables := tablesOf(t, tgt.URL); slices.Contains(tables, "warehouse_x") {
				t.Fatal("another module's table was copied")
			}
			// Ids continue after the source's sequence (30), not after the
			// highest row left (25); the lease table holds no copied lease.
			h := handle(t, tgt.URL, "ware")
			must(t, h.Conn(t.Context()).Exec("INSERT INTO ware_items (sku, qty, at) VALUES ('NEW', 1, ?)", time.Now()).Error)
			var id, leases int64
			must(t, h.Conn(t.Context()).Raw("SELECT id FROM ware_items WHERE sku = 'NEW'").Scan(&id).Error)
			must(t, h.Conn(t.Context()).Raw("SELECT COUNT(*) FROM ware_leases").Scan(&leases).Error)
			if id != 31 || leases != 0 {
				t.Fatalf("the next id on the target is %d (want 31); %d leases copied", id, leases)
			}
			// The module migrates on the target as on a database of its own:
			// nothing left to apply.
			for _, s := range wareSets {
				if applied, err := database.Migrate(t.Context(), h, s); err != nil || len(applied) > 0 {
					t.Fatalf("migrating the target again applied %v (%v)", applied, err)
				}
			}
			if copies[1].Checksum == "" || copies[1].Checksum == copies[2].Checksum {
				t.Fatalf("checksums %q %q", copies[1].Checksum, copies[2].Checksum)
			}
		})
	}
}

// A failure after some tables were copied leaves the target without any of
// the module's tables and the source as it was; the move can run again.
func TestMoveFailingMidwayLeavesTheTargetEmpty(t *testing.T) {
	t.Parallel()
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			src, tgt := p.src(t), p.tgt(t)
			migrated(t, src)
			before := dump(t, src.URL)
			m := moveOf(t, src.URL, tgt.URL)
			boom := errors.New("injected failure")
			n := 0
			m.AfterTable = func(string) error {
				if n++; n == 2 {
					return boom
				}
				return nil
			}
			if _, err := m.Run(t.Context()); !errors.Is(err, boom) {
				t.Fatalf("err = %v, want the injected failure", err)
			}
			if tables := tablesOf(t, tgt.URL); len(tables) > 0 {
				t.Fatalf("the target kept %v", tables)
			}
			if after := dump(t, src.URL); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatal("the source changed")
			}
			// The move lease was given back: the module may run again, or
			// the move be retried.
			if _, err := moveOf(t, src.URL, tgt.URL).Run(t.Context()); err != nil {
				t.Fatalf("retry: %v", err)
			}
		})
	}
}

func refusal(t *testing.T, err error, want string) {
	t.Helper()
	var re *database.RefusedError
	if !errors.As(err, &re) || !strings.Contains(re.Reason, want) {
		t.Fatalf("err = %v, want a refusal saying %q", err, want)
	}
}

// Each refusal comes before anything is written.
func TestMoveRefuses(t *testing.T) {
	t.Parallel()
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			src, tgt := p.src(t), p.tgt(t)
			migrated(t, src)
			ctx := t.Context()

			// The same database, by the same URL and by another.
			_, err := moveOf(t, src.URL, src.URL).Run(ctx)
			refusal(t, err, "same database")
			_, err = moveOf(t, src.URL, otherURL(src.URL)).Run(ctx)
			refusal(t, err, "same database")

			// The module still runs: a process holds its run lease.
			run, err := database.AcquireLease(ctx, handle(t, src.URL, "ware"), database.LeaseRun, discard)
			must(t, err)
			_, err = moveOf(t, src.URL, tgt.URL).Run(ctx)
			refusal(t, err, "ware is still running on this database: 1 process(es)")
			must(t, run.Release(ctx))
			if tables := tablesOf(t, tgt.URL); len(tables) > 0 {
				t.Fatalf("a refused move left %v on the target", tables)
			}

			// While a move holds the module, no process starts it.
			m := moveOf(t, src.URL, tgt.URL)
			started := make(chan error, 1)
			m.AfterTable = func(string) error {
				_, err := database.AcquireLease(ctx, handle(t, src.URL, "ware"), database.LeaseRun, discard)
				started <- err
				return errors.New("stop here")
			}
			_, _ = m.Run(ctx)
			var le *database.LeaseError
			if err := <-started; !errors.As(err, &le) || !le.Moving() {
				t.Fatalf("a process started ware during its move: %v", err)
			}

			// The target holds rows of the module already.
			_, err = moveOf(t, src.URL, tgt.URL).Run(ctx)
			must(t, err)
			_, err = moveOf(t, src.URL, tgt.URL).Run(ctx)
			refusal(t, err, "the target already holds rows of ware (ware_clock: 1 rows")

			// A source not migrated to this version.
			newer := append(slices.Clone(wareSets), database.MigrationSet{Module: "ware", Component: "extra",
				Migrations: []database.Migration{{Version: 1, Name: "x", SQL: "CREATE TABLE ware_x (id INTEGER);"}}})
			third := p.tgt(t)
			m = moveOf(t, src.URL, third.URL)
			m.Sets = newer
			_, err = m.Run(ctx)
			refusal(t, err, "not migrated to this version (missing extra/1)")
		})
	}
}

// otherURL names the same database differently.
func otherURL(raw string) string {
	if strings.HasPrefix(raw, "sqlite://") {
		return raw + "?_pragma=cache_size(-8000)"
	}
	u, _ := url.Parse(raw)
	u.Host = strings.Replace(u.Host, "127.0.0.1", "localhost", 1)
	q := u.Query()
	q.Set("application_name", "other")
	u.RawQuery = q.Encode()
	return u.String()
}
