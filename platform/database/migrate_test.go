package database_test

import (
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
