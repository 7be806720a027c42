package domain

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/platform/errs"
)

// cheap is a valid cost that keeps unit tests fast.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		"ann@example.com":             "ann@example.com",
		"  Ann.Lee+shop@Example.COM ": "ann.lee+shop@example.com",
		"o'neil@mail.example.co.uk":   "o'neil@mail.example.co.uk",
		"jörg@münchen.de":             "jörg@münchen.de",
	}
	for in, want := range ok {
		got, err := NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"", "   ", "ann", "ann@", "@example.com", "ann@example", "ann@localhost", "ann@@example.com",
		"Ann <ann@example.com>", "ann@example.com (home)", "ann @example.com", `"a b"@example.com`,
		"ann@-example.com", "ann@example-.com", "ann@exa mple.com", "ann@[127.0.0.1]", "ann@example..com",
		strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b", 250) + ".com",
	}
	for _, in := range bad {
		if got, err := NormalizeEmail(in); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", in, got, err)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		password         string
		newOK, presentOK bool
	}{
		{"", false, false},
		{"1234567", false, true},                   // too short to set, fine to present
		{"12345678", true, true},                   // 8 characters
		{"ääääääää", true, true},                   // 8 characters, 16 bytes
		{strings.Repeat("x", 256), true, true},     // the maximum
		{strings.Repeat("x", 257), false, false},   // one more
		{strings.Repeat("ä", 257), false, false},   // counted in characters
		{strings.Repeat("x", 10000), false, false}, // never reaches argon2
	}
	for _, c := range cases {
		if got := CheckNewPassword(c.password) == ""; got != c.newOK {
			t.Errorf("CheckNewPassword(len %d) ok = %v, want %v", len(c.password), got, c.newOK)
		}
		if got := CheckPresentedPassword(c.password) == ""; got != c.presentOK {
			t.Errorf("CheckPresentedPassword(len %d) ok = %v, want %v", len(c.password), got, c.presentOK)
		}
	}
}

func TestDefaultParamsMeetOWASP(t *testing.T) {
	t.Parallel()
	p := DefaultParams
	// OWASP's argon2id minimum: m=19 MiB with t=2, or m=46 MiB with t=1
	// (the variants between trade memory for passes), p=1.
	meets := p.Memory >= 19*1024 && p.Time >= 2 || p.Memory >= 46*1024 && p.Time >= 1
	if !meets || p.Threads < 1 {
		t.Fatalf("DefaultParams %+v are below OWASP's minimum", p)
	}
	if 16*p.MemoryBytes() >= 512<<20 {
		t.Fatalf("16 concurrent hashes would need %d MiB, over the 512 MB budget", 16*p.MemoryBytes()>>20)
	}
}

func TestHashIsPHCAndVerifies(t *testing.T) {
	t.Parallel()
	h, err := NewHasher(cheap, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") || len(strings.Split(enc, "$")) != 6 {
		t.Fatalf("hash %q is not an argon2id PHC string", enc)
	}
	enc2, _ := h.Hash(ctx, "correct horse")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if ok, rehash, err := h.Verify(ctx, "correct horse", enc); !ok || rehash || err != nil {
		t.Fatalf("Verify(right) = %v, %v, %v", ok, rehash, err)
	}
	if ok, _, err := h.Verify(ctx, "correct horsE", enc); ok || err != nil {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
	if err := h.VerifyDummy(ctx, "anything"); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAsksForRehashWhenCostWasRaised(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old, _ := NewHasher(cheap, 1)
	enc, _ := old.Hash(ctx, "password-1")
	raised := cheap
	raised.Memory, raised.Time = 128, 2
	cur, _ := NewHasher(raised, 1)
	ok, rehash, err := cur.Verify(ctx, "password-1", enc)
	if !ok || !rehash || err != nil {
		t.Fatalf("old hash under raised cost: ok=%v rehash=%v err=%v; want a match that asks for rehash", ok, rehash, err)
	}
	if ok, rehash, _ := cur.Verify(ctx, "wrong-password", enc); ok || rehash {
		t.Fatal("a wrong password must never ask for a rehash")
	}
	fresh, _ := cur.Hash(ctx, "password-1")
	if _, rehash, _ := cur.Verify(ctx, "password-1", fresh); rehash {
		t.Fatal("a hash at the current cost asks for a rehash")
	}
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	t.Parallel()
	h, _ := NewHasher(cheap, 1)
	for _, enc := range []string{
		"", "plain", "$2a$10$abcdefghijklmnopqrstuu", // bcrypt
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // 95 GiB: refused, not allocated
		"$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		if _, _, err := h.Verify(context.Background(), "x", enc); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) err = %v, want ErrMalformedHash", enc, err)
		}
	}
}

func TestHasherBoundsConcurrentHashes(t *testing.T) {
	t.Parallel()
	p := cheap
	p.Memory = 4096
	h, _ := NewHasher(p, 2)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			_, _ = hashPassword("password", p)
			running.Add(-1)
			h.release()
		}()
	}
	wg.Wait()
	if got := peak.Load(); got != 2 {
		t.Fatalf("peak concurrent hashes = %d, want exactly the 2 slots", got)
	}
}

func TestHasherGivesUpWithTheContext(t *testing.T) {
	t.Parallel()
	h, _ := NewHasher(cheap, 1)
	_ = h.acquire(context.Background()) // the only slot, held
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with all slots taken = %v, want the context's deadline", err)
	}
}

func TestDefaultConcurrencyFitsTheBudget(t *testing.T) {
	t.Parallel()
	for _, p := range []Params{DefaultParams, {Memory: 200 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}} {
		n := DefaultConcurrency(p)
		if n < 1 || uint64(n)*p.MemoryBytes() > HashMemoryBudget && n > 1 {
			t.Errorf("DefaultConcurrency(%d KiB) = %d: %d MiB in flight", p.Memory, n, uint64(n)*p.MemoryBytes()>>20)
		}
	}
}

func TestNormalizeAddress(t *testing.T) {
	t.Parallel()
	valid := AddressFields{Name: " Ann Lee ", Line1: "Main St 1", City: "Berlin", PostalCode: "10115", Country: "de", Phone: "+49 (30) 123-456"}
	got, err := NormalizeAddress(valid)
	if err != nil {
		t.Fatalf("valid address refused: %v", err)
	}
	if got.Name != "Ann Lee" || got.Country != "DE" {
		t.Fatalf("not normalized: %+v", got)
	}
	long := strings.Repeat("x", 201)
	cases := []struct {
		name  string
		patch AddressPatch
		field string
	}{
		{"missing name", AddressPatch{Name: ptr("  ")}, "name"},
		{"missing line1", AddressPatch{Line1: ptr("")}, "line1"},
		{"missing city", AddressPatch{City: ptr("")}, "city"},
		{"missing postal code", AddressPatch{PostalCode: ptr("")}, "postal_code"},
		{"missing country", AddressPatch{Country: ptr("")}, "country"},
		{"name too long", AddressPatch{Name: &long}, "name"},
		{"line2 too long", AddressPatch{Line2: &long}, "line2"},
		{"control characters", AddressPatch{Line1: ptr("Main St\n1")}, "line1"},
		{"postal code too long", AddressPatch{PostalCode: ptr(strings.Repeat("1", 21))}, "postal_code"},
		{"postal code symbols", AddressPatch{PostalCode: ptr("10115;")}, "postal_code"},
		{"two letters, not a country", AddressPatch{Country: ptr("XK")}, "country"},
		{"UK is not the code", AddressPatch{Country: ptr("UK")}, "country"},
		{"alpha-3", AddressPatch{Country: ptr("DEU")}, "country"},
		{"phone letters", AddressPatch{Phone: ptr("call me")}, "phone"},
		{"phone too few digits", AddressPatch{Phone: ptr("+1 2")}, "phone"},
		{"phone too many digits", AddressPatch{Phone: ptr("1234567890123456")}, "phone"},
		{"phone plus in the middle", AddressPatch{Phone: ptr("12+34567")}, "phone"},
		{"phone too long", AddressPatch{Phone: ptr("+1 " + strings.Repeat("1-", 15))}, "phone"},
	}
	for _, c := range cases {
		_, err := NormalizeAddress(c.patch.Apply(valid))
		e := errs.As(err)
		if e == nil || e.Code != "validation_failed" || len(e.Fields) == 0 || e.Fields[0].Field != c.field {
			t.Errorf("%s: err = %v, want a field error on %s", c.name, err, c.field)
		}
	}
}

func TestCountriesAreTheAssignedCodes(t *testing.T) {
	t.Parallel()
	if api.CountryCount() != 249 {
		t.Fatalf("%d country codes, want the 249 assigned ISO 3166-1 alpha-2 codes", api.CountryCount())
	}
	for _, c := range []string{"DE", "US", "GB", "AX", "SS", "CW", "BQ"} {
		if !api.IsCountry(c) {
			t.Errorf("%s refused", c)
		}
	}
	for _, c := range []string{"de", "XK", "EU", "UK", "ZZ", "AN", "CS", ""} {
		if api.IsCountry(c) {
			t.Errorf("%s accepted", c)
		}
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"Ann": true, " Ann ": true, "": false, "  ": false,
		strings.Repeat("ä", 200): true, strings.Repeat("ä", 201): false, "Ann\tLee": false} {
		var fe errs.Fields
		CleanName(in, &fe)
		if (len(fe) == 0) != ok {
			t.Errorf("CleanName(%q): errors %v, want ok=%v", in, fe, ok)
		}
	}
}

func ptr(s string) *string { return &s }
