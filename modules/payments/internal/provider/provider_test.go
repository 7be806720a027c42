package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestTestProviderAnswersByMethod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := NewTest()
	if p.Name() != "test" {
		t.Fatalf("name %q", p.Name())
	}
	for method, want := range map[string]struct{ brand, decline string }{
		"pm_card_visa":              {brand: "visa"},
		"pm_card_mastercard":        {brand: "mastercard"},
		"pm_card_chargeDeclined":    {decline: "card_declined"},
		"pm_card_insufficientFunds": {decline: "insufficient_funds"},
	} {
		if err := p.CheckMethod(method); err != nil {
			t.Errorf("CheckMethod(%s): %v", method, err)
		}
		a, err := p.Authorize(ctx, "authorize:"+method, 100, "EUR", method)
		code, declined := Declined(err)
		switch {
		case want.decline != "" && (!declined || code != want.decline || a != Authorization{}):
			t.Errorf("%s: %+v, %v; want a decline %s", method, a, err, want.decline)
		case want.brand != "" && (err != nil || a.Brand != want.brand || !strings.HasPrefix(a.Ref, "test_") || len(a.Ref) != 29):
			t.Errorf("%s: %+v, %v; want brand %s", method, a, err, want.brand)
		}
	}
	for _, method := range []string{"", "pm_card_amex", "PM_CARD_VISA", "4242424242424242"} {
		if err := p.CheckMethod(method); !errors.Is(err, ErrUnknownMethod) {
			t.Errorf("CheckMethod(%q) = %v", method, err)
		}
		if _, err := p.Authorize(ctx, "k", 100, "EUR", method); !errors.Is(err, ErrUnknownMethod) {
			t.Errorf("Authorize(%q) = %v", method, err)
		}
	}
}

// The reference follows from the key alone: the same key after a restart
// names the same authorization, another key another one.
func TestTestProviderIsIdempotentByKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a1, _ := NewTest().Authorize(ctx, "authorize:p1", 100, "EUR", "pm_card_visa")
	a2, _ := NewTest().Authorize(ctx, "authorize:p1", 100, "EUR", "pm_card_visa")
	b, _ := NewTest().Authorize(ctx, "authorize:p2", 100, "EUR", "pm_card_visa")
	if a1 != a2 || a1.Ref != TestRef("authorize:p1") || a1.Ref == b.Ref {
		t.Fatalf("refs %q, %q, %q", a1.Ref, a2.Ref, b.Ref)
	}
}

func TestTestProviderChecksReferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := NewTest()
	ref := TestRef("authorize:p1")
	if err := errors.Join(p.Capture(ctx, "capture:p1", ref, 100), p.Void(ctx, "void:p1", ref), p.Refund(ctx, "refund:p1", ref, 100)); err != nil {
		t.Fatalf("calls on a test authorization: %v", err)
	}
	for _, bad := range []string{"", "test_", "pi_123", "test_zzzzzzzzzzzzzzzzzzzzzzzz", ref + "0"} {
		if p.Capture(ctx, "k", bad, 1) == nil || p.Void(ctx, "k", bad) == nil || p.Refund(ctx, "k", bad, 1) == nil {
			t.Errorf("reference %q was accepted", bad)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Authorize(cancelled, "k", 1, "EUR", "pm_card_visa"); !errors.Is(err, context.Canceled) {
		t.Errorf("authorize with a cancelled context: %v", err)
	}
	if err := p.Capture(cancelled, "k", ref, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("capture with a cancelled context: %v", err)
	}
}
