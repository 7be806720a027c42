package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// An OnBatch route gets the new events of a message in one call, in order,
// without the ones its inbox already holds; when its batch fails, each
// event is handled again alone, so a poison event is dead-lettered and the
// others are handled once.
func TestOnBatchTakesAMessagesNewEventsAtOnce(t *testing.T) {
	h := outboxFor(t, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"), "demo")
	if err := h.Gorm.Exec("CREATE TABLE demo_seen (n INTEGER PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	bus := NewBus(&recorder{}, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ob := bus.Outbox(h)
	var calls [][]int
	poison := 13
	c := ob.Consumer("batch", OnBatch(func(_ context.Context, tx *Tx, es []tick) error {
		var ns []int
		for _, e := range es {
			if e.N == poison {
				return errors.New("poison")
			}
			ns = append(ns, e.N)
			if err := tx.Exec("INSERT INTO demo_seen (n) VALUES (?)", e.N).Error; err != nil {
				return err
			}
		}
		calls = append(calls, ns)
		return nil
	}))
	d := &delivery{c: c, metrics: bus.metrics, log: bus.log}
	deliver := func(ns ...int) {
		t.Helper()
		rows := make([]outboxRow, len(ns))
		for i, n := range ns {
			rows[i] = outboxRow{Seq: int64(n), EventID: fmt.Sprintf("id-%d", n), Name: tick{}.EventName(), Key: "k",
				Payload: fmt.Sprintf(`{"N":%d}`, n), CreatedAt: time.Now().UTC()}
		}
		msgs, err := encodeRows(rows)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("encode: %d messages, %v", len(msgs), err)
		}
		msgs[0].SetContext(t.Context())
		if err := d.handle(msgs[0]); err != nil {
			t.Fatal(err)
		}
	}
	seen := func() (ns []int) {
		if err := h.Gorm.Raw("SELECT n FROM demo_seen ORDER BY n").Scan(&ns).Error; err != nil {
			t.Fatal(err)
		}
		return ns
	}

	deliver(1, 2, 3)
	deliver(2, 3, 4, 5) // a redelivery overlapping the first: only 4 and 5 are new
	if want := [][]int{{1, 2, 3}, {4, 5}}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("batch calls %v, want %v", calls, want)
	}

	calls = nil
	wait := retryBaseWait
	retryBaseWait = time.Millisecond
	t.Cleanup(func() { retryBaseWait = wait })
	deliver(11, 12, 13, 14)
	if want := [][]int{{11}, {12}, {14}}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("after a failed batch, calls %v, want each event alone %v", calls, want)
	}
	if got := seen(); !slices.Equal(got, []int{1, 2, 3, 4, 5, 11, 12, 14}) {
		t.Fatalf("handled %v", got)
	}
	var dead int64
	h.Gorm.Raw("SELECT COUNT(*) FROM demo_dead_letters WHERE message_id = 'id-13'").Scan(&dead)
	if dead != 1 {
		t.Fatalf("the poison event has %d dead letters, want 1", dead)
	}
}
