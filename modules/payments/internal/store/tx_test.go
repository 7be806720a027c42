package store

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/payments/api"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// storeOn is a Store on db with the payments tables and the module's
// outbox.
func storeOn(t *testing.T, db testkit.DB) *Store {
	t.Helper()
	h := testkit.Migrated(t, db, Migrations)
	if _, err := database.Migrate(context.Background(), h, events.Migrations("payments")); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(events.NewBus(events.NewGoChannel(log), nil, log).Outbox(h))
}

// outboxRows counts the events waiting in the payments outbox.
func outboxRows(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.h.Conn(context.Background()).Raw("SELECT COUNT(*) FROM payments_outbox").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A move and the event published in its InTx commit together, and roll
// back together when the closure fails: the service's "the payment moved"
// and "the event says so" never disagree.
func TestInTxCommitsAMoveWithItsEventOrNeither(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		ctx := context.Background()
		s := storeOn(t, db)
		at := time.UnixMicro(1_000_000).UTC()
		if ok, err := s.Insert(ctx, api.Payment{ID: "pay_1", Reference: "chk_1", Amount: 100, Currency: "EUR",
			Method: "pm_card_visa", Provider: "test", CreatedAt: at}); err != nil || !ok {
			t.Fatalf("insert: ok=%v err=%v", ok, err)
		}
		authorized := Outcome{Status: api.StatusAuthorized, Brand: "visa", ProviderRef: "ref_1"}
		publish := func(tx *Tx, p api.Payment) error {
			return tx.Publish(api.PaymentAuthorized{PaymentEvent: api.PaymentEvent{PaymentID: p.ID, Status: p.Status, At: at}})
		}

		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *Tx) error {
			p, ok, err := tx.Resolve("pay_1", authorized, at)
			if err != nil || !ok {
				t.Fatalf("resolve: ok=%v err=%v", ok, err)
			}
			if err := publish(tx, p); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the closure's error", err)
		}
		if p, err := s.Get(ctx, "pay_1"); err != nil || p.Status != api.StatusPending || len(p.History) != 1 {
			t.Fatalf("after a rollback: %+v, %v; want it pending with one step", p, err)
		}
		if n := outboxRows(t, s); n != 0 {
			t.Fatalf("after a rollback the outbox holds %d events, want none", n)
		}

		err = s.InTx(ctx, func(tx *Tx) error {
			p, ok, err := tx.Resolve("pay_1", authorized, at)
			if err != nil || !ok {
				return errors.Join(err, errors.New("not resolved"))
			}
			return publish(tx, p)
		})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := s.Get(ctx, "pay_1"); err != nil || p.Status != api.StatusAuthorized || p.ProviderRef != "ref_1" {
			t.Fatalf("after a commit: %+v, %v; want it authorized", p, err)
		}
		if n := outboxRows(t, s); n != 1 {
			t.Fatalf("after a commit the outbox holds %d events, want 1", n)
		}
	})
}
