// Package provider is the payments module's port to a payment provider: the
// few calls the module needs, which a real provider (Stripe, Adyen) becomes
// one adapter of, and Test, the deterministic provider modshop runs with.
//
// Every call carries an idempotency key that the adapter hands the provider
// as its own idempotency key: the module calls again with the same key after
// a timeout or a crash, and the provider answers what it answered the first
// time instead of charging twice.
package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Provider is what the payments module asks of a payment provider.
type Provider interface {
	// Name names the provider in a payment ("test", "stripe").
	Name() string
	// CheckMethod tells, without a call, whether the provider can know the
	// method at all; ErrUnknownMethod when it cannot, so nothing is stored.
	CheckMethod(method string) error
	// Authorize holds amount on the method. A refusal is a *DeclineError; a
	// method the provider does not have is ErrUnknownMethod; any other error
	// leaves the outcome unknown, and the same key asks again.
	Authorize(ctx context.Context, key string, amount int64, currency, method string) (Authorization, error)
	// Capture takes amount of the authorization ref.
	Capture(ctx context.Context, key, ref string, amount int64) error
	// Void gives the authorization ref up.
	Void(ctx context.Context, key, ref string) error
	// Refund pays amount of the captured authorization ref back.
	Refund(ctx context.Context, key, ref string, amount int64) error
}

// Authorization is an approved authorization.
type Authorization struct {
	Ref   string // the provider's id of the authorization
	Brand string // visa, mastercard, ...
}

// DeclineError is the provider's refusal of an authorization, with its
// reason (card_declined, insufficient_funds).
type DeclineError struct{ Code string }

func (e *DeclineError) Error() string { return "declined: " + e.Code }

// ErrUnknownMethod is a payment method the provider does not have.
var ErrUnknownMethod = errors.New("unknown payment method")

// Declined is the decline code of err, if err is a refusal.
func Declined(err error) (string, bool) {
	var d *DeclineError
	if errors.As(err, &d) {
		return d.Code, true
	}
	return "", false
}

// TestName is the test provider's name.
const TestName = "test"

// testMethod is what the test provider answers for one of its methods.
type testMethod struct {
	brand   string // set when it approves
	decline string // set when it declines
}

var testMethods = map[string]testMethod{
	"pm_card_visa":              {brand: "visa"},
	"pm_card_mastercard":        {brand: "mastercard"},
	"pm_card_chargeDeclined":    {decline: "card_declined"},
	"pm_card_insufficientFunds": {decline: "insufficient_funds"},
}

// Test is the provider of the contract's test payment methods: pm_card_visa
// and pm_card_mastercard approve, pm_card_chargeDeclined and
// pm_card_insufficientFunds decline. It keeps no state: its answer follows
// from the method and the key alone, so it is as idempotent after a restart
// as a real provider is.
type Test struct{}

// NewTest makes the test provider.
func NewTest() Provider { return Test{} }

// Name is "test".
func (Test) Name() string { return TestName }

// CheckMethod knows the four test methods.
func (Test) CheckMethod(method string) error {
	if _, ok := testMethods[method]; !ok {
		return ErrUnknownMethod
	}
	return nil
}

// Authorize approves or declines by method; the reference follows from the
// key, so the same key always names the same authorization.
func (t Test) Authorize(ctx context.Context, key string, amount int64, currency, method string) (Authorization, error) {
	if err := ctx.Err(); err != nil {
		return Authorization{}, err
	}
	m, ok := testMethods[method]
	switch {
	case !ok:
		return Authorization{}, ErrUnknownMethod
	case amount <= 0 || currency == "":
		return Authorization{}, fmt.Errorf("test provider: amount %d %q", amount, currency)
	case m.decline != "":
		return Authorization{}, &DeclineError{Code: m.decline}
	}
	return Authorization{Ref: TestRef(key), Brand: m.brand}, nil
}

// Capture accepts any authorization the test provider made.
func (Test) Capture(ctx context.Context, _, ref string, _ int64) error { return checkRef(ctx, ref) }

// Void accepts any authorization the test provider made.
func (Test) Void(ctx context.Context, _, ref string) error { return checkRef(ctx, ref) }

// Refund accepts any authorization the test provider made.
func (Test) Refund(ctx context.Context, _, ref string, _ int64) error { return checkRef(ctx, ref) }

func checkRef(ctx context.Context, ref string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !isTestRef(ref) {
		return fmt.Errorf("test provider: no authorization %q", ref)
	}
	return nil
}

// TestRef is the test provider's reference of the authorization with key:
// "test_" and 24 hex digits of the key's SHA-256.
func TestRef(key string) string {
	sum := sha256.Sum256([]byte(key))
	return testRefPrefix + hex.EncodeToString(sum[:12])
}

const testRefPrefix = "test_"

func isTestRef(ref string) bool {
	if len(ref) != len(testRefPrefix)+24 || !strings.HasPrefix(ref, testRefPrefix) {
		return false
	}
	_, err := hex.DecodeString(ref[len(testRefPrefix):])
	return err == nil
}
