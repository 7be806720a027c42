package database_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/testkit"
)

// Writes queued with Later belong to their transaction: kept when it
// commits, with what ran before them, and gone when it rolls back, whether
// fn failed or a queued write did. On PostgreSQL they go out with the
// COMMIT (counted as pipelined, not as statements), and a failed pipeline
// leaves no connection behind inside a transaction.
func TestLaterWritesBelongToTheirTransaction(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		db = testkit.Fresh(t, db)
		m, hs := metered(t, db.URL, "pipe")
		h := hs[0]
		ctx := t.Context()
		if err := h.Conn(ctx).Exec("CREATE TABLE pipe_rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").Error; err != nil {
			t.Fatal(err)
		}
		names := func() []string {
			t.Helper()
			var got []string
			if err := h.Conn(ctx).Table("pipe_rows").Order("id").Pluck("name", &got).Error; err != nil {
				t.Fatal(err)
			}
			return got
		}
		statements0 := value(m.Statements("pipe"))

		// Committed: the direct write, then the queued ones, in order.
		if err := h.Transact(ctx, func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO pipe_rows (id, name) VALUES (?, ?)", 1, "direct").Error; err != nil {
				return err
			}
			if err := database.Later(tx, "INSERT INTO pipe_rows (id, name) VALUES (?, ?), (?, ?)", 2, "later", 3, "later too"); err != nil {
				return err
			}
			return database.Later(tx, "UPDATE pipe_rows SET name = ? WHERE id IN ?", "later, updated", []int{3})
		}); err != nil {
			t.Fatal(err)
		}
		if got := names(); len(got) != 3 || got[0] != "direct" || got[1] != "later" || got[2] != "later, updated" {
			t.Fatalf("after commit: %q", got)
		}
		pipelined, statements := value(m.Pipelined("pipe")), value(m.Statements("pipe"))-statements0
		if h.Dialect == database.Postgres && (pipelined != 2 || statements != 2) { // the INSERT, then names' SELECT
			t.Fatalf("PostgreSQL: %v pipelined, %v statements; want 2 and 2", pipelined, statements)
		}
		if h.Dialect == database.SQLite && (pipelined != 0 || statements != 4) {
			t.Fatalf("SQLite: %v pipelined, %v statements; want 0 and 4 (Later runs at once)", pipelined, statements)
		}

		// fn fails after queueing: nothing of it is kept.
		boom := errors.New("boom")
		err := h.Transact(ctx, func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO pipe_rows (id, name) VALUES (?, ?)", 4, "direct").Error; err != nil {
				return err
			}
			if err := database.Later(tx, "INSERT INTO pipe_rows (id, name) VALUES (?, ?)", 5, "later"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Transact = %v, want boom", err)
		}
		if got := names(); len(got) != 3 {
			t.Fatalf("after fn failed: %q", got)
		}

		// A queued write fails (a duplicate key): nothing of the
		// transaction is kept, and the error says what failed.
		for range 3 { // more than once: the connection goes back clean
			err = h.Transact(ctx, func(tx *gorm.DB) error {
				if err := tx.Exec("INSERT INTO pipe_rows (id, name) VALUES (?, ?)", 6, "direct").Error; err != nil {
					return err
				}
				return database.Later(tx, "INSERT INTO pipe_rows (id, name) VALUES (?, ?)", 1, "clash")
			})
			if !database.IsDuplicate(err) {
				t.Fatalf("Transact = %v, want a duplicate key", err)
			}
			if got := names(); len(got) != 3 {
				t.Fatalf("after a queued write failed: %q", got)
			}
		}
		noneInTransaction(t, h)

		// The context ends before the COMMIT: nothing is kept, and the
		// connection is not given back inside its transaction.
		cctx, cancel := context.WithCancel(ctx)
		err = h.Transact(cctx, func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO pipe_rows (id, name) VALUES (?, ?)", 8, "direct").Error; err != nil {
				return err
			}
			if err := database.Later(tx, "INSERT INTO pipe_rows (id, name) VALUES (?, ?)", 9, "later"); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if err == nil {
			t.Fatal("a transaction whose context ended before its COMMIT committed")
		}
		if got := names(); len(got) != 3 {
			t.Fatalf("after the context ended: %q", got)
		}
		noneInTransaction(t, h)

		// Outside a transaction, Later runs at once.
		if err := database.Later(h.Conn(ctx), "INSERT INTO pipe_rows (id, name) VALUES (?, ?)", 7, "alone"); err != nil {
			t.Fatal(err)
		}
		if got := names(); len(got) != 4 || got[3] != "alone" {
			t.Fatalf("after Later outside a transaction: %q", got)
		}
	})
}

// noneInTransaction fails when a connection of h's PostgreSQL database sits
// idle inside a transaction (one given back to the pool unfinished).
func noneInTransaction(t *testing.T, h *database.Handle) {
	t.Helper()
	if h.Dialect != database.Postgres {
		return
	}
	var stuck int64
	if err := h.Conn(t.Context()).Raw("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'").
		Scan(&stuck).Error; err != nil {
		t.Fatal(err)
	}
	if stuck != 0 {
		t.Fatalf("%d connections left inside a transaction", stuck)
	}
}
