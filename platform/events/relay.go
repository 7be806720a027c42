package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	aborted   *atomic.Bool // the bus is stopping and dropped a message
	mu        sync.Mutex   // one drain at a time
}

// errAborted: the transport reported a message sent that a consumer gave up
// on because the bus is stopping.
var errAborted = errors.New("the event bus is stopping")

func newRelay(ob *Outbox, t Transport, m *Metrics, log *slog.Logger, aborted *atomic.Bool) *relay {
	r := &relay{ob: ob, transport: t, metrics: m, log: log, wakeCh: make(chan struct{}, 1), now: func() time.Time { return time.Now().UTC() }, aborted: aborted}
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
// is kept, leaving the rest for a retry with backoff. Behind a full batch, a
// round settles what it sent and claims the next rows in one transaction.
func (r *relay) drain(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	var rows []outboxRow
	err := r.bookkeeping(ctx, func(tx *gorm.DB) (err error) {
		rows, err = r.claimIn(tx)
		return err
	})
	for round := 0; err == nil && len(rows) > 0; round++ {
		sent, perr := r.publish(rows)
		total += sent
		// Claim on in the same transaction only behind a full batch (a
		// backlog): chasing a trickle of events with tiny batches costs more
		// transactions than letting the next wake-up gather them. Stop
		// claiming when the relay stops, and now and then give the run loop
		// a turn (cleanup) under a steady stream of events.
		more := perr == nil && ctx.Err() == nil && len(rows) == relayBatch && round < 1000
		var next []outboxRow
		// A fresh context: rows already published must be marked even when
		// the relay is being stopped, or they would be sent again.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = r.bookkeeping(sctx, func(tx *gorm.DB) error {
			if err := r.settleIn(tx, rows, sent, perr); err != nil || !more {
				return err
			}
			var err error
			next, err = r.claimIn(tx)
			return err
		})
		cancel()
		if perr != nil {
			return total, errors.Join(perr, err)
		}
		rows = next
	}
	return total, err
}

// bookkeeping runs fn in a transaction of the relay's own. On PostgreSQL it
// does not wait for its commit to reach the disk: a lease or a "published"
// mark lost in a crash only means the rows are sent again, and the inbox
// makes that harmless; the consumers' transactions stay durable.
func (r *relay) bookkeeping(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return r.ob.h.Transact(ctx, func(tx *gorm.DB) error {
		if r.ob.h.Dialect == database.Postgres {
			if err := tx.Exec("SET LOCAL synchronous_commit = off").Error; err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// claimIn leases the head of the outbox. It takes rows from the oldest
// pending one and stops at the first row that is not due or is leased by
// another relay, so rows are published strictly in the order they were
// written.
func (r *relay) claimIn(tx *gorm.DB) ([]outboxRow, error) {
	table := r.ob.module + "_outbox"
	q := tx.Table(table).Where("published_at IS NULL").Order("seq").Limit(relayBatch)
	if r.ob.h.Dialect == database.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var rows []outboxRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	now := r.now()
	var claimed []outboxRow
	for _, row := range rows {
		if row.NextAttemptAt.After(now) || (row.LeaseUntil != nil && row.LeaseUntil.After(now)) {
			break
		}
		claimed = append(claimed, row)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	return claimed, tx.Table(table).Where("seq IN ?", seqs(claimed)).Update("lease_until", now.Add(relayLease)).Error
}

// publish sends rows in order, batched, and returns how many went out.
func (r *relay) publish(rows []outboxRow) (int, error) {
	topic := Topic(r.ob.module)
	msgs, err := encodeRows(rows)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, msg := range msgs {
		n := 1
		if b := msg.Metadata.Get(batchMetadata); b != "" {
			n, _ = strconv.Atoi(b)
		}
		if r.aborted != nil && r.aborted.Load() {
			return sent, errAborted
		}
		if err := r.transport.Publisher().Publish(topic, msg); err != nil {
			return sent, fmt.Errorf("publish %s: %w", rows[sent].EventID, err)
		}
		if r.aborted != nil && r.aborted.Load() {
			return sent, errAborted
		}
		sent += n
		r.metrics.published.WithLabelValues(r.ob.module).Add(float64(n))
	}
	return sent, nil
}

// settleIn marks what was sent and schedules a retry for the rest.
func (r *relay) settleIn(tx *gorm.DB, rows []outboxRow, sent int, perr error) error {
	table := r.ob.module + "_outbox"
	now := r.now()
	if sent > 0 {
		if err := tx.Table(table).Where("seq IN ?", seqs(rows[:sent])).
			Updates(map[string]any{"published_at": now, "lease_until": nil}).Error; err != nil {
			return err
		}
	}
	if perr != nil && sent < len(rows) {
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
