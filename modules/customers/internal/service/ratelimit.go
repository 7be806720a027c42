package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/store"
)

// Limit is at most Max failed sign-ins per Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits is the sign-in failure policy.
type Limits struct {
	// PerAccountAddress slows down guessing one account's password from
	// one client address, with growing delays. It is per address so that a
	// stranger's failures never refuse the owner signing in from theirs.
	PerAccountAddress store.Delay
	PerAddress        Limit // one client trying many accounts
	// PerAddressRegistrations bounds the accounts one client address may
	// try to create: each costs an argon2id hash.
	PerAddressRegistrations Limit
}

// DefaultLimits: per account and address, 5 failures go at once, then each
// waits twice as long as the one before (1 s, 2 s, 4 s ... at most 15
// minutes; forgotten after an hour without failures): a person who mistyped
// hardly notices, a guesser gets about 20 guesses in the first hour and 4
// an hour after that. Per address, 20 failures in 15 minutes across all
// accounts, which lets a household or office behind one address make
// mistakes without letting a single client try more than 80 passwords an
// hour across accounts.
var DefaultLimits = Limits{
	PerAccountAddress: store.Delay{Free: 5, Base: time.Second, Max: 15 * time.Minute, Memory: time.Hour},
	PerAddress:        Limit{Max: 20, Window: 15 * time.Minute},
	// 20 registrations an hour: a family or an office behind one address
	// signs up in peace; a flood from one address gets 20 hashes an hour.
	PerAddressRegistrations: Limit{Max: 20, Window: time.Hour},
}

// errTooManyRegistrations is an api error, so a caller of Accounts.Register
// over HTTP still knows it.
var errTooManyRegistrations = api.ErrTooManyRegistrations

// takeRegistration counts a registration against the client's address
// before its password is hashed, and refuses it with 429 once the
// address's allowance is spent. Without a client address (a call in
// process) nothing is counted.
func (s *Service) takeRegistration(ctx context.Context, clientAddr string) error {
	key := addressKey(clientAddr)
	if key == "" {
		return nil
	}
	now := s.clock()
	if until, ok := s.spent.get(key); ok && now.Before(until) {
		return registrationsRefused(until.Sub(now))
	}
	var ok bool
	var ends time.Time
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		ok, ends, err = tx.TakeAttempt(subject("register", key), s.limits.PerAddressRegistrations.Max, s.limits.PerAddressRegistrations.Window, now)
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		s.spent.put(key, ends)
		return registrationsRefused(ends.Sub(now))
	}
	return nil
}

func registrationsRefused(wait time.Duration) error {
	secs := int64(math.Ceil(wait.Seconds()))
	return errTooManyRegistrations.With("retry_after", max(secs, 1))
}

// spentAddresses is a small in-process memory of refusals; the counters
// in the database stay the truth (every process of a shop shares them).
type spentAddresses struct {
	mu sync.Mutex
	m  map[string]time.Time
}

const maxSpentAddresses = 10000

func (s *spentAddresses) get(key string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[key]
	return t, ok
}

func (s *spentAddresses) put(key string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= maxSpentAddresses {
		s.m = map[string]time.Time{} // forgetting costs one database check each
	}
	s.m[key] = until
}

// attempt is a sign-in that has taken its place in the failure counters.
type attempt struct {
	pair, addr     string // counter subjects; addr is "" without a client address
	addrWindowEnds time.Time
}

// beginAttempt counts a sign-in as a failure before the password is checked
// and refuses it with 429 when the account and address must still wait or
// the address's counter is spent. Counting first is what makes the limit
// hold under a burst: a hundred parallel guesses get the allowance, not a
// hundred verifications. A sign-in that succeeds clears its account and
// address and gives the address's count back (endAttempt).
func (s *Service) beginAttempt(ctx context.Context, email, clientAddr string) (attempt, error) {
	now := s.clock()
	key := addressKey(clientAddr)
	a := attempt{pair: subject("account+addr", email+"\x00"+key)}
	if key != "" {
		a.addr = subject("addr", key)
	}
	var retryAt time.Time // the latest end among the waits that refuse
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ok, at, err := tx.TakeDelayedAttempt(a.pair, s.limits.PerAccountAddress, now)
		if err != nil {
			return err
		}
		if !ok {
			retryAt = at
		}
		if a.addr != "" {
			okAddr, ends, err := tx.TakeAttempt(a.addr, s.limits.PerAddress.Max, s.limits.PerAddress.Window, now)
			if err != nil {
				return err
			}
			a.addrWindowEnds = ends
			if !okAddr && ends.After(retryAt) {
				retryAt = ends
			}
		}
		if !retryAt.IsZero() {
			return errRateLimited // roll back: a refused attempt counts nothing
		}
		return nil
	})
	if errors.Is(err, errRateLimited) {
		return a, rateLimited(retryAt.Sub(now))
	}
	return a, err
}

// endAttempt settles a successful sign-in in its session's transaction: the
// account and address's failures are forgotten, the address's count is
// given back.
func endAttempt(tx *store.Tx, a attempt) error {
	if err := tx.ClearDelay(a.pair); err != nil {
		return err
	}
	if a.addr == "" {
		return nil
	}
	return tx.GiveBackAttempt(a.addr, a.addrWindowEnds)
}

// errRateLimited is an api error, so a caller of Accounts.Authenticate over
// HTTP still knows it.
var errRateLimited = api.ErrTooManySignIns

// rateLimited is the 429 with Retry-After in whole seconds (at least 1).
func rateLimited(wait time.Duration) error {
	secs := int64(math.Ceil(wait.Seconds()))
	return errRateLimited.With("retry_after", max(secs, 1))
}

// subject is how a counter is keyed: a hash, so the table holds no e-mail
// addresses or IPs of people who merely mistyped.
func subject(kind, value string) string {
	sum := sha256.Sum256([]byte(kind + ":" + value))
	return hex.EncodeToString(sum[:])
}

// addressKey is the client's address as counted: IPv4 as is, IPv6 by its
// /64, since one subscriber usually holds a whole /64 and could otherwise
// rotate through 2^64 addresses.
func addressKey(raw string) string {
	ip, err := netip.ParseAddr(raw)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
