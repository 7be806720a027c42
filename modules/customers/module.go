// Package customers is the accounts module: registration and sign-in,
// access and refresh tokens, sign-in failure limits, the profile and the
// address book, and the bootstrap admin.
//
// Passwords: 8 to 256 characters (longer is refused before hashing, so a
// huge "password" cannot make argon2 work for it). Hashed with argon2id at
// OWASP's m=19 MiB, t=2, p=1 and stored in PHC form
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash), so the cost can be raised:
// a hash below the current cost is replaced at its next successful sign-in.
// At most one hash per core runs at once (capped at 256 MiB of argon2
// memory); further sign-ins queue, and give up with the request's deadline.
//
// Sign-in: an unknown e-mail and a wrong password both answer 401
// invalid_credentials after verifying a hash of the same cost (a dummy hash
// for the unknown e-mail). Failed sign-ins are limited to 5 per e-mail and
// 20 per client address (IPv6 by /64) in a 15-minute window that opens
// with the first failure; over the limit the answer is 429 rate_limited
// with Retry-After. The counters live in customers_login_failures, keyed by
// a SHA-256 of the e-mail or address, so every process on the database
// shares them; an attempt is counted before its password is checked, so a
// burst of parallel guesses gets the allowance and no more. A successful
// sign-in clears the e-mail's counter and gives its place in the address's
// counter back. The client address is the TCP peer unless the server is
// configured with an IP extractor for trusted proxies.
//
// The web storefront registers and signs in through api.Accounts
// (remote_accounts.go), which runs the very code of /v1/auth/register and
// /v1/auth/login, counters and limits included, with the visitor's address
// the web module passes on, but opens no token session: the web module
// keeps sessions of its own. Its limits are api errors
// (ErrTooManySignIns, ErrTooManyRegistrations) with "retry_after".
//
// Tokens: access tokens are 15-minute HS256 JWTs signed with the shop's key
// (platform/auth), carrying the account id and role; every process verifies
// them locally. A refresh token is 256 random bits, stored only as its
// SHA-256, valid 30 days and good for one use: each refresh spends it and
// issues a new one in the same family (one family per sign-in). Presenting
// a spent token again, or two refreshes racing with one token, revokes the
// family: the session ends for thief and owner alike. Logout revokes the
// family of the token it is given and answers 204 whatever the token.
package customers

import (
	"context"
	"log/slog"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/httpapi"
	"github.com/modshop/modshop/modules/customers/internal/service"
	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
)

// Name is the module's name.
const Name = "customers"

// Descriptor is what `modshop modules` shows of the module, here or remote.
var Descriptor = modkit.Descriptor{
	Name:      Name,
	Summary:   "accounts, sign-in and tokens, profiles and address books",
	Publishes: []string{api.EventCustomerRegistered},
}

// Module wires the customers module with production settings.
var Module = NewModule(service.Config{})

// NewModule wires the module with cfg; tests use it to lower the hashing
// cost, change the failure limits or set the clock. Zero fields keep the
// production defaults.
func NewModule(cfg service.Config) fx.Option {
	return fx.Module(Name,
		modkit.Storage(Name),
		modkit.Migrations(store.Migrations),
		modkit.Describe(Descriptor),
		modkit.Settings(ReadSettings),
		fx.Provide(
			fx.Private,
			func(ob *events.Outbox, keys *auth.Keys, log *slog.Logger) (*service.Service, error) {
				return service.New(ob, keys, cfg, log.With("module", Name))
			},
		),
		fx.Provide(func(s *service.Service) api.Customers { return Local(s) }),
		fx.Provide(func(s *service.Service) api.Accounts { return Local(s) }),   // remote_accounts.go
		fx.Provide(func(s *service.Service) api.BackOffice { return Local(s) }), // back office (web admin)
		modkit.Routes(httpapi.Routes),
		modkit.Routes(internalRoutes),
		modkit.Workers(bootstrapAdmin),
		modkit.Workers(func(s *service.Service) modkit.Worker {
			r := service.NewRevocations(s)
			return modkit.Worker{Name: "customers.revocations", Start: r.Start, Stop: r.Stop}
		}),
		modkit.Workers(func(s *service.Service, log *slog.Logger) modkit.Worker {
			return modkit.NewPeriodic("customers.janitor", service.SweepInterval, s.Sweep, modkit.WithLogger(log.With("module", Name))).Worker()
		}),
	)
}

// bootstrapAdmin creates the admin account named by
// MODSHOP_BOOTSTRAP_ADMIN_EMAIL/_PASSWORD once migrations have run.
func bootstrapAdmin(s *service.Service, cfg Settings, log *slog.Logger) modkit.Worker {
	return modkit.Worker{Name: "customers.bootstrap_admin", Start: func(ctx context.Context) error {
		if cfg.AdminEmail == "" {
			return nil
		}
		created, err := s.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return err
		}
		if created {
			log.Info("bootstrap admin account created", "module", Name, "email", cfg.AdminEmail)
		}
		return nil
	}}
}
