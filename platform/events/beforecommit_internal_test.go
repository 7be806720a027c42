package events

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// Work asked for with BeforeCommit runs once per key, inside the
// transaction and after the rest of its work, and an error it returns
// undoes the whole transaction, events included.
func TestBeforeCommitRunsOncePerKeyInTheTransaction(t *testing.T) {
	h := outboxFor(t, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"), "demo")
	if err := h.Gorm.Exec("CREATE TABLE demo_rows (n INTEGER NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	ob := NewBus(&recorder{}, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil))).Outbox(h)
	count := func(q string) int64 {
		var n int64
		if err := h.Gorm.Raw(q).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	var order []string
	err := ob.Transact(t.Context(), func(tx *Tx) error {
		for i := range 3 {
			tx.BeforeCommit("stamp", func(db *gorm.DB) error {
				var seen int64
				db.Raw("SELECT COUNT(*) FROM demo_rows").Scan(&seen)
				order = append(order, "stamp saw "+string(rune('0'+seen)))
				return db.Exec("INSERT INTO demo_rows (n) VALUES (100)").Error
			})
			if err := tx.Exec("INSERT INTO demo_rows (n) VALUES (?)", i).Error; err != nil {
				return err
			}
		}
		tx.BeforeCommit("other", func(*gorm.DB) error { order = append(order, "other"); return nil })
		return tx.Publish(tick{N: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != "stamp saw 3" || order[1] != "other" {
		t.Fatalf("before-commit work ran as %q, want once per key, in order, after the transaction's own work", order)
	}
	if n := count("SELECT COUNT(*) FROM demo_rows WHERE n = 100"); n != 1 {
		t.Fatalf("the once-per-key work wrote %d rows, want 1", n)
	}

	boom := errors.New("boom")
	err = ob.Transact(t.Context(), func(tx *Tx) error {
		tx.BeforeCommit("fail", func(*gorm.DB) error { return boom })
		if err := tx.Exec("INSERT INTO demo_rows (n) VALUES (7)").Error; err != nil {
			return err
		}
		return tx.Publish(tick{N: 2})
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transact returned %v, want the before-commit error", err)
	}
	if n := count("SELECT COUNT(*) FROM demo_rows WHERE n = 7"); n != 0 {
		t.Fatal("a failed before-commit step kept the transaction's rows")
	}
	if n := count("SELECT COUNT(*) FROM demo_outbox"); n != 1 {
		t.Fatalf("%d outbox rows, want only the first transaction's", n)
	}
}
