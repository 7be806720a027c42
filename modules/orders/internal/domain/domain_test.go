package domain

import (
	"errors"
	"slices"
	"testing"

	"github.com/modshop/modshop/modules/orders/api"
)

// Every status × every command: the contract's machine and nothing else.
func TestStateMachineIsExhaustive(t *testing.T) {
	type edge struct {
		to      api.Status
		effects []Effect
	}
	want := map[api.Status]map[Command]edge{
		api.StatusPlaced: {
			Ship:   {api.StatusShipped, []Effect{EffectCapture}},
			Cancel: {api.StatusCancelled, []Effect{EffectVoid, EffectRestock}},
		},
		api.StatusShipped: {
			Deliver: {api.StatusDelivered, nil},
			Refund:  {api.StatusRefunded, []Effect{EffectRefund}},
		},
		api.StatusDelivered: {
			Refund: {api.StatusRefunded, []Effect{EffectRefund}},
		},
	}
	if len(Statuses) != 5 || len(Commands) != 4 {
		t.Fatalf("%d statuses and %d commands; the table below covers 5 × 4", len(Statuses), len(Commands))
	}
	allowed := 0
	for _, s := range Statuses {
		for _, c := range Commands {
			got, err := Next(s, c)
			w, ok := want[s][c]
			if !ok {
				if !errors.Is(err, api.ErrInvalidState) {
					t.Errorf("%s × %s: got %+v, %v; want invalid_state", s, c, got, err)
				}
				continue
			}
			allowed++
			if err != nil || got.From != s || got.To != w.to || !slices.Equal(got.Effects, w.effects) {
				t.Errorf("%s × %s: got %+v, %v; want → %s with %v", s, c, got, err, w.to, w.effects)
			}
		}
	}
	if allowed != 5 {
		t.Fatalf("%d transitions allowed, want 5", allowed)
	}
}

func TestShipping(t *testing.T) {
	for _, c := range []struct{ subtotal, shipping int64 }{{0, 500}, {1, 500}, {9999, 500}, {10000, 0}, {250000, 0}} {
		if got := Shipping(c.subtotal); got != c.shipping {
			t.Errorf("Shipping(%d) = %d, want %d", c.subtotal, got, c.shipping)
		}
	}
	lines := []api.Line{{LineTotal: api.Money{Amount: 4000}}, {LineTotal: api.Money{Amount: 5999}}}
	if s, sh, tot := Totals(lines); s != 9999 || sh != 500 || tot != 10499 {
		t.Fatalf("Totals = %d %d %d, want 9999 500 10499", s, sh, tot)
	}
}

func TestNumbersIDsAndTokens(t *testing.T) {
	if n := Number(123); n != "MS-000123" {
		t.Fatalf("Number(123) = %s", n)
	}
	if n := Number(12345678); n != "MS-12345678" {
		t.Fatalf("Number(12345678) = %s", n)
	}
	a, b := NewGuestToken(), NewGuestToken()
	if a == b || len(a) != 52 { // 256 bits in base32 without padding
		t.Fatalf("guest tokens %q %q", a, b)
	}
	h := HashToken(a)
	if !TokenMatches(a, h) || TokenMatches(b, h) || TokenMatches("", h) {
		t.Fatal("a token matches its own hash only")
	}
	if id := NewID("chk_"); len(id) != 4+26 || id == NewID("chk_") {
		t.Fatalf("id %q", id)
	}
}

func TestRequestHash(t *testing.T) {
	if first, again := RequestHash("a", "b"), RequestHash("a", "b"); first != again {
		t.Fatal("not stable")
	}
	if RequestHash("ab", "c") == RequestHash("a", "bc") {
		t.Fatal("field boundaries must count")
	}
}

func TestCheckKeyAndEmail(t *testing.T) {
	for key, ok := range map[string]bool{"k1": true, "": false, "with space": false, string(make([]byte, 256)): false, "ünïcode": false} {
		if err := CheckKey(key); (err == nil) != ok {
			t.Errorf("CheckKey(%q) = %v", key, err)
		}
	}
	if e, err := NormalizeEmail("  Ann@Example.COM "); err != nil || e != "ann@example.com" {
		t.Fatalf("NormalizeEmail = %q, %v", e, err)
	}
	for _, bad := range []string{"", "ann", "ann@", "Ann <ann@example.com>", "ann@localhost"} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
