package events

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

// FuzzDecodeMessage feeds what arrives from the bus (a message's payload
// and metadata, a batch or a single event) to the envelope decoder: it
// never panics, and a batch it accepts gives one event per envelope.
// Seeds: testdata/fuzz/FuzzDecodeMessage.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`[{"id":"1","name":"catalog.product_created.v1","key":"p","occurred_at":"2026-01-01T00:00:00Z","payload":{"a":1}}]`), true, "x", "2026-01-01T00:00:00Z")
	f.Add([]byte(`{"a":1}`), false, "inventory.stock_changed.v1", "not a time")
	f.Add([]byte(`[{"payload":"x"}, null, 1]`), true, "", "")
	f.Add([]byte("\xff\x00"), true, "", "")
	f.Fuzz(func(t *testing.T, payload []byte, batch bool, name, occurred string) {
		wm := message.NewMessage("uuid-1", payload)
		wm.Metadata.Set(nameMetadata, name)
		wm.Metadata.Set("occurred_at", occurred)
		if batch {
			wm.Metadata.Set(batchMetadata, "1")
		}
		msgs, err := decodeMessage(wm)
		if err == nil && !batch && len(msgs) != 1 {
			t.Fatalf("a single event gave %d", len(msgs))
		}
	})
}
