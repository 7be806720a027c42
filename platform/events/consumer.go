package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/tracing"
)

// Route handles one event name for a consumer.
type Route struct {
	Event string
	// handle handles events of this name, in order, in the consuming
	// module's transaction; they are not in its inbox yet.
	handle func(ctx context.Context, tx *Tx, ms []Message) error
}

// On is a route for the event type E: the payload is decoded into E and
// handled in the consuming module's transaction.
func On[E Event](fn func(ctx context.Context, tx *Tx, e E) error) Route {
	var zero E
	return Route{Event: zero.EventName(), handle: func(ctx context.Context, tx *Tx, ms []Message) error {
		for _, m := range ms {
			var e E
			if err := m.Decode(&e); err != nil {
				return err
			}
			if err := fn(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	}}
}

// OnBatch is a route for the event type E whose handler takes several
// events at once, in the order they were published: every new event of
// the type that one message brings (a relay sends a run of up to 200
// events of one name as one message), or a single one when events are
// handled one by one after a batch failed. A handler that writes one
// statement for many rows instead of one per event is what keeps a
// consumer up with a bulk load.
func OnBatch[E Event](fn func(ctx context.Context, tx *Tx, es []E) error) Route {
	var zero E
	return Route{Event: zero.EventName(), handle: func(ctx context.Context, tx *Tx, ms []Message) error {
		es := make([]E, len(ms))
		for i, m := range ms {
			if err := m.Decode(&es[i]); err != nil {
				return err
			}
		}
		return fn(ctx, tx, es)
	}}
}

// Consumer is a durable, named consumer of events, contributed by a module.
type Consumer struct {
	Name   string // "<module>.<handler>"
	outbox *Outbox
	routes map[string]Route
}

// Consumer declares a consumer of the outbox's module; its inbox and dead
// letters live in that module's database.
func (o *Outbox) Consumer(handler string, routes ...Route) Consumer {
	c := Consumer{Name: o.module + "." + handler, outbox: o, routes: map[string]Route{}}
	for _, r := range routes {
		c.routes[r.Event] = r
	}
	return c
}

// Events lists the event names the consumer handles.
func (c Consumer) Events() []string {
	out := make([]string, 0, len(c.routes))
	for n := range c.routes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// sources lists the modules whose topics the consumer reads.
func (c Consumer) sources() []string {
	seen := map[string]bool{}
	var out []string
	for n := range c.routes {
		if s := Source(n); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Delivery settings: a handler that fails is tried maxAttempts times in all,
// with growing pauses, then its message is dead-lettered.
var (
	maxAttempts   = 4
	retryBaseWait = 20 * time.Millisecond
)

type delivery struct {
	c       Consumer
	metrics *Metrics
	log     *slog.Logger
	aborted *atomic.Bool // set when a message is given up because the bus stops
}

// handle is the Watermill handler: it never loses a message. It returns an
// error (nack, redelivery) only when even the dead-letter table cannot be
// written.
//
// A message holds one event, or a batch of a topic's events in order (see
// batchMetadata). A batch is handled in one transaction: one commit for many
// events. When any handler of the batch fails, that transaction is rolled
// back and the events are handled one by one, each with its bounded retries,
// in the same order: a failing event costs time, never order or a loss.
func (d *delivery) handle(wm *message.Message) error {
	if name := wm.Metadata.Get(nameMetadata); name != "" {
		if _, ok := d.c.routes[name]; !ok {
			// A message holds events of one name: one the consumer does
			// not handle needs no decoding (in process, every consumer of
			// a topic is sent all of it).
			return nil
		}
	}
	msgs, err := decodeMessage(wm)
	if err != nil {
		// Not something a relay sends: nothing can ever handle it.
		d.log.Error("undecodable event message dropped", "consumer", d.c.Name, "id", wm.UUID, "err", err)
		return nil
	}
	todo := msgs[:0]
	for _, m := range msgs {
		if _, ok := d.c.routes[m.Name]; ok { // skip events of the topic the consumer does not handle
			todo = append(todo, m)
		}
	}
	ctx := wm.Context()
	failed := -1
	if len(todo) > 1 {
		var err error
		if failed, err = d.attemptBatch(ctx, todo); err == nil {
			return nil
		}
		d.metrics.failed.WithLabelValues(d.c.Name).Inc()
		d.log.Warn("event handler failed", "consumer", d.c.Name, "event", todo[failed].Name, "id", todo[failed].ID, "attempt", 1, "in_batch", len(todo), "err", err)
		if ctx.Err() != nil {
			d.abort()
			return ctx.Err()
		}
	}
	for i, m := range todo {
		first := 1 // the attempt the one-by-one handling starts with
		if i == failed {
			first = 2 // its first attempt was the batch's
		}
		if err := d.deliver(ctx, d.c.routes[m.Name], m, first); err != nil {
			return err
		}
	}
	return nil
}

// deliver handles one event, retrying from attempt first to maxAttempts,
// then dead-letters it.
func (d *delivery) deliver(ctx context.Context, route Route, m Message, first int) error {
	var err error
	for attempt := first; attempt <= maxAttempts; attempt++ {
		if attempt > first || first > 1 {
			select {
			case <-time.After(retryBaseWait << (2 * (attempt - 2))):
			case <-ctx.Done():
				d.abort()
				return ctx.Err()
			}
		}
		var dup bool
		dup, err = d.attempt(ctx, route, m)
		if err == nil {
			d.done(m, dup)
			return nil
		}
		d.metrics.failed.WithLabelValues(d.c.Name).Inc()
		d.log.Warn("event handler failed", "consumer", d.c.Name, "event", m.Name, "id", m.ID, "attempt", attempt, "err", err)
		if ctx.Err() != nil {
			d.abort()
			return ctx.Err()
		}
	}
	if dlErr := d.deadLetter(ctx, m, err); dlErr != nil {
		d.log.Error("dead-letter failed; message will be redelivered", "consumer", d.c.Name, "id", m.ID, "err", dlErr)
		time.Sleep(time.Second)
		return dlErr
	}
	d.metrics.deadLettered.WithLabelValues(d.c.Name).Inc()
	d.log.Error("event dead-lettered", "consumer", d.c.Name, "event", m.Name, "id", m.ID, "err", err)
	return nil
}

// done counts a handled (or duplicate) event.
func (d *delivery) done(m Message, dup bool) {
	if dup {
		d.metrics.duplicates.WithLabelValues(d.c.Name).Inc()
		return
	}
	d.metrics.handled.WithLabelValues(d.c.Name).Inc()
	if !m.OccurredAt.IsZero() {
		d.metrics.delivery.WithLabelValues(d.c.Name).Observe(time.Since(m.OccurredAt).Seconds())
	}
}

// attemptBatch handles events in one transaction: their inbox rows in one
// statement, then each run of one event name, of those the inbox did not
// hold, through its route. On failure it reports where the failing run
// starts, and nothing of the batch is kept.
func (d *delivery) attemptBatch(ctx context.Context, ms []Message) (failed int, err error) {
	ctx, span := d.span(ctx, ms)
	defer func() { tracing.End(span, err) }()
	dups := make([]bool, len(ms))
	err = d.c.outbox.Transact(ctx, func(tx *Tx) (err error) {
		defer recoverHandler(&err)
		fresh, err := d.recordAll(tx, ms)
		if err != nil {
			failed = 0
			return err
		}
		for start := 0; start < len(ms); {
			end := start + 1
			for end < len(ms) && ms[end].Name == ms[start].Name {
				end++
			}
			run := make([]Message, 0, end-start)
			for i := start; i < end; i++ {
				if dups[i] = !fresh[ms[i].ID]; !dups[i] {
					run = append(run, ms[i])
				}
			}
			if len(run) > 0 {
				failed = start
				// The transaction's context: a nested Transact on the same
				// SQLite database made with it fails at once instead of
				// deadlocking.
				if err := d.c.routes[ms[start].Name].handle(tx.Statement.Context, tx, run); err != nil {
					return err
				}
			}
			start = end
		}
		return nil
	})
	if err != nil {
		return failed, err
	}
	for i, m := range ms {
		d.done(m, dups[i])
	}
	return -1, nil
}

// recordAll writes the inbox rows of ms in one statement and returns the
// ids it wrote: those of events not handled before.
func (d *delivery) recordAll(tx *Tx, ms []Message) (map[string]bool, error) {
	now := time.Now().UTC()
	sql, args := database.Values("INSERT INTO "+d.c.outbox.module+"_inbox (consumer, message_id, processed_at)", len(ms), 3,
		func(i int) []any { return []any{d.c.Name, ms[i].ID, now} })
	var ids []string
	if err := tx.Raw(sql+" ON CONFLICT DO NOTHING RETURNING message_id", args...).Scan(&ids).Error; err != nil {
		return nil, err
	}
	fresh := make(map[string]bool, len(ids))
	for _, id := range ids {
		fresh[id] = true
	}
	return fresh, nil
}

// recoverHandler turns a handler's panic into its transaction's error.
func recoverHandler(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
	}
}

// abort tells the relays that a message was not handled although the
// transport will report it delivered.
func (d *delivery) abort() {
	if d.aborted != nil {
		d.aborted.Store(true)
	}
}

// attempt runs the route once in a transaction with the inbox entry.
func (d *delivery) attempt(ctx context.Context, route Route, m Message) (dup bool, err error) {
	ctx, span := d.span(ctx, []Message{m})
	defer func() { tracing.End(span, err) }()
	err = d.c.outbox.Transact(ctx, func(tx *Tx) error {
		var err error
		dup, err = d.handleIn(tx, route, m)
		return err
	})
	return dup, err
}

// handleIn records m in the inbox and runs its route in tx; a message the
// inbox already holds is a duplicate and is not handled again.
func (d *delivery) handleIn(tx *Tx, route Route, m Message) (dup bool, err error) {
	defer recoverHandler(&err)
	res := tx.Exec("INSERT INTO "+d.c.outbox.module+"_inbox (consumer, message_id, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		d.c.Name, m.ID, time.Now().UTC())
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected == 0 {
		return true, nil
	}
	// The transaction's context: a nested Transact on the same SQLite
	// database made with it fails at once instead of deadlocking.
	return false, route.handle(tx.Statement.Context, tx, []Message{m})
}

func (d *delivery) deadLetter(ctx context.Context, m Message, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	msg := cause.Error()
	if i := strings.Index(msg, "\ngoroutine "); i > 0 {
		msg = msg[:i] // keep the panic value, not the stack
	}
	return d.c.outbox.h.Transact(ctx, func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO "+d.c.outbox.module+"_dead_letters (consumer, message_id, name, event_key, payload, error, attempts, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			d.c.Name, m.ID, m.Name, m.Key, string(m.Payload), truncate(msg, 2000), maxAttempts, time.Now().UTC()).Error
	})
}

// DeadLetter is a message a consumer could not handle.
type DeadLetter struct {
	ID         int64      `json:"id" gorm:"column:id"`
	Module     string     `json:"module" gorm:"-"`
	Consumer   string     `json:"consumer" gorm:"column:consumer"`
	MessageID  string     `json:"message_id" gorm:"column:message_id"`
	Event      string     `json:"event" gorm:"column:name"`
	Key        string     `json:"key" gorm:"column:event_key"`
	Payload    string     `json:"payload" gorm:"column:payload"`
	Error      string     `json:"error" gorm:"column:error"`
	Attempts   int        `json:"attempts" gorm:"column:attempts"`
	FailedAt   time.Time  `json:"failed_at" gorm:"column:failed_at"`
	ReplayedAt *time.Time `json:"replayed_at" gorm:"column:replayed_at"`
}

// ErrNoDeadLetter is returned for an unknown dead letter.
var ErrNoDeadLetter = errors.New("no such dead letter")

// ErrReplayFailed wraps why Replay could not handle a dead letter; it stays
// where it is.
var ErrReplayFailed = errors.New("replay failed")

var consumerTracer = tracing.Tracer("platform/events")

// span starts the consumer's span for handling ms: a child of the first
// event's publishing span, so that it joins the trace of the request that
// caused it (across processes too), and linked to the spans of the others
// in a batch.
func (d *delivery) span(ctx context.Context, ms []Message) (context.Context, trace.Span) {
	parent := tracing.FromTraceparent(ctx, ms[0].Trace)
	var links []trace.Link
	for _, m := range ms[1:] {
		if sc := trace.SpanContextFromContext(tracing.FromTraceparent(ctx, m.Trace)); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	return consumerTracer.Start(parent, "consume "+ms[0].Name, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithLinks(links...),
		trace.WithAttributes(attribute.String("messaging.consumer.group.name", d.c.Name), attribute.Int("messaging.batch.message_count", len(ms)),
			attribute.String("messaging.message.id", ms[0].ID)))
}
