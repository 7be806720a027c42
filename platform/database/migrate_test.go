package database_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

var shopSet = database.MigrationSet{Module: "shop", Component: "module", Migrations: []database.Migration{
	// Out of order on purpose: Migrate sorts by version.
	{Version: 2, Name: "items_price", SQL: "ALTER TABLE shop_items ADD COLUMN price BIGINT NOT NULL DEFAULT 0;"},
	{Version: 1, Name: "items", SQL: `
CREATE TABLE shop_items (
	id BIGSERIAL PRIMARY KEY,
	title TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	data JSONB
);
CREATE INDEX shop_items_title ON shop_items (title);
`},
}}

func tableExists(t *testing.T, h *database.Handle, table string) bool {
	t.Helper()
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if h.Dialect == database.Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?"
	}
	var n int64
	if err := h.Conn(t.Context()).Raw(q, table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := handle(t, db.URL, "shop")
		ctx := t.Context()
		applied, err := database.Migrate(ctx, h, shopSet)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 2 || applied[0].Version != 1 || applied[1].Version != 2 || applied[0].Module != "shop" {
			t.Fatalf("applied = %+v, want versions 1 and 2 in order", applied)
		}
		var recorded []struct {
			Component string
			Version   int
			Name      string
		}
		if err := h.Conn(ctx).Table("shop_schema_migrations").Order("version").Find(&recorded).Error; err != nil {
			t.Fatal(err)
		}
		if len(recorded) != 2 || recorded[0].Name != "items" || recorded[1].Name != "items_price" || recorded[0].Component != "module" {
			t.Fatalf("shop_schema_migrations = %+v", recorded)
		}
		if err := h.Conn(ctx).Exec("INSERT INTO shop_items (title, created_at, price) VALUES ('a', CURRENT_TIMESTAMP, 5)").Error; err != nil {
			t.Fatalf("the migrated table does not take a row: %v", err)
		}

		again, err := database.Migrate(ctx, h, shopSet)
		if err != nil || len(again) != 0 {
			t.Fatalf("re-run applied %+v (%v), want nothing", again, err)
		}

		// A new version later applies only itself; another component of the
		// same module keeps its own versions.
		grown := shopSet
		grown.Migrations = append(append([]database.Migration(nil), shopSet.Migrations...),
			database.Migration{Version: 3, Name: "items_sku", SQL: "ALTER TABLE shop_items ADD COLUMN sku TEXT;"})
		applied, err = database.Migrate(ctx, h, grown)
		if err != nil || len(applied) != 1 || applied[0].Version != 3 {
			t.Fatalf("grown set applied %+v (%v), want version 3 only", applied, err)
		}
		other := database.MigrationSet{Module: "shop", Component: "platform", Migrations: []database.Migration{{Version: 1, Name: "p", SQL: "CREATE TABLE shop_p (id INTEGER);"}}}
		if applied, err = database.Migrate(ctx, h, other); err != nil || len(applied) != 1 {
			t.Fatalf("component platform version 1 applied %+v (%v)", applied, err)
		}
	})
}

func TestMigrateFailureRollsBack(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := handle(t, db.URL, "shop")
		ctx := t.Context()
		set := database.MigrationSet{Module: "shop", Component: "module", Migrations: []database.Migration{
			{Version: 1, Name: "ok", SQL: "CREATE TABLE shop_ok (id INTEGER);"},
			{Version: 2, Name: "broken", SQL: "CREATE TABLE shop_half (id INTEGER);\nINSERT INTO shop_missing VALUES (1);"},
			{Version: 3, Name: "after", SQL: "CREATE TABLE shop_after (id INTEGER);"},
		}}
		applied, err := database.Migrate(ctx, h, set)
		if err == nil {
			t.Fatal("a failing migration reported no error")
		}
		for _, want := range []string{"shop/module", "0002_broken", "INSERT INTO shop_missing"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
		if len(applied) != 1 || applied[0].Version != 1 {
			t.Fatalf("applied = %+v, want only version 1", applied)
		}
		if !tableExists(t, h, "shop_ok") || tableExists(t, h, "shop_half") || tableExists(t, h, "shop_after") {
			t.Fatal("the failing migration was not rolled back whole, or a later one ran")
		}
		var n int64
		h.Conn(ctx).Table("shop_schema_migrations").Count(&n)
		if n != 1 {
			t.Fatalf("%d migrations recorded, want 1", n)
		}
		// Fixed, it applies on the next run.
		set.Migrations[1].SQL = "CREATE TABLE shop_half (id INTEGER);"
		if applied, err = database.Migrate(ctx, h, set); err != nil || len(applied) != 2 {
			t.Fatalf("after the fix: applied %+v, %v", applied, err)
		}
	})
}

func TestMigrateDialectSQL(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := handle(t, db.URL, "shop")
		set := database.MigrationSet{Module: "shop", Component: "module", Migrations: []database.Migration{{
			Version: 1, Name: "per_dialect",
			SQL:      "THIS IS NOT SQL;",
			SQLite:   "CREATE TABLE shop_lite (id INTEGER);",
			Postgres: "CREATE TABLE shop_pg (id INTEGER);",
		}}}
		if _, err := database.Migrate(t.Context(), h, set); err != nil {
			t.Fatal(err)
		}
		want := map[database.Dialect]string{database.SQLite: "shop_lite", database.Postgres: "shop_pg"}[h.Dialect]
		if !tableExists(t, h, want) {
			t.Fatalf("%s was not created on %s", want, h.Dialect)
		}
	})
}

func TestMigrateRefusesBadVersions(t *testing.T) {
	t.Parallel()
	h := handle(t, testkit.SQLite(t).URL, "shop")
	for _, ms := range [][]database.Migration{
		{{Version: 1, Name: "a", SQL: "SELECT 1;"}, {Version: 1, Name: "b", SQL: "SELECT 1;"}},
		{{Version: 0, Name: "zero", SQL: "SELECT 1;"}},
	} {
		if _, err := database.Migrate(t.Context(), h, database.MigrationSet{Module: "shop", Component: "module", Migrations: ms}); err == nil {
			t.Errorf("migrations %+v were accepted", ms)
		}
	}
}

// Two processes migrating one PostgreSQL database at once apply each
// migration once and both succeed.
func TestMigrateConcurrentlyOnPostgres(t *testing.T) {
	t.Parallel()
	db := testkit.Postgres(t)
	for round := range 3 { // the race is on creating the tables; repeat it
		module := []string{"race_a", "race_b", "race_c"}[round]
		set := database.MigrationSet{Module: module, Component: "module"}
		for v := 1; v <= 5; v++ {
			set.Migrations = append(set.Migrations, database.Migration{Version: v, Name: "step",
				SQL: strings.ReplaceAll("CREATE TABLE {m}_t"+string(rune('0'+v))+" (id BIGSERIAL PRIMARY KEY);", "{m}", module)})
		}
		var wg sync.WaitGroup
		results := make([][]database.Applied, 4)
		errs := make([]error, 4)
		for i := range 4 {
			h := handle(t, db.URL, module) // a pool of its own: another process
			wg.Go(func() { results[i], errs[i] = database.Migrate(t.Context(), h, set) })
		}
		wg.Wait()
		total := 0
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("round %d, migrator %d: %v", round, i, errs[i])
			}
			total += len(results[i])
		}
		if total != 5 {
			t.Fatalf("round %d: %d migrations applied in all, want each of 5 once", round, total)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, script string
		want         []string
	}{
		// The shapes the migrations have had so far.
		{"empty", "", nil},
		{"blank", " \n\t\n", nil},
		{"one", "ALTER TABLE shop_items ADD COLUMN price BIGINT NOT NULL DEFAULT 0;",
			[]string{"ALTER TABLE shop_items ADD COLUMN price BIGINT NOT NULL DEFAULT 0;"}},
		{"multi-line, trimmed", "\nCREATE TABLE t (\n\tid INTEGER,\n\tname TEXT\n);\nCREATE INDEX t_name ON t (name);\n",
			[]string{"CREATE TABLE t (\n\tid INTEGER,\n\tname TEXT\n);", "CREATE INDEX t_name ON t (name);"}},
		{"two lines", "CREATE TABLE shop_half (id INTEGER);\nINSERT INTO shop_missing VALUES (1);",
			[]string{"CREATE TABLE shop_half (id INTEGER);", "INSERT INTO shop_missing VALUES (1);"}},
		{"no final semicolon", "SELECT 1;\n  SELECT 2  \n", []string{"SELECT 1;", "SELECT 2"}},
		{"empty statements dropped", ";\nSELECT 1;;\n ; ;", []string{"SELECT 1;"}},
		{"several on a line", "SELECT 1; SELECT 2;", []string{"SELECT 1;", "SELECT 2;"}},
		{"CRLF", "SELECT 1;\r\nSELECT 2;\r\n", []string{"SELECT 1;", "SELECT 2;"}},

		// String literals.
		{"string", "INSERT INTO t VALUES ('a;b'); SELECT 2;", []string{"INSERT INTO t VALUES ('a;b');", "SELECT 2;"}},
		{"string ending a line", "INSERT INTO t VALUES ('a;\nb');\nSELECT 2;", []string{"INSERT INTO t VALUES ('a;\nb');", "SELECT 2;"}},
		{"doubled quote", "SELECT 'it''s; fine', '';SELECT 2;", []string{"SELECT 'it''s; fine', '';", "SELECT 2;"}},
		{"E string", `SELECT E'it\'s; \\', 'x\';SELECT 2;`, []string{`SELECT E'it\'s; \\', 'x\';`, "SELECT 2;"}},
		{"backslash in a plain string", `SELECT 'a\';SELECT 2;`, []string{`SELECT 'a\';`, "SELECT 2;"}},
		{"unterminated string", "SELECT 'a; SELECT 2;", []string{"SELECT 'a; SELECT 2;"}},

		// Quoted identifiers.
		{"quoted identifier", `CREATE TABLE "x;y" (id INTEGER); SELECT 2;`, []string{`CREATE TABLE "x;y" (id INTEGER);`, "SELECT 2;"}},
		{"doubled double quote", `SELECT 1 AS "a"";b'";SELECT 2;`, []string{`SELECT 1 AS "a"";b'";`, "SELECT 2;"}},
		{"backquoted identifier", "SELECT 1 AS `a;b`;SELECT 2;", []string{"SELECT 1 AS `a;b`;", "SELECT 2;"}},

		// Comments.
		{"line comment", "-- drop it; later\nSELECT 1; -- done;\nSELECT 2 -- two; ok\n;",
			[]string{"SELECT 1;", "SELECT 2 -- two; ok\n;"}},
		{"quote in a line comment", "-- it's\nSELECT 1;", []string{"SELECT 1;"}},
		{"block comment", "/* a; b */ SELECT /* ; ' */ 1;\n/* it's;\n */SELECT 2;", []string{"SELECT /* ; ' */ 1;", "SELECT 2;"}},
		{"nested block comment", "/* a /* b; */ c; */ SELECT 1;", []string{"SELECT 1;"}},
		{"only comments", "-- one;\n/* two; */\n", nil},
		{"comment after the last statement", "SELECT 1;\n-- the end\n", []string{"SELECT 1;"}},

		// Dollar quoting.
		{"dollar quoted body", "CREATE FUNCTION f() RETURNS INTEGER AS $$\nDECLARE n INTEGER;\nBEGIN\n\tn := 1;\n\tRETURN n;\nEND\n$$ LANGUAGE plpgsql;\nSELECT f();",
			[]string{"CREATE FUNCTION f() RETURNS INTEGER AS $$\nDECLARE n INTEGER;\nBEGIN\n\tn := 1;\n\tRETURN n;\nEND\n$$ LANGUAGE plpgsql;", "SELECT f();"}},
		{"tagged dollar quote", "DO $fn$ BEGIN PERFORM $$;$$; PERFORM 'it''s'; END $fn$;SELECT 2;",
			[]string{"DO $fn$ BEGIN PERFORM $$;$$; PERFORM 'it''s'; END $fn$;", "SELECT 2;"}},
		{"other tag inside", "SELECT $a$ $b$; $A$; $a$;SELECT 2;", []string{"SELECT $a$ $b$; $A$; $a$;", "SELECT 2;"}},
		{"tag with digits and underscore", "SELECT $_fn_2$;$_fn_2$;SELECT 2;", []string{"SELECT $_fn_2$;$_fn_2$;", "SELECT 2;"}},
		{"quotes and comments in a body", "SELECT $$ ' \" -- /* ; $$;SELECT 2;", []string{"SELECT $$ ' \" -- /* ; $$;", "SELECT 2;"}},
		{"parameters are not tags", "PREPARE p (INTEGER) AS SELECT $1;EXECUTE p(1);SELECT $1, $2;",
			[]string{"PREPARE p (INTEGER) AS SELECT $1;", "EXECUTE p(1);", "SELECT $1, $2;"}},
		{"dollar in identifiers", "SELECT 1 AS a$b; SELECT 1 AS c$$; SELECT 2;", []string{"SELECT 1 AS a$b;", "SELECT 1 AS c$$;", "SELECT 2;"}},
		{"dollar in a string", "SELECT '$$';SELECT '$x$';SELECT 2;", []string{"SELECT '$$';", "SELECT '$x$';", "SELECT 2;"}},
		{"lone dollar", "SELECT 1 $ ;SELECT $", []string{"SELECT 1 $ ;", "SELECT $"}},
		{"unterminated dollar quote", "SELECT $$ a; SELECT 2;", []string{"SELECT $$ a; SELECT 2;"}},

		// Bodies: BEGIN ... END in a statement that creates a trigger,
		// function or procedure.
		{"SQLite trigger", "CREATE TRIGGER t_log AFTER INSERT ON t BEGIN\n\tINSERT INTO t_log VALUES (NEW.id);\n\tUPDATE c SET n = CASE WHEN n > 0 THEN n + 1 ELSE 1 END;\nEND;\nSELECT 2;",
			[]string{"CREATE TRIGGER t_log AFTER INSERT ON t BEGIN\n\tINSERT INTO t_log VALUES (NEW.id);\n\tUPDATE c SET n = CASE WHEN n > 0 THEN n + 1 ELSE 1 END;\nEND;", "SELECT 2;"}},
		{"temporary trigger, lower case", "create temp trigger x after delete on t begin delete from u; end; select 2;",
			[]string{"create temp trigger x after delete on t begin delete from u; end;", "select 2;"}},
		{"BEGIN ATOMIC", "CREATE OR REPLACE FUNCTION f() RETURNS INTEGER LANGUAGE SQL BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT f();",
			[]string{"CREATE OR REPLACE FUNCTION f() RETURNS INTEGER LANGUAGE SQL BEGIN ATOMIC SELECT 1; SELECT 2; END;", "SELECT f();"}},
		{"BEGIN as a statement", "BEGIN; SELECT 1; END;", []string{"BEGIN;", "SELECT 1;", "END;"}},
		{"CASE outside a body", "SELECT CASE WHEN true THEN 1 END; SELECT 2;", []string{"SELECT CASE WHEN true THEN 1 END;", "SELECT 2;"}},
		{"words that contain BEGIN and END", "CREATE TABLE t (begin_at INTEGER, ended INTEGER); SELECT 2;",
			[]string{"CREATE TABLE t (begin_at INTEGER, ended INTEGER);", "SELECT 2;"}},
		{"BEGIN in a trigger's quoted text", "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 'END;'; END; SELECT 2;",
			[]string{"CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 'END;'; END;", "SELECT 2;"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := database.SplitStatements(c.script)
			if !slices.Equal(got, c.want) {
				t.Errorf("SplitStatements(%q)\n got %q\nwant %q", c.script, got, c.want)
			}
		})
	}
}

// A script with ';' in string literals, quoted identifiers and comments
// applies statement by statement and stores the literals whole.
func TestMigrateSemicolonsInLiterals(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := migrateShop(t, db.URL, "notes", `
-- Notes; each one a row.
CREATE TABLE shop_notes (
	id INTEGER PRIMARY KEY,
	body TEXT NOT NULL, /* may hold ';' */
	"kind;of" TEXT
);
INSERT INTO shop_notes (id, body, "kind;of") VALUES (1, 'a;b', 'x');
INSERT INTO shop_notes (id, body, "kind;of") VALUES (2, 'it''s;
two lines;', 'y;z'); INSERT INTO shop_notes (id, body) VALUES (3, '$$;$$');
UPDATE shop_notes SET "kind;of" = 'none;' WHERE "kind;of" IS NULL;
`)
		var rows []struct {
			ID   int
			Body string
			Kind string
		}
		if err := h.Conn(t.Context()).Raw(`SELECT id, body, "kind;of" AS kind FROM shop_notes ORDER BY id`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		want := []struct {
			ID   int
			Body string
			Kind string
		}{{1, "a;b", "x"}, {2, "it's;\ntwo lines;", "y;z"}, {3, "$$;$$", "none;"}}
		if !slices.Equal(rows, want) {
			t.Fatalf("shop_notes = %+v, want %+v", rows, want)
		}
	})
}

// A plpgsql function and a trigger, with ';' all through their bodies, apply
// on PostgreSQL and work.
func TestMigrateFunctionOnPostgres(t *testing.T) {
	t.Parallel()
	h := migrateShop(t, testkit.Postgres(t).URL, "counters", `
CREATE TABLE shop_counters (
	name TEXT PRIMARY KEY,
	n INTEGER NOT NULL,
	note TEXT
);

-- Bumps a counter; returns its new value.
CREATE FUNCTION shop_bump(k TEXT) RETURNS INTEGER AS $$
DECLARE
	r INTEGER;
BEGIN
	INSERT INTO shop_counters (name, n) VALUES (k, 0) ON CONFLICT (name) DO NOTHING;
	UPDATE shop_counters SET n = n + 1 WHERE name = k RETURNING n INTO r;
	RETURN r; -- the new value; never NULL
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION shop_counters_note() RETURNS TRIGGER AS $fn$
BEGIN
	/* $$ and ; in a comment; */
	NEW.note := 'at ' || NEW.n || '; ' || $$said "hi;"$$;
	RETURN NEW;
END;
$fn$ LANGUAGE plpgsql;

CREATE TRIGGER shop_counters_note BEFORE INSERT OR UPDATE ON shop_counters
	FOR EACH ROW EXECUTE FUNCTION shop_counters_note();
`)
	ctx := t.Context()
	var n int
	for want := 1; want <= 3; want++ {
		if err := h.Conn(ctx).Raw("SELECT shop_bump('a;b')").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("shop_bump call %d returned %d", want, n)
		}
	}
	var row struct {
		Name string
		N    int
		Note string
	}
	if err := h.Conn(ctx).Raw("SELECT name, n, note FROM shop_counters").Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.Name != "a;b" || row.N != 3 || row.Note != `at 3; said "hi;"` {
		t.Fatalf("shop_counters = %+v", row)
	}
}

// A SQLite trigger with ';' in its BEGIN ... END body applies as one
// statement and works.
func TestMigrateTriggerOnSQLite(t *testing.T) {
	t.Parallel()
	h := migrateShop(t, testkit.SQLite(t).URL, "log", `
CREATE TABLE shop_items (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL);
CREATE TABLE shop_log (id INTEGER, what TEXT);
CREATE TRIGGER shop_items_log AFTER INSERT ON shop_items BEGIN
	INSERT INTO shop_log VALUES (NEW.id, 'added;');
	INSERT INTO shop_log VALUES (NEW.id, CASE WHEN NEW.qty > 0 THEN 'stocked' ELSE 'empty' END);
END;
INSERT INTO shop_items VALUES (1, 5);
`)
	ctx := t.Context()
	var what []string
	if err := h.Conn(ctx).Raw("SELECT what FROM shop_log ORDER BY rowid").Scan(&what).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(what, []string{"added;", "stocked"}) {
		t.Fatalf("shop_log = %q", what)
	}
}

// A PostgreSQL function with a BEGIN ATOMIC body applies and works.
func TestMigrateBeginAtomicOnPostgres(t *testing.T) {
	t.Parallel()
	h := migrateShop(t, testkit.Postgres(t).URL, "atomic", `
CREATE TABLE shop_hits (n INTEGER NOT NULL);
CREATE FUNCTION shop_hit() RETURNS INTEGER LANGUAGE SQL
BEGIN ATOMIC
	INSERT INTO shop_hits VALUES (1);
	SELECT CASE WHEN COUNT(*) > 0 THEN COUNT(*)::INTEGER ELSE 0 END FROM shop_hits;
END;
SELECT shop_hit();
`)
	ctx := t.Context()
	var n int
	if err := h.Conn(ctx).Raw("SELECT shop_hit()").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("shop_hit() = %d, want 2 (one call in the migration, one here)", n)
	}
}

// migrateShop applies one migration of module "shop" on url and returns the
// module's handle.
func migrateShop(t *testing.T, url, name, sql string) *database.Handle {
	t.Helper()
	h := handle(t, url, "shop")
	set := database.MigrationSet{Module: "shop", Component: "module", Migrations: []database.Migration{{Version: 1, Name: name, SQL: sql}}}
	if _, err := database.Migrate(t.Context(), h, set); err != nil {
		t.Fatal(err)
	}
	return h
}
