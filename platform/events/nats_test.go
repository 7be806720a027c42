package events_test

// The NATS JetStream transport, against the server at MODSHOP_TEST_NATS_URL
// (skipped without it). Each test has a stream and subjects of its own
// (natsConfig). The behavioural tests of bus_test.go run on NATS too
// (forEachTransport); these add what only a broker has: several processes,
// a stream that outlives them, deduplication, redelivery.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// jetStream is a JetStream client of the test's own, to look into the stream.
func jetStream(t *testing.T, cfg events.NATSConfig) nats.JetStreamContext {
	t.Helper()
	nc, err := nats.Connect(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func streamMsgs(t *testing.T, js nats.JetStreamContext, stream string) uint64 {
	t.Helper()
	info, err := js.StreamInfo(stream)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// process starts the given modules (of demo and audit) in a process on tr.
func process(t *testing.T, tr transport, db testkit.DB, h *Hooks, modules ...string) (*testkit.Shop, *Demo) {
	t.Helper()
	var d *Demo
	extra := tr.options()
	if len(modules) == 0 || strings.Contains(strings.Join(modules, ","), "demo") {
		extra = append(extra, fx.Populate(&d))
	}
	s := testkit.Start(t, mods(h), testkit.Options{DB: &db, Modules: modules, Extra: extra})
	return s, d
}

// A message crosses the wire whole: the UUID, the payload and the metadata
// of a single event and of a batch; it is stored once per publish, on the
// topic's subject, with the UUID as Nats-Msg-Id.
func TestNATSMessagesKeepTheirMetadata(t *testing.T) {
	t.Parallel()
	cfg := natsConfig(t)
	js := jetStream(t, cfg)
	tp, err := events.NewNATS(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	if tp.Name() != "nats" {
		t.Fatalf("Name() = %q", tp.Name())
	}
	if err := tp.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	one := message.NewMessage("0190a000-0000-7000-8000-000000000001", []byte(`{"id":"i1"}`))
	one.Metadata.Set("name", "demo.item_created.v1")
	one.Metadata.Set("key", "agg-1")
	one.Metadata.Set("occurred_at", "2026-01-02T03:04:05.123456789Z")
	batch := message.NewMessage("0190a000-0000-7000-8000-000000000002+2", []byte(`[{"id":"a"},{"id":"b"}]`))
	batch.Metadata.Set("batch", "2")
	batch.Metadata.Set("name", "demo.item_created.v1")
	other := message.NewMessage("0190a000-0000-7000-8000-000000000004", []byte(`{"id":"o1"}`))
	other.Metadata.Set("name", "demo.item_renamed.v1")
	if err := tp.Publisher().Publish(events.Topic("demo"), one, other, batch); err != nil {
		t.Fatal(err)
	}
	if err := tp.Publisher().Publish("demo", one); err == nil {
		t.Fatal("a topic not made by events.Topic was published")
	}
	for _, name := range []string{"", "audit.item_created.v1"} {
		m := message.NewMessage("0190a000-0000-7000-8000-000000000005", []byte(`{}`))
		m.Metadata.Set("name", name)
		if err := tp.Publisher().Publish(events.Topic("demo"), m); err == nil {
			t.Fatalf("a message naming event %q was published on demo's topic", name)
		}
	}

	// Stored: three messages, each on its event's subject, named by their UUID.
	if n := streamMsgs(t, js, cfg.Stream); n != 3 {
		t.Fatalf("the stream holds %d messages, want 3", n)
	}
	for seq, want := range map[uint64]*message.Message{1: one, 2: other, 3: batch} {
		raw, err := js.GetMsg(cfg.Stream, seq)
		if err != nil {
			t.Fatal(err)
		}
		subject := cfg.SubjectPrefix + "." + want.Metadata.Get("name")
		if raw.Subject != subject || raw.Header.Get(nats.MsgIdHdr) != want.UUID {
			t.Errorf("message %d: subject %q, Nats-Msg-Id %q; want %q, %q", seq, raw.Subject, raw.Header.Get(nats.MsgIdHdr), subject, want.UUID)
		}
	}

	// A consumer of one event of the module gets only that event's
	// messages; one that does not say what it handles gets them all.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for consumer, tt := range map[string]struct {
		events []string
		want   []*message.Message
		filter string
	}{
		"audit.raw": {[]string{"demo.item_created.v1", "other.thing_done.v1"}, []*message.Message{one, batch}, cfg.SubjectPrefix + ".demo.item_created.v1"},
		"audit.all": {nil, []*message.Message{one, other, batch}, cfg.SubjectPrefix + ".demo.>"},
	} {
		sub, err := tp.Subscriber(consumer, tt.events...)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := sub.Subscribe(ctx, events.Topic("demo"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range tt.want {
			select {
			case got := <-ch:
				if got.UUID != want.UUID || string(got.Payload) != string(want.Payload) || !sameMetadata(got.Metadata, want.Metadata) {
					t.Errorf("%s received %s %s %v, want %s %s %v", consumer, got.UUID, got.Payload, got.Metadata, want.UUID, want.Payload, want.Metadata)
				}
				got.Ack()
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: message %s not received", consumer, want.UUID)
			}
		}
		durable := strings.ReplaceAll(consumer, ".", "-") + "-demo"
		info, err := js.ConsumerInfo(cfg.Stream, durable)
		if err != nil {
			t.Fatalf("durable %s: %v", durable, err)
		}
		if c := info.Config; c.MaxAckPending != 1 || c.AckPolicy != nats.AckExplicitPolicy || c.DeliverGroup != durable ||
			c.FilterSubject != tt.filter || c.DeliverPolicy != nats.DeliverAllPolicy || c.MaxDeliver != -1 {
			t.Errorf("durable %s config %+v", durable, c)
		}
		if info.Delivered.Consumer != uint64(len(tt.want)) || info.NumPending != 0 {
			t.Errorf("durable %s delivered %d messages, %d pending; want %d, 0", durable, info.Delivered.Consumer, info.NumPending, len(tt.want))
		}
	}
	if _, err := tp.Subscriber("not a consumer name"); err == nil {
		t.Fatal("a consumer name that makes no NATS durable was accepted")
	}
	sinfo, err := js.StreamInfo(cfg.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if c := sinfo.Config; c.Storage != nats.FileStorage || c.Retention != nats.LimitsPolicy || c.MaxAge != 7*24*time.Hour ||
		c.Duplicates != 5*time.Minute || len(c.Subjects) != 1 || c.Subjects[0] != cfg.SubjectPrefix+".>" {
		t.Errorf("stream config %+v", c)
	}
}

func sameMetadata(a, b message.Metadata) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A relay that publishes rows again (a crash between publish and marking
// them sent) or the same message sent twice is stored once: the consumers
// see it once, and their inboxes see no duplicate.
func TestNATSStreamDropsRepublishedMessages(t *testing.T) {
	t.Parallel()
	cfg := natsConfig(t)
	tr := transport{name: "nats", nats: &cfg}
	js := jetStream(t, cfg)
	db := testkit.SQLite(t)
	s, demo := shopOn(t, tr, db, &Hooks{})
	ctx := t.Context()
	bus := s.Runtime.Bus()
	if err := demo.Create(ctx, ItemCreated{ID: "dup-1", Aggregate: "d", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if err := bus.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	g := peek(t, db)
	waitCount(t, g, 10*time.Second, 1, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'")

	if err := g.Exec("UPDATE demo_outbox SET published_at = NULL").Error; err != nil {
		t.Fatal(err)
	}
	if err := bus.Drain(ctx); err != nil {
		t.Fatal(err)
	}
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
	if n := streamMsgs(t, js, cfg.Stream); n != 1 {
		t.Fatalf("the stream holds %d messages, want 1", n)
	}
	time.Sleep(200 * time.Millisecond) // would a second copy arrive?
	if n := count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'"); n != 1 {
		t.Fatalf("audit.record applied the event %d times", n)
	}
	for _, c := range []string{"audit.record", "audit.count", "audit.poison"} {
		if got := metric(t, s, `modshop_events_duplicates_total{consumer="`+c+`"}`); got != 0 {
			t.Errorf("%s: duplicates_total = %v, want 0", c, got)
		}
		if got := metric(t, s, `modshop_events_handled_total{consumer="`+c+`"}`); got != 1 {
			t.Errorf("%s: handled_total = %v, want 1", c, got)
		}
	}
}

// Two processes run the same consumers (replicas, on the module's one
// database): they share the messages, each handled once in all, in order.
func TestNATSReplicasShareAConsumer(t *testing.T) {
	t.Parallel()
	cfg := natsConfig(t)
	tr := transport{name: "nats", nats: &cfg}
	db := testkit.SQLite(t)
	h := &Hooks{}
	a, demo := shopOn(t, tr, db, h)
	b, _ := shopOn(t, tr, db, h)
	ctx := t.Context()
	const n = 40
	for _, e := range ids("rep", n) {
		if err := demo.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
		if err := a.Runtime.Bus().Drain(ctx); err != nil { // a message per event
			t.Fatal(err)
		}
	}
	g := peek(t, db)
	waitCount(t, g, 20*time.Second, n, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'")
	waitCount(t, g, 20*time.Second, n, "SELECT n FROM audit_counts")
	if got := count(t, g, "SELECT COUNT(DISTINCT event_id) FROM audit_log WHERE consumer = 'audit.record'"); got != n {
		t.Fatalf("%d distinct events handled, want %d", got, n)
	}
	var seqs []int
	if err := g.Raw("SELECT seq FROM audit_log WHERE consumer = 'audit.record' ORDER BY n").Scan(&seqs).Error; err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("handled in the order %v", seqs)
		}
	}
	for _, c := range []string{"audit.record", "audit.count"} {
		series := `modshop_events_handled_total{consumer="` + c + `"}`
		ha, hb := metric(t, a, series), metric(t, b, series)
		if ha+hb != n || ha == 0 || hb == 0 {
			t.Errorf("%s handled %v + %v events, want %d shared by both", c, ha, hb, n)
		}
		dups := `modshop_events_duplicates_total{consumer="` + c + `"}`
		if da, dbb := metric(t, a, dups), metric(t, b, dups); da+dbb != 0 {
			t.Errorf("%s saw %v duplicates: both replicas got the same message", c, da+dbb)
		}
	}
}

// The stream outlives the processes: events published while no consumer
// runs are all handled, in order, by a consumer that starts later; a
// consumer that stops and starts again goes on where it was (its durable
// stays), without seeing the old events again.
func TestNATSConsumerStartedLaterGetsEverything(t *testing.T) {
	t.Parallel()
	cfg := natsConfig(t)
	tr := transport{name: "nats", nats: &cfg}
	js := jetStream(t, cfg)
	db := testkit.SQLite(t)
	h := &Hooks{}
	g := peek(t, db)

	publish := func(prefix string, n int) {
		t.Helper()
		p, demo := process(t, tr, db, h, "demo")
		for i, e := range ids(prefix, n) {
			if i%10 == 0 { // some alone, some in a batch
				if err := demo.Create(t.Context(), e); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := demo.CreateMany(t.Context(), []ItemCreated{e}); err != nil {
				t.Fatal(err)
			}
		}
		p.Stop() // publishes what is left
		if n := count(t, g, "SELECT COUNT(*) FROM demo_outbox WHERE published_at IS NULL"); n != 0 {
			t.Fatalf("%d events left in the outbox", n)
		}
	}
	publish("early", 30) // audit has not even migrated yet

	c, _ := process(t, tr, db, h, "audit")
	waitCount(t, g, 15*time.Second, 30, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'")
	var seqs []int
	if err := g.Raw("SELECT seq FROM audit_log WHERE consumer = 'audit.record' ORDER BY n").Scan(&seqs).Error; err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("handled in the order %v", seqs)
		}
	}
	waitMetric(t, c, `modshop_events_handled_total{consumer="audit.count"}`, 30)
	c.Stop()
	for _, d := range []string{"audit-record-demo", "audit-count-demo", "audit-poison-demo"} {
		info, err := js.ConsumerInfo(cfg.Stream, d)
		if err != nil {
			t.Fatalf("durable %s after its process stopped: %v", d, err)
		}
		if info.NumPending != 0 || info.NumAckPending != 0 {
			t.Errorf("durable %s: %d pending, %d unacked", d, info.NumPending, info.NumAckPending)
		}
	}

	publish("late", 10)
	c2, _ := process(t, tr, db, h, "audit")
	waitCount(t, g, 15*time.Second, 40, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.record'")
	waitMetric(t, c2, `modshop_events_handled_total{consumer="audit.record"}`, 10)
	if got := metric(t, c2, `modshop_events_duplicates_total{consumer="audit.record"}`); got != 0 {
		t.Errorf("the restarted consumer saw %v old events again", got)
	}
}

// A nacked message comes back after a pause, and the topic's next message
// waits for it: order holds across redeliveries.
func TestNATSNackedMessageComesBackInOrder(t *testing.T) {
	t.Parallel()
	cfg := natsConfig(t)
	tp, err := events.NewNATS(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	for i := 1; i <= 3; i++ {
		m := message.NewMessage(fmt.Sprintf("m%d", i), []byte(`{}`))
		m.Metadata.Set("name", "demo.item_created.v1")
		if err := tp.Publisher().Publish(events.Topic("demo"), m); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := tp.Subscriber("audit.order")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := sub.Subscribe(ctx, events.Topic("demo"))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	var pauses []time.Duration
	last := time.Now()
	for len(seen) < 5 {
		select {
		case m := <-ch:
			seen = append(seen, m.UUID)
			if m.UUID == "m2" {
				pauses = append(pauses, time.Since(last))
			}
			last = time.Now()
			if m.UUID == "m2" && len(pauses) < 3 {
				m.Nack()
				continue
			}
			m.Ack()
		case <-time.After(10 * time.Second):
			t.Fatalf("stuck after %v", seen)
		}
	}
	if got := strings.Join(seen, " "); got != "m1 m2 m2 m2 m3" {
		t.Fatalf("deliveries %s, want m1 m2 m2 m2 m3", got)
	}
	// NakDelay is 50 ms here, doubling with each delivery.
	if pauses[1] < 40*time.Millisecond || pauses[2] < 90*time.Millisecond {
		t.Errorf("redelivery pauses %v, want about 50 ms then 100 ms", pauses[1:])
	}
}

// NATS that does not answer: the transport is made (the process starts and
// retries), Ping says why it is not ready, Publish fails at once, and the
// relay keeps the events in the outbox and retries with backoff. Needs no
// NATS server.
func TestNATSDownFailsFastAndKeepsTheOutbox(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + l.Addr().String()
	l.Close() // nothing listens there now
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tp, err := events.NewNATS(events.NATSConfig{URL: url}, log)
	if err != nil {
		t.Fatalf("NewNATS with NATS down: %v", err)
	}
	defer tp.Close()
	if err := tp.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Fatalf("Ping = %v, want not connected", err)
	}
	start := time.Now()
	m := message.NewMessage("x", []byte(`{}`))
	m.Metadata.Set("name", "demo.item_created.v1")
	if err := tp.Publisher().Publish(events.Topic("demo"), m); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Fatalf("Publish with NATS down = %v, want not connected", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Publish took %s to fail", d)
	}
	if _, err := tp.Subscriber("audit.record"); err != nil {
		t.Fatalf("Subscriber: %v", err) // made now, subscribes when the bus starts
	}

	dbURL := testkit.SQLite(t).URL
	reg := database.NewRegistry(func(string) string { return dbURL }, log, nil)
	defer reg.Close()
	h, _ := reg.For("demo")
	if _, err := database.Migrate(t.Context(), h, events.Migrations("demo")); err != nil {
		t.Fatal(err)
	}
	bus := events.NewBus(tp, nil, log)
	if err := (&Demo{ob: bus.Outbox(h)}).CreateMany(t.Context(), ids("down", 3)); err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(t.Context()); err != nil { // no consumer: nothing to subscribe
		t.Fatal(err)
	}
	g := h.Conn(t.Context())
	testkit.Eventually(t, 5*time.Second, func() bool {
		var row struct {
			Attempts  int
			LastError string
		}
		g.Raw("SELECT MIN(attempts) AS attempts, MIN(last_error) AS last_error FROM demo_outbox WHERE published_at IS NULL").Scan(&row)
		return row.Attempts >= 2 && strings.Contains(row.LastError, "not connected")
	}, "the relay retries the 3 events")
	if st := bus.OutboxStats(t.Context()); len(st) != 1 || st[0].Depth != 3 {
		t.Fatalf("outbox %+v, want the 3 events waiting", st)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_ = bus.Stop(ctx) // the events are not due yet, or their publish fails
	if st := bus.OutboxStats(t.Context()); len(st) != 1 || st[0].Depth != 3 {
		t.Fatalf("outbox %+v after Stop, want the 3 events kept", st)
	}
}

// MODSHOP_NATS_URL makes the process use the NATS transport (wired in
// platform/app); with NATS down the process is still made. Needs no server.
func TestNATSURLSelectsTheNATSTransport(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + l.Addr().String()
	l.Close()
	env := map[string]string{"MODSHOP_DATABASE_URL": testkit.SQLite(t).URL, "MODSHOP_DATA_DIR": t.TempDir(),
		"MODSHOP_JWT_SECRET": testkit.JWTSecret, "MODSHOP_NATS_URL": url}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, environ, app.Names(mods(&Hooks{})))
	if err != nil {
		t.Fatal(err)
	}
	var tp events.Transport
	a := app.New(cfg, mods(&Hooks{}), io.Discard, fx.Populate(&tp))
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	if tp.Name() != "nats" {
		t.Fatalf("transport %s, want nats", tp.Name())
	}
	if err := tp.Ping(t.Context()); err == nil {
		t.Fatal("Ping succeeded with nothing listening")
	}
}

// A NATS server of the test's own (the shared one must not be stopped) goes
// away and comes back: the transport reconnects by itself, and the events
// written meanwhile flow once it is back. Needs the nats-server binary.
func TestNATSReconnectsAndCatchesUp(t *testing.T) {
	t.Parallel()
	natsConfig(t) // the NATS suite runs
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server not in PATH: cannot run a NATS server of the test's own")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	store := t.TempDir()
	var srv *exec.Cmd
	var mu sync.Mutex
	startServer := func() {
		mu.Lock()
		defer mu.Unlock()
		srv = exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", filepath.Join(store, "js"))
		srv.Stdout, srv.Stderr = io.Discard, io.Discard
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
	}
	stopServer := func() {
		mu.Lock()
		defer mu.Unlock()
		if srv != nil {
			_ = srv.Process.Signal(os.Interrupt)
			_ = srv.Wait()
			srv = nil
		}
	}
	t.Cleanup(stopServer)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := events.NATSConfig{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), NakDelay: 50 * time.Millisecond, AckWait: 5 * time.Second}
	tp, err := events.NewNATS(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	url := testkit.SQLite(t).URL
	reg := database.NewRegistry(func(string) string { return url }, log, nil)
	defer reg.Close()
	demoDB, _ := reg.For("demo")
	auditDB, _ := reg.For("audit")
	for _, set := range []database.MigrationSet{events.Migrations("demo"), events.Migrations("audit"),
		{Module: "audit", Component: "module", Migrations: []database.Migration{{Version: 1, Name: "seen",
			SQL: "CREATE TABLE audit_seen (n BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL, seq INTEGER NOT NULL);"}}}} {
		h, _ := reg.For(set.Module)
		if _, err := database.Migrate(t.Context(), h, set); err != nil {
			t.Fatal(err)
		}
	}
	bus := events.NewBus(tp, nil, log)
	demo := &Demo{ob: bus.Outbox(demoDB)}
	bus.Subscribe(bus.Outbox(auditDB).Consumer("seen", events.On(func(_ context.Context, tx *events.Tx, e ItemCreated) error {
		return tx.Exec("INSERT INTO audit_seen (event_id, seq) VALUES (?, ?)", e.ID, e.Seq).Error
	})))
	defer bus.Stop(context.Background())
	g := auditDB.Conn(t.Context())
	seen := func(want int64) {
		t.Helper()
		waitCount(t, g, 15*time.Second, want, "SELECT COUNT(*) FROM audit_seen")
		var seqs []int
		g.Raw("SELECT seq FROM audit_seen ORDER BY n").Scan(&seqs)
		for i, s := range seqs {
			if s != i+1 {
				t.Fatalf("handled in the order %v", seqs)
			}
		}
	}
	evs := ids("rc", 10)

	// Down at start: the bus cannot start (as app's boot, retry), the
	// events wait in the outbox.
	if err := demo.CreateMany(t.Context(), evs[:5]); err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(t.Context()); err == nil {
		t.Fatal("the bus started with NATS down")
	}
	begin := time.Now()
	startServer()
	testkit.Eventually(t, 10*time.Second, func() bool { return bus.Start(t.Context()) == nil }, "the bus starts once NATS is up")
	t.Logf("started %s after NATS", time.Since(begin))
	if err := tp.Ping(t.Context()); err != nil {
		t.Fatalf("Ping with NATS up: %v", err)
	}
	seen(5)
	t.Logf("5 events handled %s after NATS", time.Since(begin))

	// Goes away: Ping says so, the new events wait; back: they flow.
	stopServer()
	testkit.Eventually(t, 10*time.Second, func() bool { return tp.Ping(t.Context()) != nil }, "Ping reports NATS down")
	if err := demo.CreateMany(t.Context(), evs[5:]); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() bool {
		return count(t, g, "SELECT COUNT(*) FROM demo_outbox WHERE published_at IS NULL AND attempts > 0") == 5
	}, "the relay retries the new events")
	begin = time.Now()
	startServer()
	testkit.Eventually(t, 15*time.Second, func() bool { return tp.Ping(t.Context()) == nil }, "Ping with NATS back")
	t.Logf("Ping ok %s after NATS came back", time.Since(begin))
	seen(10)
	t.Logf("10 events handled %s after NATS came back", time.Since(begin))
	if n := count(t, g, "SELECT COUNT(DISTINCT event_id) FROM audit_seen"); n != 10 {
		t.Fatalf("%d distinct events handled, want 10", n)
	}
	begin = time.Now()
	if err := bus.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Fatalf("Stop took %s", d) // a subscriber left over from a failed start must not hold it up
	}
}
