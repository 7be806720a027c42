package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modshop/modshop/platform/database"
)

type tick struct{ N int }

func (tick) EventName() string  { return "demo.ticked.v1" }
func (t tick) EventKey() string { return fmt.Sprint(t.N) }

// recorder is a transport that keeps what is published, in order, and
// takes a little time over each message, so that relays overlap.
type recorder struct {
	mu   sync.Mutex
	msgs [][]string // the events of each message
}

func (r *recorder) Publish(_ string, msgs ...*message.Message) error {
	for _, wm := range msgs {
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		ms, err := decodeMessage(wm)
		if err != nil {
			return err
		}
		r.mu.Lock()
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		r.msgs = append(r.msgs, ids)
		r.mu.Unlock()
	}
	return nil
}
func (r *recorder) Close() error                                             { return nil }
func (r *recorder) Publisher() message.Publisher                             { return r }
func (r *recorder) Subscriber(string, ...string) (message.Subscriber, error) { return nil, nil }
func (r *recorder) Ping(context.Context) error                               { return nil }
func (r *recorder) Name() string                                             { return "recorder" }

// tock is an event of another name: between ticks, each event travels as a
// message of its own.
type tock struct{ N int }

func (tock) EventName() string  { return "demo.tocked.v1" }
func (t tock) EventKey() string { return fmt.Sprint(t.N) }

// failing is a transport that publishes left messages, then fails.
type failing struct {
	*recorder
	left int
}

func (f *failing) Publish(topic string, msgs ...*message.Message) error {
	if f.left == 0 {
		return errors.New("the broker is down")
	}
	f.left--
	return f.recorder.Publish(topic, msgs...)
}
func (f *failing) Publisher() message.Publisher { return f }

// published is every event the recorder was sent, in order.
func (r *recorder) published() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Concat(r.msgs...)
}

// outboxFor migrates the events tables of a module in the database at url.
func outboxFor(t *testing.T, url, module string) *database.Handle {
	t.Helper()
	d, err := database.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, table := range []string{"outbox", "inbox", "dead_letters", "schema_migrations"} {
			d.Gorm.Exec("DROP TABLE IF EXISTS " + module + "_" + table)
		}
		d.Close()
	})
	h := &database.Handle{Module: module, DB: d}
	if _, err := database.Migrate(t.Context(), h, Migrations(module)); err != nil {
		t.Fatal(err)
	}
	return h
}

// replicaOf is another process's handle of h's database: connections (and
// on SQLite a writer) of its own.
func replicaOf(t *testing.T, h *database.Handle) *database.Handle {
	t.Helper()
	d, err := database.Open(h.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &database.Handle{Module: h.Module, DB: d}
}

// A relay that lingers publishes the events of transactions committed
// within its linger together, in one message, no sooner than the linger
// after the first; ending its context cuts the wait short.
func TestRelayLingerGathersEvents(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h := outboxFor(t, "sqlite://"+t.TempDir()+"/linger.db", "demo")
	rec := &recorder{}
	const linger = 300 * time.Millisecond
	ob := &Outbox{module: "demo", h: h}
	r := newRelay(ob, rec, newMetrics(prometheus.NewRegistry(), nil), slog.New(slog.NewTextHandler(io.Discard, nil)), linger, nil)
	stopped := make(chan struct{})
	go func() { defer close(stopped); r.run(ctx) }()
	published := func() [][]string {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return slices.Clone(rec.msgs)
	}
	time.Sleep(50 * time.Millisecond) // the first drain, of an empty outbox, is over

	first := time.Now()
	for n := range 3 {
		if err := ob.Transact(ctx, func(tx *Tx) error { return tx.Publish(tick{N: n}) }); err != nil {
			t.Fatal(err)
		}
	}
	if m := published(); len(m) != 0 && time.Since(first) < linger {
		t.Fatalf("published %v before the linger was over", m)
	}
	for time.Since(first) < 5*time.Second && len(published()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(first)
	time.Sleep(50 * time.Millisecond) // would another message follow?
	if m := published(); len(m) != 1 || len(m[0]) != 3 {
		t.Fatalf("published %v, want one message of the 3 events", m)
	}
	if took < linger {
		t.Errorf("published %s after the first commit, before the linger of %s", took, linger)
	}

	if err := ob.Transact(ctx, func(tx *Tx) error { return tx.Publish(tick{N: 9}) }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case <-stopped:
	case <-time.After(linger / 3):
		t.Fatal("the relay did not stop while lingering")
	}
	if m := published(); len(m) != 1 {
		t.Fatalf("published %v while stopping; the bus's last drain does that", m)
	}
}

// Two relays on one outbox (two replicas of a module, each with its own
// connections) publish every event once, in the order the events were
// written, while writers add more.
//
// (This package cannot use testkit, which imports it: on PostgreSQL the
// test's tables get a module name of their own in the test database.)
func TestRelayReplicasKeepOrder(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { relayReplicas(t, "sqlite://"+t.TempDir()+"/relay.db", "demo") })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("MODSHOP_TEST_POSTGRES_URL")
		if url == "" {
			t.Skip("PostgreSQL suite skipped: set MODSHOP_TEST_POSTGRES_URL")
		}
		relayReplicas(t, url, fmt.Sprintf("relaytest%d", rand.Uint32()))
	})
}

func relayReplicas(t *testing.T, url, module string) {
	ctx := t.Context()
	h := outboxFor(t, url, module)
	d := h.DB
	rec := &recorder{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	metrics := newMetrics(prometheus.NewRegistry(), nil)
	var aborted atomic.Bool
	writer := &Outbox{module: module, h: h}
	relays := []*relay{
		newRelay(&Outbox{module: module, h: replicaOf(t, h)}, rec, metrics, log, 0, &aborted),
		newRelay(&Outbox{module: module, h: replicaOf(t, h)}, rec, metrics, log, 0, &aborted),
	}

	const writers, each = 4, 60
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				evts := []Event{tick{N: w*1000 + i}}
				if i%5 == 0 { // now and then several events in one transaction
					evts = append(evts, tick{N: w*1000 + i + 500}, tick{N: w*1000 + i + 700})
				}
				if err := writer.Transact(ctx, func(tx *Tx) error { return tx.Publish(evts...) }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	var relaysWG sync.WaitGroup
	for _, r := range relays {
		relaysWG.Go(func() {
			for {
				if _, err := r.drain(ctx); err != nil {
					t.Error(err)
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	wg.Wait()
	close(done)
	relaysWG.Wait()
	for _, r := range relays { // what the last rounds left
		if _, err := r.drain(ctx); err != nil {
			t.Fatal(err)
		}
	}

	var written []struct {
		EventID  string `gorm:"column:event_id"`
		EventKey string `gorm:"column:event_key"`
	}
	if err := d.Gorm.Raw("SELECT event_id, event_key FROM " + module + "_outbox ORDER BY seq").Scan(&written).Error; err != nil {
		t.Fatal(err)
	}
	// Each writer: 60 transactions, 12 of them with 3 events.
	if want := writers * (each + 2*(each/5)); len(written) != want {
		t.Fatalf("%d events written, want %d", len(written), want)
	}
	// Each event once, and each writer's events in the order it wrote
	// them. (Events of concurrent transactions may go out in another order
	// than their seq: a later seq can commit first. One aggregate's writes
	// are serialised by its row, so its events keep their order.)
	writerOf := map[string]int{}
	var order, got [writers][]string
	for _, e := range written {
		var n int
		if _, err := fmt.Sscan(e.EventKey, &n); err != nil {
			t.Fatal(err)
		}
		writerOf[e.EventID] = n / 1000
		order[n/1000] = append(order[n/1000], e.EventID)
	}
	seen := map[string]bool{}
	for _, id := range slices.Concat(rec.msgs...) {
		w, ok := writerOf[id]
		if seen[id] || !ok {
			t.Fatalf("event %s published twice, or never written", id)
		}
		seen[id] = true
		got[w] = append(got[w], id)
	}
	if len(seen) != len(written) {
		t.Fatalf("%d events published, %d written", len(seen), len(written))
	}
	for w := range writers {
		if !slices.Equal(got[w], order[w]) {
			t.Fatalf("writer %d: published %v, written %v", w, got[w], order[w])
		}
	}
	var left int64
	if err := d.Gorm.Raw("SELECT COUNT(*) FROM " + module + "_outbox WHERE published_at IS NULL").Scan(&left).Error; err != nil || left != 0 {
		t.Fatalf("%d rows not marked published (%v)", left, err)
	}
}

// A replica's relay that died holding a lease, or whose publish failed,
// holds the others back only until its lease runs out or the retry is due:
// no other replica publishes past its rows meanwhile, and then another
// publishes them and the rows behind them, each once, in order.
func TestRelayReplicasTakeOver(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { relayTakeOver(t, "sqlite://"+t.TempDir()+"/relay.db", "demo") })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("MODSHOP_TEST_POSTGRES_URL")
		if url == "" {
			t.Skip("PostgreSQL suite skipped: set MODSHOP_TEST_POSTGRES_URL")
		}
		relayTakeOver(t, url, fmt.Sprintf("relaytest%d", rand.Uint32()))
	})
}

func relayTakeOver(t *testing.T, url, module string) {
	ctx := t.Context()
	h := outboxFor(t, url, module)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	metrics := newMetrics(prometheus.NewRegistry(), nil)
	writer := &Outbox{module: module, h: h}
	var written []string
	write := func(evts ...Event) {
		t.Helper()
		if err := writer.Transact(ctx, func(tx *Tx) error { return tx.Publish(evts...) }); err != nil {
			t.Fatal(err)
		}
		var ids []string
		if err := h.Gorm.Raw("SELECT event_id FROM " + module + "_outbox ORDER BY seq").Scan(&ids).Error; err != nil {
			t.Fatal(err)
		}
		written = ids
	}
	// The relays' clocks: a minute ahead, so every row written is due.
	at := time.Now().UTC().Add(time.Minute)
	relayAt := func(tr Transport, now *time.Time) *relay {
		r := newRelay(&Outbox{module: module, h: replicaOf(t, h)}, tr, metrics, log, 0, nil)
		r.now = func() time.Time { return *now }
		return r
	}
	drain := func(r *relay, want int) {
		t.Helper()
		n, err := r.drain(ctx)
		if n != want {
			t.Fatalf("a drain published %d events (%v), want %d", n, err, want)
		}
	}
	rec := &recorder{}
	later := at
	live := relayAt(rec, &later)

	// A relay claims the head and dies before publishing it.
	for n := range 10 {
		write(tick{N: n})
	}
	dead := relayAt(rec, &at)
	if rows, err := dead.claim(ctx); err != nil || len(rows) != 10 {
		t.Fatalf("claimed %d rows (%v), want 10", len(rows), err)
	}
	write(tick{N: 10})
	drain(live, 0) // the head is leased: nothing behind it goes first
	later = at.Add(relayLease + time.Second)
	drain(live, 11)
	if got := rec.published(); !slices.Equal(got, written) {
		t.Fatalf("published %v, written %v", got, written)
	}

	// A relay's publish fails after two messages (a tick and a tock each
	// travel alone).
	for n := range 6 {
		if n%2 == 0 {
			write(tick{N: 100 + n})
		} else {
			write(tock{N: 100 + n})
		}
	}
	broken := relayAt(&failing{recorder: rec, left: 2}, &later)
	if n, err := broken.drain(ctx); n != 2 || err == nil {
		t.Fatalf("the failing relay published %d (%v), want 2 and an error", n, err)
	}
	drain(live, 0) // the retry is not due: nothing goes past it
	later = later.Add(time.Second)
	drain(live, 4)
	if got := rec.published(); !slices.Equal(got, written) {
		t.Fatalf("published %v, written %v", got, written)
	}
	var left int64
	if err := h.Gorm.Raw("SELECT COUNT(*) FROM " + module + "_outbox WHERE published_at IS NULL").Scan(&left).Error; err != nil || left != 0 {
		t.Fatalf("%d rows not marked published (%v)", left, err)
	}
}
