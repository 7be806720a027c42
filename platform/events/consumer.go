package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"gorm.io/gorm"
)

// Route handles one event name for a consumer.
type Route struct {
	Event  string
	handle func(ctx context.Context, tx *Tx, m Message) error
}

// On is a route for the event type E: the payload is decoded into E and
// handled in the consuming module's transaction.
func On[E Event](fn func(ctx context.Context, tx *Tx, e E) error) Route {
	var zero E
	return Route{Event: zero.EventName(), handle: func(ctx context.Context, tx *Tx, m Message) error {
		var e E
		if err := m.Decode(&e); err != nil {
			return err
		}
		return fn(ctx, tx, e)
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
}

// handle is the Watermill handler: it never loses a message. It returns an
// error (nack, redelivery) only when even the dead-letter table cannot be
// written.
func (d *delivery) handle(wm *message.Message) error {
	m := Message{
		ID:      wm.UUID,
		Name:    wm.Metadata.Get("name"),
		Key:     wm.Metadata.Get("key"),
		Payload: wm.Payload,
	}
	m.OccurredAt, _ = time.Parse(time.RFC3339Nano, wm.Metadata.Get("occurred_at"))
	route, ok := d.c.routes[m.Name]
	if !ok {
		return nil // an event of the topic that this consumer does not handle
	}
	ctx := wm.Context()
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		var dup bool
		dup, err = d.attempt(ctx, route, m)
		if err == nil {
			if !dup {
				d.metrics.handled.WithLabelValues(d.c.Name).Inc()
				if !m.OccurredAt.IsZero() {
					d.metrics.delivery.WithLabelValues(d.c.Name).Observe(time.Since(m.OccurredAt).Seconds())
				}
			} else {
				d.metrics.duplicates.WithLabelValues(d.c.Name).Inc()
			}
			return nil
		}
		d.metrics.failed.WithLabelValues(d.c.Name).Inc()
		d.log.Warn("event handler failed", "consumer", d.c.Name, "event", m.Name, "id", m.ID, "attempt", attempt, "err", err)
		if attempt < maxAttempts {
			select {
			case <-time.After(retryBaseWait << (2 * (attempt - 1))):
			case <-ctx.Done():
				return ctx.Err()
			}
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

// attempt runs the route once in a transaction with the inbox entry.
func (d *delivery) attempt(ctx context.Context, route Route, m Message) (dup bool, err error) {
	err = d.c.outbox.Transact(ctx, func(tx *Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
			}
		}()
		res := tx.Exec("INSERT INTO "+d.c.outbox.module+"_inbox (consumer, message_id, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			d.c.Name, m.ID, time.Now().UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			dup = true
			return nil
		}
		return route.handle(ctx, tx, m)
	})
	return dup, err
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
