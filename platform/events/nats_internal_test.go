package events

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// Names and subjects need no server: a transport to an address where
// nothing listens is enough.
func offlineNATS(t *testing.T, cfg NATSConfig) *NATS {
	t.Helper()
	cfg.URL = "nats://127.0.0.1:1"
	tp, err := NewNATS(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	return tp
}

func TestNATSNames(t *testing.T) {
	t.Parallel()
	tp := offlineNATS(t, NATSConfig{})
	if c := tp.Config(); c.Stream != "MODSHOP_EVENTS" || c.SubjectPrefix != "modshop.events" || c.MaxAge != 7*24*time.Hour ||
		c.Duplicates != 5*time.Minute || c.AckWait != 30*time.Second || c.Replicas != 1 {
		t.Fatalf("defaults %+v", c)
	}
	named := func(event string) *message.Message {
		m := message.NewMessage("m", nil)
		m.Metadata.Set(nameMetadata, event)
		return m
	}
	subject, err := tp.subject(Topic("catalog"), named("catalog.product_published.v1"))
	if err != nil || subject != "modshop.events.catalog.product_published.v1" {
		t.Fatalf("subject of catalog.product_published.v1 = %q, %v", subject, err)
	}
	for _, topic := range []string{"catalog", "modshop.events.", "modshop.events.a.b", "modshop.events.*", "modshop.events.>", "modshop.events.a b"} {
		if s, err := tp.subject(topic, named("catalog.product_published.v1")); err == nil {
			t.Errorf("topic %q made subject %q", topic, s)
		}
	}
	// The event must be the topic's module's, and make a subject.
	for _, event := range []string{"", "catalog", "search.product_published.v1", "catalog..v1", "catalog.*", "catalog.>", "catalog.a b", "catalog."} {
		if s, err := tp.subject(Topic("catalog"), named(event)); err == nil {
			t.Errorf("event %q on catalog's topic made subject %q", event, s)
		}
	}
	// A durable listens on the subject of its one event of a module, or on
	// the module's whole subject.
	for _, tt := range []struct {
		events []string
		want   string
	}{
		{[]string{"catalog.variant_created.v1"}, "modshop.events.catalog.variant_created.v1"},
		{[]string{"catalog.variant_created.v1", "inventory.stock_changed.v1"}, "modshop.events.catalog.variant_created.v1"},
		{[]string{"catalog.variant_created.v1", "catalog.product_published.v1"}, "modshop.events.catalog.>"},
		{nil, "modshop.events.catalog.>"},
	} {
		if f, err := tp.filter(Topic("catalog"), tt.events); err != nil || f != tt.want {
			t.Errorf("filter for %v = %q, %v; want %q", tt.events, f, err, tt.want)
		}
	}
	base, err := durableBase("search.read_model")
	if err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{subject, "modshop.events.catalog.>"} {
		if d := tp.durable(base, subject); d != "search-read_model-catalog" {
			t.Errorf("durable for %s = %q", subject, d)
		}
	}
	for _, name := range []string{"search", "search.", ".x", "a.b.c", "a.b-c", "a b.c", "a.*", "a.>"} {
		if b, err := durableBase(name); err == nil {
			t.Errorf("consumer name %q made durable base %q", name, b)
		}
	}

	other := offlineNATS(t, NATSConfig{Stream: "MODSHOP_T_1", SubjectPrefix: "t1.events"})
	if s, _ := other.subject(Topic("demo"), named("demo.x.v1")); s != "t1.events.demo.x.v1" {
		t.Errorf("subject with prefix t1.events = %q", s)
	}
	if s := other.deliverSubject("audit-record-demo"); s != "_modshop.deliver.MODSHOP_T_1.audit-record-demo" {
		t.Errorf("deliver subject %q", s)
	}
}

func TestNATSConfigIsChecked(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, cfg := range []NATSConfig{
		{},
		{URL: "nats://x:4222", Stream: "A.B"},
		{URL: "nats://x:4222", Stream: "A B"},
		{URL: "nats://x:4222", SubjectPrefix: "a.>"},
		{URL: "nats://x:4222", SubjectPrefix: "a..b"},
		{URL: "nats://x:4222", MaxAge: time.Minute, Duplicates: time.Hour},
	} {
		if tp, err := NewNATS(cfg, log); err == nil {
			tp.Close()
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

func TestNakBackoff(t *testing.T) {
	t.Parallel()
	b := nakBackoff{first: time.Second}
	for delivered, want := range map[uint64]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 6: 30 * time.Second, 1000: 30 * time.Second} {
		if got := b.WaitTime(delivered); got != want {
			t.Errorf("WaitTime(%d) = %s, want %s", delivered, got, want)
		}
	}
}

// The marshaler keeps UUID, payload and metadata, and reads any message,
// even one modshop did not send (one it could not read would never be acked
// and would hold its consumer).
func TestNATSMarshaler(t *testing.T) {
	t.Parallel()
	msg := message.NewMessage("e1", []byte(`{"a":1}`))
	msg.Metadata.Set("name", "demo.item_created.v1")
	msg.Metadata.Set("key", "k")
	msg.Metadata.Set("occurred_at", "2026-01-02T03:04:05Z")
	nm, err := (natsMarshaler{}).Marshal("modshop.events.demo", msg)
	if err != nil {
		t.Fatal(err)
	}
	if nm.Subject != "modshop.events.demo" {
		t.Errorf("subject %q", nm.Subject)
	}
	nm.Header.Set(nats.MsgIdHdr, "e1") // as JetStream stores it
	back, err := (natsMarshaler{}).Unmarshal(nm)
	if err != nil {
		t.Fatal(err)
	}
	if back.UUID != "e1" || string(back.Payload) != `{"a":1}` || len(back.Metadata) != 3 ||
		back.Metadata.Get("name") != "demo.item_created.v1" || back.Metadata.Get("key") != "k" || back.Metadata.Get("occurred_at") != "2026-01-02T03:04:05Z" {
		t.Fatalf("round trip: %s %s %v", back.UUID, back.Payload, back.Metadata)
	}

	foreign := &nats.Msg{Subject: "modshop.events.demo", Data: []byte("?"), Header: nats.Header{"X": {"1", "2"}, nats.MsgIdHdr: {"m9"}}}
	m, err := (natsMarshaler{}).Unmarshal(foreign)
	if err != nil || m.UUID != "m9" || m.Metadata.Get("X") != "1" {
		t.Fatalf("foreign message: %v %+v", err, m)
	}
	if msgs, err := decodeMessage(m); err != nil || len(msgs) != 1 || msgs[0].Name != "" {
		t.Fatalf("a foreign message decodes to %+v, %v: want one event no consumer handles", msgs, err)
	}
	empty := &nats.Msg{Subject: "x"}
	if _, err := (natsMarshaler{}).Unmarshal(empty); err != nil {
		t.Fatal(err)
	}
}

func TestValidNames(t *testing.T) {
	t.Parallel()
	tokens := map[string]bool{"a": true, "A_1": true, "": false, "a-b": false, "a.b": false, "é": false}
	for s, want := range tokens {
		if validToken(s) != want {
			t.Errorf("validToken(%q) = %v", s, !want)
		}
	}
	names := map[string]bool{"MODSHOP_EVENTS": true, "a-b": true, "": false, "a.b": false, "a>": false, strings.Repeat("x", 3): true}
	for s, want := range names {
		if validNATSName(s) != want {
			t.Errorf("validNATSName(%q) = %v", s, !want)
		}
	}
}
