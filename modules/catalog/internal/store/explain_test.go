package store

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/modshop/modshop/modules/catalog/api"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// planQueries are the list queries the API can issue: each sort, with and
// without a category, with and without price filters, first and later
// pages, and the admin and reindex lists.
func planQueries(categoryID string) map[string]ListQuery {
	lo, hi := int64(1000), int64(5000)
	qs := map[string]ListQuery{}
	for _, s := range Sorts {
		for _, cat := range []string{"", categoryID} {
			for _, prices := range []bool{false, true} {
				for _, later := range []bool{false, true} {
					q := ListQuery{Status: api.StatusPublished, CategoryID: cat, Sort: s, Limit: 20}
					name := string(s)
					if cat != "" {
						name += " +category"
					}
					if prices {
						q.MinPrice, q.MaxPrice = &lo, &hi
						name += " +prices"
					}
					if later {
						q.After = &Key{Sort: s, N: 2000, S: "m", ID: "m"}
						name += " +cursor"
					}
					qs[name] = q
				}
			}
		}
	}
	qs["admin newest"] = ListQuery{Sort: SortNewest, Limit: 20, After: &Key{Sort: SortNewest, N: 1, ID: "m"}}
	qs["admin newest +status"] = ListQuery{Status: api.StatusDraft, Sort: SortNewest, Limit: 20}
	qs["reindex by id"] = ListQuery{Sort: SortID, Limit: 100, After: &Key{Sort: SortID, ID: "m"}}
	return qs
}

// TestQueryPlansSQLite proves that every list query is an index range read
// in sort order on SQLite: no full scan of a table and no sort of the rows
// (USE TEMP B-TREE FOR ORDER BY). It logs each plan.
func TestQueryPlansSQLite(t *testing.T) {
	t.Parallel()
	db := openStore(t, testkit.SQLite(t))
	tr := makeTree(t, db)
	makeProducts(t, db, tr, 300, 1)
	// Statistics as a long-running shop would have them after ANALYZE; the
	// plans must hold with and without them.
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if err := db.h.Conn(context.Background()).Exec("ANALYZE").Error; err != nil {
				t.Fatal(err)
			}
		}
		qs := planQueries(tr.clothing.ID)
		for _, name := range slices.Sorted(maps.Keys(qs)) {
			sqlText, args, err := listSQL(qs[name])
			if err != nil {
				t.Fatal(err)
			}
			if q := qs[name]; (q.MinPrice != nil || q.MaxPrice != nil) && sortSpecs[q.Sort].col != "price_from" && (q.Status != "" || q.CategoryID != "") {
				// A sparse price range reads the price index and sorts what
				// it found (at most sparseProbe rows): no full scan.
				sparseText, sparseArgs, err := listSQLWith(q, true, database.SQLite)
				if err != nil {
					t.Fatal(err)
				}
				var prow []struct {
					ID, Parent, Notused int
					Detail              string
				}
				if err := db.h.Conn(context.Background()).Raw("EXPLAIN QUERY PLAN "+sparseText, sparseArgs...).Scan(&prow).Error; err != nil {
					t.Fatalf("%s sparse: %v", name, err)
				}
				var plan []string
				for _, r := range prow {
					plan = append(plan, r.Detail)
					if strings.HasPrefix(r.Detail, "SCAN ") && !strings.Contains(r.Detail, "USING") {
						t.Errorf("%s sparse: full scan %q", name, r.Detail)
					}
				}
				if j := strings.Join(plan, "\n"); !strings.Contains(j, "_price") {
					t.Errorf("%s sparse: does not read a price index:\n%s", name, j)
				}
			}
			var rows []struct {
				ID, Parent, Notused int
				Detail              string
			}
			if err := db.h.Conn(context.Background()).Raw("EXPLAIN QUERY PLAN "+sqlText, args...).Scan(&rows).Error; err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var plan []string
			for _, r := range rows {
				plan = append(plan, r.Detail)
			}
			text := strings.Join(plan, "\n")
			t.Logf("%s (analyzed %v):\n  %s", name, analyzed, strings.Join(plan, "\n  "))
			for _, line := range plan {
				if strings.HasPrefix(line, "SCAN ") {
					t.Errorf("%s: full scan: %q\nplan:\n%s", name, line, text)
				}
				if strings.Contains(line, "TEMP B-TREE") {
					t.Errorf("%s: sorts its rows: %q\nplan:\n%s", name, line, text)
				}
			}
		}
	}
}

// TestQueryPlansPostgres checks that an index read in sort order exists for
// every list query on PostgreSQL. On a small table the planner rightly
// prefers a sequential scan and a sort, so the test discourages both
// (enable_seqscan, enable_sort off: they still happen, at a huge cost, when
// no index path exists) and then asserts that neither is in the plan.
func TestQueryPlansPostgres(t *testing.T) {
	t.Parallel()
	db := openStore(t, testkit.Postgres(t))
	tr := makeTree(t, db)
	makeProducts(t, db, tr, 300, 1)
	ctx := context.Background()
	qs := planQueries(tr.clothing.ID)
	for _, name := range slices.Sorted(maps.Keys(qs)) {
		sqlText, args, err := listSQL(qs[name])
		if err != nil {
			t.Fatal(err)
		}
		var natural, forced []string
		err = db.h.Transact(ctx, func(tx *gorm.DB) error {
			if err := tx.Raw("EXPLAIN "+sqlText, args...).Scan(&natural).Error; err != nil {
				return err
			}
			for _, s := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_sort = off", "SET LOCAL enable_bitmapscan = off"} {
				if err := tx.Exec(s).Error; err != nil {
					return err
				}
			}
			return tx.Raw("EXPLAIN "+sqlText, args...).Scan(&forced).Error
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s, as planned on 300 rows:\n  %s", name, strings.Join(natural, "\n  "))
		text := strings.Join(forced, "\n")
		if strings.Contains(text, "Seq Scan") || strings.Contains(text, "Sort") {
			t.Errorf("%s: no index path in sort order:\n%s", name, text)
		}
	}
}
