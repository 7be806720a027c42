// Package service holds the customers module's use cases: registration and
// sign-in, token rotation, the profile and the address book, and the
// bootstrap admin. It composes the domain rules with the store, whose
// transactions also publish the module's events through its outbox; it
// never sees the database itself.
package service

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/events"
)

// Token lifetimes. Access tokens are verified locally by every process and
// cannot be recalled, so they live briefly; refresh tokens rotate on every
// use and their session can be revoked.
const (
	AccessTokenTTL  = 15 * time.Minute
	RefreshTokenTTL = 30 * 24 * time.Hour
)

// Config tunes the service; the zero value of each field means the
// production default.
type Config struct {
	// Hashing is the argon2id cost of new hashes (domain.DefaultParams).
	Hashing domain.Params
	// HashConcurrency bounds simultaneous hashes (domain.DefaultConcurrency).
	HashConcurrency int
	// Limits is the sign-in failure policy (DefaultLimits).
	Limits Limits
	// Now is the clock (time.Now).
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Hashing == (domain.Params{}) {
		c.Hashing = domain.DefaultParams
	}
	if c.HashConcurrency == 0 {
		c.HashConcurrency = domain.DefaultConcurrency(c.Hashing)
	}
	if c.Limits == (Limits{}) {
		c.Limits = DefaultLimits
	}
	if c.Limits.PerAddressRegistrations == (Limit{}) {
		c.Limits.PerAddressRegistrations = DefaultLimits.PerAddressRegistrations
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service is the customers module. It implements api.Customers.
type Service struct {
	store  *store.Store
	keys   *auth.Keys
	hasher *domain.Hasher
	limits Limits
	clock  func() time.Time
	log    *slog.Logger
	// spent remembers addresses whose registration allowance is spent,
	// until when, so that a flood's refusals cost no database write.
	spent spentAddresses
}

var _ api.Customers = (*Service)(nil)

// New makes the service over the module's outbox (and its database).
func New(ob *events.Outbox, keys *auth.Keys, cfg Config, log *slog.Logger) (*Service, error) {
	cfg.setDefaults()
	h, err := domain.NewHasher(cfg.Hashing, cfg.HashConcurrency)
	if err != nil {
		return nil, fmt.Errorf("customers: %w", err)
	}
	return &Service{store: store.New(ob), keys: keys, hasher: h, limits: cfg.Limits, clock: cfg.Now, log: log}, nil
}

// Hasher is the password hasher (benchmarks report its cost).
func (s *Service) Hasher() *domain.Hasher { return s.hasher }

// now is the clock in UTC at the precision both databases keep.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// newID is a time-ordered UUIDv7: ids sort in creation order.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

func customerOf(a store.Account) api.Customer {
	return api.Customer{ID: a.ID, Email: a.Email, Name: a.Name, Role: api.Role(a.Role), CreatedAt: a.CreatedAt.UTC()}
}

func addressOf(a store.Address) api.Address {
	return api.Address{ID: a.ID, Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City,
		PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone}
}
