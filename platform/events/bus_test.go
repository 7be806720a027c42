package events_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// 1. An event committed with its state change is delivered even when the
// process dies between commit and publish.
func TestDeliveredAfterCrashBetweenCommitAndPublish(t *testing.T) {
	t.Parallel()
	forEachDBAndTransport(t, func(t *testing.T, db testkit.DB, tr transport) {
		h := &Hooks{}
		migrator, demo, dbs := unstarted(t, tr, db, h)
		ctx := t.Context()
		if _, err := migrator.Run(ctx); err != nil {
			t.Fatal(err)
		}
		for _, e := range ids("crash", 20) {
			if err := demo.Create(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		dbs.Close() // the process dies: its relay never ran

		g := peek(t, db)
		if n := count(t, g, "SELECT COUNT(*) FROM demo_outbox WHERE published_at IS NULL"); n != 20 {
			t.Fatalf("%d events wait in the outbox, want 20", n)
		}
		if n := count(t, g, "SELECT COUNT(*) FROM demo_items"); n != 20 {
			t.Fatalf("%d items, want 20", n)
		}
		if n := count(t, g, "SELECT COUNT(*) FROM audit_log"); n != 0 {
			t.Fatalf("%d events handled before any consumer ran", n)
		}

		s, _ := shopOn(t, tr, db, h) // the next process
		testkit.Eventually(t, 10*time.Second, func() bool {
			return count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'") == 20
		}, "the restarted process handles the 20 events")
		testkit.Eventually(t, 5*time.Second, func() bool {
			return count(t, g, "SELECT COUNT(*) FROM demo_outbox WHERE published_at IS NULL") == 0
		}, "the outbox is marked published")
		waitMetric(t, s, `modshop_events_handled_total{consumer="audit.record"}`, 20)
	})
}

// 2. A handler that fails twice then succeeds applies its change once.
func TestFlakyHandlerAppliesOnce(t *testing.T) {
	t.Parallel()
	forEachDBAndTransport(t, func(t *testing.T, db testkit.DB, tr transport) {
		h := &Hooks{}
		s, demo := shopOn(t, tr, db, h)
		ctx := t.Context()
		if err := demo.Create(ctx, ItemCreated{ID: "flaky-1", Aggregate: "f", Seq: 1, Behaviour: "flaky"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Runtime.Bus().Drain(ctx); err != nil {
			t.Fatal(err)
		}
		// GoChannel: handled when Drain returns; NATS: soon after.
		for series, want := range map[string]float64{
			`modshop_events_failed_total{consumer="audit.record"}`:  2,
			`modshop_events_handled_total{consumer="audit.record"}`: 1,
			`modshop_events_handled_total{consumer="audit.count"}`:  1,
		} {
			waitMetric(t, s, series, want)
		}
		g := peek(t, db)
		if n := count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record' AND event_id = 'flaky-1'"); n != 1 {
			t.Fatalf("the change was applied %d times, want once", n)
		}
		if a := h.attempt("flaky-1") - 1; a != 3 {
			t.Fatalf("the handler ran %d times, want 3", a)
		}
		if dls, err := s.Runtime.Bus().DeadLetters(ctx, true); err != nil || len(dls) != 0 {
			t.Fatalf("dead letters %+v (%v), want none", dls, err)
		}
	})
}

// 3. A duplicate delivery is recognised by the inbox and changes nothing.
// (GoChannel only: JetStream drops the same message id in the stream before
// any consumer sees it, see TestNATSStreamDropsRepublishedMessages.)
func TestDuplicateDeliveryIsIgnored(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		s, demo := shop(t, db, &Hooks{})
		ctx := t.Context()
		bus := s.Runtime.Bus()
		if err := demo.Create(ctx, ItemCreated{ID: "dup-1", Aggregate: "d", Seq: 1}); err != nil {
			t.Fatal(err)
		}
		if err := bus.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		g := peek(t, db)

		// The relay sends the row again (as after a crash before settle).
		if err := g.Exec("UPDATE demo_outbox SET published_at = NULL").Error; err != nil {
			t.Fatal(err)
		}
		if err := bus.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		// The transport delivers the same message id again.
		var row struct{ EventID, Name, EventKey, Payload string }
		if err := g.Raw("SELECT event_id, name, event_key, payload FROM demo_outbox").Scan(&row).Error; err != nil {
			t.Fatal(err)
		}
		msg := message.NewMessage(row.EventID, []byte(row.Payload))
		msg.Metadata.Set("name", row.Name)
		msg.Metadata.Set("key", row.EventKey)
		if err := bus.Transport().Publisher().Publish(events.Topic("demo"), msg); err != nil {
			t.Fatal(err)
		}

		if n := count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'"); n != 1 {
			t.Fatalf("audit.record applied the event %d times", n)
		}
		if n := count(t, g, "SELECT n FROM audit_counts WHERE consumer = 'audit.count'"); n != 1 {
			t.Fatalf("audit.count counted %d", n)
		}
		for _, c := range []string{"audit.record", "audit.count", "audit.poison"} {
			if got := metric(t, s, `modshop_events_duplicates_total{consumer="`+c+`"}`); got != 2 {
				t.Errorf("%s: duplicates_total = %v, want 2", c, got)
			}
			if got := metric(t, s, `modshop_events_handled_total{consumer="`+c+`"}`); got != 1 {
				t.Errorf("%s: handled_total = %v, want 1", c, got)
			}
		}
	})
}

// 4. Events of one aggregate arrive in the order they were written.
func TestEventsOfOneAggregateArriveInOrder(t *testing.T) {
	t.Parallel()
	forEachDBAndTransport(t, func(t *testing.T, db testkit.DB, tr transport) {
		s, demo := shopOn(t, tr, db, &Hooks{})
		ctx := t.Context()
		const aggregates, perAggregate = 10, 100
		var wg sync.WaitGroup
		errs := make([]error, aggregates)
		for a := range aggregates {
			wg.Go(func() {
				for i, e := range ids(fmt.Sprintf("agg%02d", a), perAggregate) {
					if i%10 == 9 { // now and then several events of one aggregate in one transaction
						e2 := e
						e2.ID += "b"
						if errs[a] = demo.CreateMany(ctx, []ItemCreated{e, e2}); errs[a] != nil {
							return
						}
						continue
					}
					if errs[a] = demo.Create(ctx, e); errs[a] != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if err := s.Runtime.Bus().Drain(ctx); err != nil {
			t.Fatal(err)
		}
		const total = aggregates * (perAggregate + perAggregate/10)
		g := peek(t, db)
		waitCount(t, g, 20*time.Second, total, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'")
		waitCount(t, g, 20*time.Second, total, "SELECT n FROM audit_counts")
		var rows []struct {
			Aggregate string
			Seq       int
			EventID   string
		}
		if err := g.Raw("SELECT aggregate, seq, event_id FROM audit_log WHERE consumer = 'audit.record' ORDER BY n").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != total {
			t.Fatalf("%d events handled, want %d", len(rows), total)
		}
		last := map[string]string{}
		for _, r := range rows {
			key := fmt.Sprintf("%04d", r.Seq) + strings.TrimPrefix(r.EventID, fmt.Sprintf("%s-%04d", r.Aggregate, r.Seq-1))
			if key <= last[r.Aggregate] {
				t.Fatalf("aggregate %s: event %s (seq %d) after %s", r.Aggregate, r.EventID, r.Seq, last[r.Aggregate])
			}
			last[r.Aggregate] = key
		}
		if len(last) != aggregates {
			t.Fatalf("%d aggregates seen", len(last))
		}
		if n := count(t, g, "SELECT n FROM audit_counts"); n != total {
			t.Fatalf("audit.count saw %d events", n)
		}
	})
}

// 5. A handler that always fails (or panics) is retried a bounded number of
// times, dead-lettered, does not hold up other consumers or later events,
// and is handled again by Replay once fixed.
func TestPoisonMessageIsDeadLetteredAndReplayed(t *testing.T) {
	t.Parallel()
	forEachDBAndTransport(t, func(t *testing.T, db testkit.DB, tr transport) {
		h := &Hooks{}
		s, demo := shopOn(t, tr, db, h)
		ctx := t.Context()
		bus := s.Runtime.Bus()
		for _, e := range []ItemCreated{
			{ID: "poison-1", Aggregate: "p", Seq: 1, Behaviour: "poison"},
			{ID: "panic-1", Aggregate: "p", Seq: 2, Behaviour: "panic"},
			{ID: "later-1", Aggregate: "p", Seq: 3},
		} {
			if err := demo.Create(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		if err := bus.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		g := peek(t, db)
		// GoChannel: done when Drain returns; NATS: soon after.
		testkit.Eventually(t, 5*time.Second, func() bool {
			dls, err := bus.DeadLetters(ctx, false)
			return err == nil && len(dls) == 2 &&
				count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.poison' AND event_id = 'later-1'") == 1
		}, "the retries are not bounded")
		t.Logf("delivered, retried and dead-lettered in %s", time.Since(start))
		waitMetric(t, s, `modshop_events_dead_lettered_total{consumer="audit.poison"}`, 2)
		waitCount(t, g, 5*time.Second, 3, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'")
		if n := count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'"); n != 3 {
			t.Fatalf("another consumer handled %d of 3 events", n)
		}
		if n := count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.poison' AND event_id = 'later-1'"); n != 1 {
			t.Fatal("the event after the poison ones was not handled by the poisoned consumer")
		}
		dls, err := bus.DeadLetters(ctx, false)
		if err != nil || len(dls) != 2 {
			t.Fatalf("dead letters = %+v (%v), want 2", dls, err)
		}
		byID := map[string]events.DeadLetter{}
		for _, d := range dls {
			byID[d.Key+"/"+d.MessageID] = d
			if d.Consumer != "audit.poison" || d.Module != "audit" || d.Attempts != 4 || d.Event != "demo.item_created.v1" || d.ReplayedAt != nil {
				t.Errorf("dead letter %+v", d)
			}
			if strings.Contains(d.Error, "goroutine") || strings.Contains(d.Error, ".go:") {
				t.Errorf("the dead letter keeps a stack: %q", d.Error)
			}
		}
		joined := dls[0].Error + " | " + dls[1].Error
		if !strings.Contains(joined, "poison: cannot handle poison-1") || !strings.Contains(joined, "handler exploded on panic-1") {
			t.Errorf("dead letter errors: %s", joined)
		}
		if got := metric(t, s, `modshop_events_failed_total{consumer="audit.poison"}`); got != 8 {
			t.Errorf("failed_total = %v, want 8 (4 attempts × 2)", got)
		}
		if got := metric(t, s, `modshop_events_dead_lettered_total{consumer="audit.poison"}`); got != 2 {
			t.Errorf("dead_lettered_total = %v, want 2", got)
		}

		// The admin API lists them; only admins may.
		admin := s.AdminToken()
		testkit.ExpectProblem(t, s.Get("/v1/admin/events/dead-letters", ""), 401, "unauthorized")
		testkit.ExpectProblem(t, s.Get("/v1/admin/events/dead-letters", s.Token("c1", "customer")), 403, "forbidden")
		var page struct {
			Items []struct {
				ID       int64  `json:"id"`
				Module   string `json:"module"`
				Consumer string `json:"consumer"`
				Payload  string `json:"payload"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		testkit.Expect(t, s.Get("/v1/admin/events/dead-letters?limit=1", admin), 200).JSON(t, &page)
		if len(page.Items) != 1 || page.NextCursor == nil || page.Items[0].Module != "audit" {
			t.Fatalf("first page = %+v", page)
		}
		first := page.Items[0]
		testkit.Expect(t, s.Get("/v1/admin/events/dead-letters?limit=1&cursor="+*page.NextCursor, admin), 200).JSON(t, &page)
		if len(page.Items) != 1 || page.NextCursor != nil || page.Items[0].ID == first.ID {
			t.Fatalf("second page = %+v", page)
		}
		testkit.ExpectProblem(t, s.Get("/v1/admin/events/dead-letters?cursor=bogus", admin), 422, "validation_failed")

		// Replaying before the fix fails, and the dead letter stays.
		replay := func(id int64) testkit.Response {
			return s.Post(fmt.Sprintf("/v1/admin/events/dead-letters/audit/%d/replay", id), admin, nil)
		}
		testkit.ExpectProblem(t, replay(first.ID), 409, "conflict")
		if dls, _ := bus.DeadLetters(ctx, false); len(dls) != 2 {
			t.Fatalf("a failed replay removed a dead letter: %d left", len(dls))
		}
		testkit.ExpectProblem(t, s.Post("/v1/admin/events/dead-letters/nosuch/1/replay", admin, nil), 404, "not_found")
		testkit.ExpectProblem(t, s.Post("/v1/admin/events/dead-letters/audit/999999/replay", admin, nil), 404, "not_found")

		h.Fix()
		var replayed events.DeadLetter
		testkit.Expect(t, replay(first.ID), 200).JSON(t, &replayed)
		if replayed.ReplayedAt == nil || replayed.ID != first.ID {
			t.Fatalf("replayed = %+v", replayed)
		}
		if err := bus.Replay(ctx, "audit", page.Items[0].ID); err != nil { // the other one, through the Go API
			t.Fatal(err)
		}
		if n := count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.poison'"); n != 3 {
			t.Fatalf("audit.poison applied %d events, want 3 (later-1 and the two replayed)", n)
		}
		if dls, _ := bus.DeadLetters(ctx, false); len(dls) != 0 {
			t.Fatalf("%d dead letters left after replay", len(dls))
		}
		if dls, _ := bus.DeadLetters(ctx, true); len(dls) != 2 || dls[0].ReplayedAt == nil {
			t.Fatalf("include replayed: %+v", dls)
		}
		testkit.ExpectProblem(t, replay(first.ID), 404, "not_found") // replayed once only
		if !errors.Is(bus.Replay(ctx, "audit", first.ID), events.ErrNoDeadLetter) {
			t.Fatal("a second Replay must report ErrNoDeadLetter")
		}
	})
}

// 6. Stop publishes and handles what was committed just before it. Over
// NATS, Stop publishes it (the stream holds it) and the consumers finish
// the message they hold; the next process handles the rest, each event
// once.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	forEachDBAndTransport(t, func(t *testing.T, db testkit.DB, tr transport) {
		h := &Hooks{slow: 2 * time.Millisecond}
		if tr.nats != nil {
			h.slow = 10 * time.Millisecond // Stop comes while audit.record is at it
		}
		s, demo := shopOn(t, tr, db, h)
		const n = 150
		for i := range 3 { // three messages (batches)
			if err := demo.CreateMany(t.Context(), ids(fmt.Sprintf("drain%d", i), n/3)); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		s.Stop()
		t.Logf("Stop took %s", time.Since(start))
		g := peek(t, db)
		if got := count(t, g, "SELECT COUNT(*) FROM demo_outbox WHERE published_at IS NULL"); got != 0 {
			t.Fatalf("%d events left unpublished", got)
		}
		if tr.nats != nil {
			t.Logf("%d of %d events handled when Stop returned", count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'"), n)
			start := time.Now()
			shopOn(t, tr, db, h) // the next process
			waitCount(t, g, 15*time.Second, n, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'")
			waitCount(t, g, 15*time.Second, n, "SELECT n FROM audit_counts")
			t.Logf("the next process handled the rest in %s", time.Since(start))
		}
		if got := count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'"); got != n {
			t.Fatalf("%d of %d events handled when Stop returned", got, n)
		}
		if got := count(t, g, "SELECT COUNT(DISTINCT event_id) FROM audit_log WHERE consumer = 'audit.record'"); got != n {
			t.Fatalf("%d distinct events of %d handled", got, n)
		}
		if got := count(t, g, "SELECT n FROM audit_counts"); got != n {
			t.Fatalf("audit.count saw %d of %d", got, n)
		}
	})
}

// Outbox depth and lag are exported per module, and the HTTP counter too.
func TestMetricsAreExported(t *testing.T) {
	t.Parallel()
	db := testkit.SQLite(t)
	s, _ := shop(t, db, &Hooks{})
	g := peek(t, db)
	// A row that is not due yet waits in the outbox.
	past := time.Now().UTC().Add(-3 * time.Second)
	if err := g.Exec("INSERT INTO demo_outbox (event_id, name, event_key, payload, created_at, next_attempt_at) VALUES ('e1', 'demo.item_created.v1', 'k', '{}', ?, ?)",
		past, time.Now().UTC().Add(time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	if got := metric(t, s, `modshop_outbox_depth{module="demo"}`); got != 1 {
		t.Errorf("outbox depth = %v, want 1", got)
	}
	if got := metric(t, s, `modshop_outbox_lag_seconds{module="demo"}`); got < 3 || got > 60 {
		t.Errorf("outbox lag = %v, want about 3 s", got)
	}
	if got := metric(t, s, `modshop_outbox_depth{module="audit"}`); got != 0 {
		t.Errorf("audit outbox depth = %v", got)
	}
	body := string(s.Get("/metrics", "").Body)
	for _, name := range []string{"modshop_http_requests_total", "modshop_outbox_depth", "modshop_outbox_lag_seconds",
		"modshop_events_handled_total", "modshop_events_failed_total", "modshop_events_duplicates_total", "modshop_event_delivery_seconds"} {
		if !strings.Contains(body, "# TYPE "+name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

func TestDrainBeforeStartKeepsTheEvents(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := database.NewRegistry(func(string) string { return testkit.SQLite(t).URL }, log, nil)
	defer r.Close()
	h, _ := r.For("demo")
	if _, err := database.Migrate(t.Context(), h, events.Migrations("demo")); err != nil {
		t.Fatal(err)
	}
	bus := events.NewBus(events.NewGoChannel(log), nil, log)
	if err := (&Demo{ob: bus.Outbox(h)}).CreateMany(t.Context(), ids("x", 3)); err != nil {
		t.Fatal(err)
	}
	if err := bus.Drain(t.Context()); !errors.Is(err, events.ErrNotStarted) {
		t.Fatalf("Drain before Start = %v, want ErrNotStarted", err)
	}
	if st := bus.OutboxStats(t.Context()); len(st) != 1 || st[0].Depth != 3 {
		t.Fatalf("outbox stats %+v, want the 3 events still waiting", st)
	}
	if err := bus.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestDuplicateConsumerNamesFailStart(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := database.NewRegistry(func(string) string { return testkit.SQLite(t).URL }, log, nil)
	defer r.Close()
	h, _ := r.For("demo")
	bus := events.NewBus(events.NewGoChannel(log), nil, log)
	ob := bus.Outbox(h)
	route := events.On(func(context.Context, *events.Tx, ItemCreated) error { return nil })
	bus.Subscribe(ob.Consumer("same", route), ob.Consumer("same", route))
	if err := bus.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "demo.same") {
		t.Fatalf("Start = %v, want an error naming demo.same", err)
	}
}
