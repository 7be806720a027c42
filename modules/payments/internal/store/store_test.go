package store

import (
	"context"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// A database that has payments with their history in the old table of its
// own (v1) keeps every step, in order, when v2 moves it into the rows; and
// moves then append to it.
func TestHistoryMovesIntoTheRow(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		ctx := context.Background()
		v1 := Migrations
		v1.Migrations = v1.Migrations[:1]
		h := testkit.Migrated(t, db, v1)
		g := h.Gorm
		s := &Store{h: h}
		tx := &Tx{etx: &events.Tx{DB: g}}
		for _, id := range []string{"pay_a", "pay_b", "pay_c"} {
			if err := g.Exec("INSERT INTO payments_payments (id, reference, amount, currency, method, status, provider, created_at, updated_at) VALUES (?, 'chk', 100, 'EUR', 'pm_card_visa', 'captured', 'test', 1, 3)", id).Error; err != nil {
				t.Fatal(err)
			}
		}
		// pay_a's steps are written out of id order per payment, and
		// interleaved with pay_b's; pay_c has none (v1 always wrote one,
		// but the copy must not break without).
		for _, s := range []struct {
			id, status string
			at         int64
		}{{"pay_a", "pending", 1}, {"pay_b", "pending", 5}, {"pay_a", "authorized", 2}, {"pay_b", "failed", 6}, {"pay_a", "captured", 3}} {
			if err := g.Exec("INSERT INTO payments_history (payment_id, status, at) VALUES (?, ?, ?)", s.id, s.status, s.at).Error; err != nil {
				t.Fatal(err)
			}
		}
		if _, err := database.Migrate(ctx, h, Migrations); err != nil {
			t.Fatal(err)
		}
		want := map[string][]api.StatusChange{
			"pay_a": {{Status: "pending", At: time.UnixMicro(1).UTC()}, {Status: "authorized", At: time.UnixMicro(2).UTC()}, {Status: "captured", At: time.UnixMicro(3).UTC()}},
			"pay_b": {{Status: "pending", At: time.UnixMicro(5).UTC()}, {Status: "failed", At: time.UnixMicro(6).UTC()}},
			"pay_c": {},
		}
		for id, w := range want {
			p, err := s.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !sameHistory(p.History, w) {
				t.Errorf("%s: history %v, want %v", id, p.History, w)
			}
		}
		if g.Migrator().HasTable("payments_history") {
			t.Error("payments_history is still there")
		}

		// A move appends; one from the wrong status changes nothing.
		p, ok, err := tx.Move("pay_a", api.StatusCaptured, api.StatusRefunded, time.UnixMicro(4))
		if err != nil || !ok || p.Status != api.StatusRefunded || !sameHistory(p.History, append(want["pay_a"], api.StatusChange{Status: "refunded", At: time.UnixMicro(4).UTC()})) {
			t.Fatalf("move: %+v ok=%v err=%v", p, ok, err)
		}
		if _, ok, err := tx.Move("pay_a", api.StatusCaptured, api.StatusRefunded, time.UnixMicro(5)); err != nil || ok {
			t.Fatalf("a second move from captured: ok=%v err=%v", ok, err)
		}
		if got, _ := s.Get(ctx, "pay_a"); len(got.History) != 4 {
			t.Fatalf("history after a lost move: %v", got.History)
		}
	})
}

func sameHistory(a, b []api.StatusChange) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Status != b[i].Status || !a[i].At.Equal(b[i].At) {
			return false
		}
	}
	return true
}
