package events

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/modshop/modshop/platform/database"
)

const (
	relayBatch    = 200
	relayLease    = 2 * time.Minute
	relayPoll     = time.Second // picks up rows written by other processes and due retries
	keepPublished = time.Hour
	keepInbox     = 7 * 24 * time.Hour // the window in which a redelivery is recognised
)

// relay publishes one module's outbox in order.
type relay struct {
	ob        *Outbox
	transport Transport
	metrics   *Metrics
	log       *slog.Logger
	wakeCh    chan struct{}
	now       func() time.Time
}

func newRelay(ob *Outbox, t Transport, m *Metrics, log *slog.Logger) *relay {
	r := &relay{ob: ob, transport: t, metrics: m, log: log, wakeCh: make(chan struct{}, 1), now: func() time.Time { return time.Now().UTC() }}
	ob.wake = r.wake
	return r
}

func (r *relay) wake() {
	select {
	case r.wakeCh <- struct{}{}:
	default:
	}
}

// run relays until ctx ends.
func (r *relay) run(ctx context.Context) {
	poll := time.NewTicker(relayPoll)
	defer poll.Stop()
	clean := time.NewTicker(10 * time.Minute)
	defer clean.Stop()
	for {
		if _, err := r.drain(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("outbox relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wakeCh:
		case <-poll.C:
		case <-clean.C:
			r.cleanup(ctx)
		}
	}
}

// drain publishes every due row; it stops at the first failure so that order
// is kept, leaving the rest for a retry with backoff.
func (r *relay) drain(ctx context.Context) (int, error) {
	total := 0
	for {
		rows, err := r.claim(ctx)
		if err != nil {
			return total, err
		}
		if len(rows) == 0 {
			return total, nil
		}
		sent, perr := r.publish(rows)
		if err := r.settle(ctx, rows, sent, perr); err != nil {
			return total, err
		}
		total += sent
		if perr != nil {
			return total, perr
		}
		if len(rows) < relayBatch {
			return total, nil
		}
	}
}

// claim leases the head of the outbox. It takes rows from the oldest pending
// one and stops at the first row that is not due or is leased by another
// relay, so rows are published strictly in the order they were written.
func (r *relay) claim(ctx context.Context) ([]outboxRow, error) {
	table := r.ob.module + "_outbox"
	var claimed []outboxRow
	err := r.ob.h.Transact(ctx, func(tx *gorm.DB) error {
		q := tx.Table(table).Where("published_at IS NULL").Order("seq").Limit(relayBatch)
		if r.ob.h.Dialect == database.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var rows []outboxRow
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		now := r.now()
		for _, row := range rows {
			if row.NextAttemptAt.After(now) || (row.LeaseUntil != nil && row.LeaseUntil.After(now)) {
				break
			}
			claimed = append(claimed, row)
		}
		if len(claimed) == 0 {
			return nil
		}
		return tx.Table(table).Where("seq IN ?", seqs(claimed)).Update("lease_until", now.Add(relayLease)).Error
	})
	return claimed, err
}

// publish sends rows in order and returns how many went out.
func (r *relay) publish(rows []outboxRow) (int, error) {
	topic := Topic(r.ob.module)
	for i, row := range rows {
		msg := message.NewMessage(row.EventID, []byte(row.Payload))
		msg.Metadata.Set("name", row.Name)
		msg.Metadata.Set("key", row.Key)
		msg.Metadata.Set("occurred_at", row.CreatedAt.Format(time.RFC3339Nano))
		if err := r.transport.Publisher().Publish(topic, msg); err != nil {
			return i, fmt.Errorf("publish %s %s: %w", row.Name, row.EventID, err)
		}
		r.metrics.published.WithLabelValues(r.ob.module).Inc()
	}
	return len(rows), nil
}

// settle marks what was sent and schedules a retry for the rest.
func (r *relay) settle(ctx context.Context, rows []outboxRow, sent int, perr error) error {
	table := r.ob.module + "_outbox"
	now := r.now()
	// A fresh context: rows already published must be marked even when the
	// relay is being stopped, or they would be sent again after a restart.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return r.ob.h.Transact(ctx, func(tx *gorm.DB) error {
		if sent > 0 {
			if err := tx.Table(table).Where("seq IN ?", seqs(rows[:sent])).
				Updates(map[string]any{"published_at": now, "lease_until": nil}).Error; err != nil {
				return err
			}
		}
		if perr != nil {
			failed := rows[sent:]
			attempts := failed[0].Attempts + 1
			if err := tx.Table(table).Where("seq IN ?", seqs(failed)).Updates(map[string]any{
				"attempts":        gorm.Expr("attempts + 1"),
				"next_attempt_at": now.Add(backoff(attempts)),
				"lease_until":     nil,
				"last_error":      truncate(perr.Error(), 500),
			}).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// cleanup drops published rows and old inbox entries.
func (r *relay) cleanup(ctx context.Context) {
	now := r.now()
	db := r.ob.h.Conn(ctx)
	if err := db.Exec("DELETE FROM "+r.ob.module+"_outbox WHERE published_at < ?", now.Add(-keepPublished)).Error; err != nil {
		r.log.Warn("outbox cleanup", "err", err)
	}
	if err := db.Exec("DELETE FROM "+r.ob.module+"_inbox WHERE processed_at < ?", now.Add(-keepInbox)).Error; err != nil {
		r.log.Warn("inbox cleanup", "err", err)
	}
}

// backoff grows from 100 ms to 30 s.
func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < attempt && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

func seqs(rows []outboxRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Seq
	}
	slices.Sort(out)
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
