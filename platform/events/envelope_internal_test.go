package events

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func rowsOf(n, payloadBytes int) []outboxRow {
	rows := make([]outboxRow, n)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for i := range rows {
		rows[i] = outboxRow{Seq: int64(i + 1), EventID: fmt.Sprintf("e%03d", i), Name: "demo.x.v1", Key: fmt.Sprintf("k%d", i%3),
			Payload: fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", payloadBytes)), CreatedAt: at.Add(time.Duration(i))}
	}
	return rows
}

// named gives rows the names, in order.
func named(rows []outboxRow, names ...string) []outboxRow {
	for i := range rows {
		rows[i].Name = names[i]
	}
	return rows
}

func TestEncodeRowsRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rows     []outboxRow
		messages int
	}{
		{"one row is a plain message", rowsOf(1, 10), 1},
		{"a few rows are one batch", rowsOf(5, 10), 1},
		{"200 small rows are one batch", rowsOf(200, 100), 1},
		{"large rows split by size", rowsOf(20, 100<<10), 4},
		{"a row larger than the bound travels alone", rowsOf(3, maxBatchBytes+1), 3},
		{"a batch holds events of one name", named(rowsOf(7, 10), "demo.x.v1", "demo.x.v1", "demo.y.v1", "demo.x.v1", "demo.x.v1", "demo.x.v1", "demo.y.v1"), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msgs, err := encodeRows(tt.rows)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != tt.messages {
				t.Fatalf("%d messages, want %d", len(msgs), tt.messages)
			}
			var got []Message
			for _, wm := range msgs {
				if len(wm.Payload) > maxBatchBytes+len(tt.rows[0].Payload)+1024 {
					t.Fatalf("a message of %d bytes", len(wm.Payload))
				}
				ms, err := decodeMessage(wm)
				if err != nil {
					t.Fatal(err)
				}
				if (len(ms) > 1) != (wm.Metadata.Get(batchMetadata) != "") {
					t.Fatalf("a message of %d events has batch metadata %q", len(ms), wm.Metadata.Get(batchMetadata))
				}
				for _, m := range ms {
					if m.Name != wm.Metadata.Get(nameMetadata) {
						t.Fatalf("a message named %q carries a %s", wm.Metadata.Get(nameMetadata), m.Name)
					}
				}
				got = append(got, ms...)
			}
			if len(got) != len(tt.rows) {
				t.Fatalf("%d events decoded, want %d", len(got), len(tt.rows))
			}
			for i, m := range got {
				r := tt.rows[i]
				if m.ID != r.EventID || m.Name != r.Name || m.Key != r.Key || string(m.Payload) != r.Payload || !m.OccurredAt.Equal(r.CreatedAt) {
					t.Fatalf("event %d = %+v, want row %+v", i, m, r)
				}
			}
		})
	}
}

func TestEncodeRowsRefusesNonJSON(t *testing.T) {
	t.Parallel()
	rows := rowsOf(2, 1)
	rows[1].Payload = "not json"
	if _, err := encodeRows(rows); err == nil {
		t.Fatal("a payload that is not JSON was batched")
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	want := map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 5: 1600 * time.Millisecond, 9: 25600 * time.Millisecond, 10: 30 * time.Second, 100: 30 * time.Second}
	for attempt, d := range want {
		if got := backoff(attempt); got != d {
			t.Errorf("backoff(%d) = %s, want %s", attempt, got, d)
		}
	}
}
