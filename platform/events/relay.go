package events

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/database"
)

const (
	relayBatch = 1000
	// relayLease is how long a claim keeps other replicas' relays off its
	// rows: a replica that dies holding a claim holds its module's events
	// back that long. A relay still publishing when it runs out is not
	// wrong, only wasteful: another replica sends the same rows again, in
	// the same order, and the consumers' inboxes ignore the second copy.
	relayLease    = 15 * time.Second
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
	linger    time.Duration // how long a wake-up waits for more events
	aborted   *atomic.Bool  // the bus is stopping and dropped a message
	mu        sync.Mutex    // one drain at a time
}

// errAborted: the transport reported a message sent that a consumer gave up
// on because the bus is stopping.
var errAborted = errors.New("the event bus is stopping")

func newRelay(ob *Outbox, t Transport, m *Metrics, log *slog.Logger, linger time.Duration, aborted *atomic.Bool) *relay {
	r := &relay{ob: ob, transport: t, metrics: m, log: log, wakeCh: make(chan struct{}, 1), now: func() time.Time { return time.Now().UTC() },
		linger: linger, aborted: aborted}
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
//
// Woken by a commit, it first lingers: the events committed in the next
// r.linger go out with that one, in one claim, one message and one
// transaction for each consumer, instead of one each. (A relay always
// batches what it finds; lingering is what lets a trickle of events, a few
// ms apart, be found together.) Ending ctx cuts the wait short.
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
			if r.linger > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(r.linger):
				}
				select {
				case <-r.wakeCh: // the drain below takes what that commit wrote
				default:
				}
			}
		case <-poll.C:
		case <-clean.C:
			r.cleanup(ctx)
		}
	}
}

// drain publishes every due row; it stops at the first failure so that order
// is kept, leaving the rest for a retry with backoff. Behind a full batch (a
// backlog) it claims the next rows at once; a trickle of events is left for
// the next wake-up to gather.
func (r *relay) drain(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	for round := 0; ctx.Err() == nil && round < 1000; round++ { // now and then, give the run loop a turn (cleanup)
		// A claim, once started, is carried through to its settle whatever
		// ctx does: a claim cut short could still commit its lease, and the
		// rows would wait out the lease instead of going out at Stop, and
		// rows already published must be marked, or they would be sent
		// again.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		rows, err := r.claim(sctx)
		if err != nil || len(rows) == 0 {
			cancel()
			return total, err
		}
		sent, perr := r.publish(rows)
		total += sent
		err = r.settle(sctx, rows, sent, perr)
		cancel()
		if perr != nil || err != nil {
			return total, errors.Join(perr, err)
		}
		if len(rows) < relayBatch {
			return total, nil
		}
	}
	return total, nil
}

// claim leases the head of the outbox. It takes rows from the oldest pending
// one and stops at the first row that is not due or is leased by another
// relay (a replica of the module), so rows are published strictly in the
// order they were written.
//
// On PostgreSQL it is one statement, committed on its own: the head is
// locked (a concurrent claim waits, then sees the lease), cut at its first
// blocked row, and leased. A drain then costs two round trips, this and
// settle's, where a transaction for each cost nine; at a few events per
// second every event is a drain of its own. SQLite has one writer, so a
// transaction of a read and an update does the same.
func (r *relay) claim(ctx context.Context) ([]outboxRow, error) {
	table := r.ob.module + "_outbox"
	now := r.now()
	if r.ob.h.Dialect == database.Postgres {
		rs, err := r.ob.h.Conn(ctx).Raw(`WITH head AS (
	SELECT seq, next_attempt_at, lease_until FROM `+table+` WHERE published_at IS NULL ORDER BY seq LIMIT ? FOR UPDATE
), cut AS (
	SELECT min(seq) AS seq FROM head WHERE next_attempt_at > ? OR lease_until > ?
)
UPDATE `+table+` AS o SET lease_until = ? FROM head
WHERE o.seq = head.seq AND (head.seq < (SELECT seq FROM cut) OR (SELECT seq FROM cut) IS NULL)
RETURNING `+outboxColumns("o."), relayBatch, now, now, now.Add(relayLease)).Rows()
		if err != nil {
			return nil, err
		}
		rows, err := scanOutbox(rs)
		slices.SortFunc(rows, func(a, b outboxRow) int { return cmp.Compare(a.Seq, b.Seq) })
		return rows, err
	}
	var claimed []outboxRow
	err := r.ob.h.Transact(ctx, func(tx *gorm.DB) error {
		rs, err := tx.Raw("SELECT "+outboxColumns("")+" FROM "+table+" WHERE published_at IS NULL ORDER BY seq LIMIT ?", relayBatch).Rows()
		if err != nil {
			return err
		}
		rows, err := scanOutbox(rs)
		if err != nil {
			return err
		}
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

// outboxColumns lists what scanOutbox reads, each behind prefix.
func outboxColumns(prefix string) string {
	cols := []string{"seq", "event_id", "name", "event_key", "payload", "created_at", "attempts", "next_attempt_at", "lease_until", "trace_parent"}
	for i, c := range cols {
		cols[i] = prefix + c
	}
	return strings.Join(cols, ", ")
}

// scanOutbox reads claimed rows (outboxColumns) and closes rs. A claim
// reads every row it relays, so this is on the relay's hot path: scanning
// field by field costs a fraction of gorm's reflection over the struct.
func scanOutbox(rs *sql.Rows) ([]outboxRow, error) {
	defer rs.Close()
	var out []outboxRow
	for rs.Next() {
		var r outboxRow
		var lease sql.NullTime
		if err := rs.Scan(&r.Seq, &r.EventID, &r.Name, &r.Key, &r.Payload, &r.CreatedAt, &r.Attempts, &r.NextAttemptAt, &lease, &r.TraceParent); err != nil {
			return nil, err
		}
		if lease.Valid {
			r.LeaseUntil = &lease.Time
		}
		out = append(out, r)
	}
	return out, rs.Err()
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

// settle marks what was sent and schedules a retry for the rest, each with
// a statement of its own: a crash in between only sends rows again, which
// the consumers' inboxes make harmless.
func (r *relay) settle(ctx context.Context, rows []outboxRow, sent int, perr error) error {
	name := r.ob.module + "_outbox"
	table := func() *gorm.DB { return r.ob.h.Conn(ctx).Table(name) }
	// rowsIn picks rows by seq. On PostgreSQL it locks them in seq order
	// first, the order claim locks the head in, so that a settle and a
	// replica's claim never wait on each other in a circle.
	rowsIn := func(db *gorm.DB, rows []outboxRow) *gorm.DB {
		if r.ob.h.Dialect == database.Postgres {
			return db.Where("seq IN (SELECT seq FROM "+name+" WHERE seq IN ? ORDER BY seq FOR UPDATE)", seqs(rows))
		}
		return db.Where("seq IN ?", seqs(rows))
	}
	now := r.now()
	if sent > 0 {
		if err := rowsIn(table(), rows[:sent]).
			Updates(map[string]any{"published_at": now, "lease_until": nil}).Error; err != nil {
			return err
		}
	}
	if perr != nil && sent < len(rows) {
		failed := rows[sent:]
		attempts := failed[0].Attempts + 1
		if err := rowsIn(table(), failed).Updates(map[string]any{
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
