package domain

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestNewHashesLeaveASlotForSignIns: with two slots, a registration in
// progress holds the only one new hashes may use; a second registration
// waits, a sign-in's verification does not.
func TestNewHashesLeaveASlotForSignIns(t *testing.T) {
	p := Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := NewHasher(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash(context.Background(), "password1")
	if err != nil {
		t.Fatal(err)
	}
	// A registration in progress.
	h.fresh <- struct{}{}
	h.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "another"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second new hash ran beside the first: %v", err)
	}
	ok, _, err := h.Verify(context.Background(), "password1", enc)
	if err != nil || !ok {
		t.Fatalf("a sign-in waited behind a registration: ok=%v err=%v", ok, err)
	}
}
