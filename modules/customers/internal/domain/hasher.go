package domain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
)

// HashMemoryBudget caps the argon2 memory all concurrent hashes of a process
// may hold at once; DefaultConcurrency derives the semaphore size from it.
const HashMemoryBudget = 256 << 20

// Hasher hashes and verifies passwords at one cost, and bounds how many
// hashes run at once.
//
// The bound is what keeps memory flat under a burst of sign-ins: each hash
// allocates Params.Memory, so N concurrent sign-ins would hold N times that.
// Waiting callers queue on a channel and give up with their context.
type Hasher struct {
	params Params
	slots  chan struct{}
	// fresh bounds the slots new hashes (registrations, rehashes) may
	// hold to all but one, so a sign-in's verification never queues
	// behind a flood of registrations: it waits at most for other
	// sign-ins.
	fresh chan struct{}
	// dummy is a hash of a random password at the current cost. Sign-ins for
	// unknown e-mails verify against it, so they take as long as a wrong
	// password for a real account.
	dummy string
}

// DefaultConcurrency is one hash per core (a one-lane argon2id hash is pure
// CPU: more in flight than cores only interleaves them and multiplies the
// memory held), capped so that all of them together fit HashMemoryBudget.
func DefaultConcurrency(p Params) int {
	n := runtime.GOMAXPROCS(0)
	if byBudget := int(HashMemoryBudget / max(p.MemoryBytes(), 1)); n > byBudget {
		n = byBudget
	}
	return max(n, 1)
}

// NewHasher makes a hasher for new hashes at cost p that runs at most
// concurrency hashes at once.
func NewHasher(p Params, concurrency int) (*Hasher, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if concurrency < 1 {
		return nil, fmt.Errorf("hasher concurrency %d: must be at least 1", concurrency)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("dummy password: %w", err)
	}
	dummy, err := hashPassword(hex.EncodeToString(secret), p)
	if err != nil {
		return nil, err
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency), fresh: make(chan struct{}, max(concurrency-1, 1)), dummy: dummy}, nil
}

// Params is the cost of new hashes.
func (h *Hasher) Params() Params { return h.params }

// Concurrency is how many hashes may run at once.
func (h *Hasher) Concurrency() int { return cap(h.slots) }

// Hash hashes a new password at the current cost.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	select {
	case h.fresh <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("wait for a password hashing slot: %w", ctx.Err())
	}
	defer func() { <-h.fresh }()
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return hashPassword(password, h.params)
}

// Verify checks password against an encoded hash. rehash is true when the
// password matched and the hash's cost is below the current one.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	ok, p, err := verifyPassword(password, encoded)
	if err != nil {
		return false, false, err
	}
	return ok, ok && p.Below(h.params), nil
}

// VerifyDummy spends the time of a failed Verify, for an e-mail that has no
// account, and always reports no match.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a password hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }
