package events

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// A transport message carries one event, or several events of one topic in
// the order they were written.
//
// One event: the message UUID is the event id, the payload is the event's
// JSON, and metadata "name", "key" and "occurred_at" say the rest.
//
// A batch: metadata "batch" holds the number of events and the payload is a
// JSON array of envelopes. Consumers handle a batch in one transaction, so
// the relay and the consumers pay one commit for many events; the inbox
// still records every event id, so a redelivery changes nothing.
//
// Every message, batch or not, carries events of one name, given by its
// "name" metadata: a broker can route a message by its event (NATS puts it
// on the event's own subject), so that a consumer receives only the events
// it handles.
const batchMetadata = "batch"

// nameMetadata names the event(s) a message carries.
const nameMetadata = "name"

// traceMetadata holds the W3C traceparent of the request that published a
// lone event; in a batch each envelope carries its own.
const traceMetadata = "traceparent"

// maxBatchBytes bounds a batch message (NATS refuses messages over 1 MiB).
const maxBatchBytes = 512 << 10

type envelope struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Key        string          `json:"key"`
	OccurredAt time.Time       `json:"occurred_at"`
	Payload    json.RawMessage `json:"payload"`
	Trace      string          `json:"traceparent,omitempty"`
}

// encodeRows makes the messages for rows, in order: a message of its own
// for a row alone or between rows of other names, batches of at most
// maxBatchBytes of consecutive rows of one name otherwise.
func encodeRows(rows []outboxRow) ([]*message.Message, error) {
	var out []*message.Message
	for start := 0; start < len(rows); {
		size, end := 0, start
		for end < len(rows) && rows[end].Name == rows[start].Name && (end == start || size+len(rows[end].Payload) <= maxBatchBytes) {
			size += len(rows[end].Payload) + 128
			end++
		}
		if end == start+1 {
			row := rows[start]
			msg := message.NewMessage(row.EventID, []byte(row.Payload))
			msg.Metadata.Set(nameMetadata, row.Name)
			msg.Metadata.Set("key", row.Key)
			msg.Metadata.Set("occurred_at", row.CreatedAt.Format(time.RFC3339Nano))
			if row.TraceParent != "" {
				msg.Metadata.Set(traceMetadata, row.TraceParent)
			}
			out = append(out, msg)
			start = end
			continue
		}
		batch := make([]envelope, 0, end-start)
		for _, row := range rows[start:end] {
			if !json.Valid([]byte(row.Payload)) {
				return nil, fmt.Errorf("event %s %s: the payload is not JSON", row.Name, row.EventID)
			}
			batch = append(batch, envelope{ID: row.EventID, Name: row.Name, Key: row.Key, OccurredAt: row.CreatedAt, Payload: json.RawMessage(row.Payload), Trace: row.TraceParent})
		}
		payload, err := json.Marshal(batch)
		if err != nil {
			return nil, err
		}
		// The first event's id and the count name the batch: the same rows
		// sent again make the same message id.
		msg := message.NewMessage(batch[0].ID+"+"+strconv.Itoa(len(batch)), payload)
		msg.Metadata.Set(batchMetadata, strconv.Itoa(len(batch)))
		msg.Metadata.Set(nameMetadata, batch[0].Name)
		out = append(out, msg)
		start = end
	}
	return out, nil
}

// decodeMessage returns the events a message carries.
func decodeMessage(wm *message.Message) ([]Message, error) {
	if wm.Metadata.Get(batchMetadata) == "" {
		m := Message{ID: wm.UUID, Name: wm.Metadata.Get(nameMetadata), Key: wm.Metadata.Get("key"), Payload: wm.Payload, Trace: wm.Metadata.Get(traceMetadata)}
		m.OccurredAt, _ = time.Parse(time.RFC3339Nano, wm.Metadata.Get("occurred_at"))
		return []Message{m}, nil
	}
	var batch []envelope
	if err := json.Unmarshal(wm.Payload, &batch); err != nil {
		return nil, fmt.Errorf("decode batch %s: %w", wm.UUID, err)
	}
	out := make([]Message, len(batch))
	for i, e := range batch {
		out[i] = Message{ID: e.ID, Name: e.Name, Key: e.Key, OccurredAt: e.OccurredAt, Payload: e.Payload, Trace: e.Trace}
	}
	return out, nil
}
