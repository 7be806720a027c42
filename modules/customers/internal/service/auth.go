package service

import (
	"context"
	"errors"
	"time"

	"github.com/modshop/modshop/modules/customers/api"
	"github.com/modshop/modshop/modules/customers/internal/domain"
	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/errs"
)

// Registration is the input of Register. ClientAddr is the caller's IP
// address, for the per-address registration limit ("" skips it).
type Registration struct {
	Email, Password, Name, ClientAddr string
}

// Credentials are the input of Login. ClientAddr is the caller's IP
// address, for the per-address failure limit ("" skips it).
type Credentials struct {
	Email, Password, ClientAddr string
}

// Register creates a customer account, publishes CustomerRegistered and
// signs the customer in.
func (s *Service) Register(ctx context.Context, in Registration) (api.Customer, Tokens, error) {
	var tokens Tokens
	cust, err := s.register(ctx, in, func(tx *store.Tx, a store.Account) (err error) {
		tokens, err = s.openSession(tx, a, a.CreatedAt)
		return err
	})
	if err != nil {
		return api.Customer{}, Tokens{}, err
	}
	return cust, tokens, nil
}

// register checks a registration, counts it against its address and
// creates the account, with also in its transaction: Register opens a
// token session there, Accounts.Register (a front end with sessions of its
// own) nothing.
func (s *Service) register(ctx context.Context, in Registration, also func(tx *store.Tx, a store.Account) error) (api.Customer, error) {
	var fe errs.Fields
	email := checkEmail(in.Email, &fe)
	if msg := domain.CheckNewPassword(in.Password); msg != "" {
		fe.Add("password", msg)
	}
	name := domain.CleanName(in.Name, &fe)
	if err := fe.Err(); err != nil {
		return api.Customer{}, err
	}
	if err := s.takeRegistration(ctx, in.ClientAddr); err != nil {
		return api.Customer{}, err
	}
	acct, err := s.createAccount(ctx, email, in.Password, name, api.RoleCustomer, also)
	if err != nil {
		return api.Customer{}, err
	}
	return customerOf(acct), nil
}

// createAccount hashes the password and stores the account with its
// CustomerRegistered event and whatever also does, in one transaction. The
// unique index on the normalized e-mail decides a race between two
// registrations.
func (s *Service) createAccount(ctx context.Context, email, password, name string, role api.Role,
	also func(tx *store.Tx, a store.Account) error) (store.Account, error) {
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return store.Account{}, err
	}
	now := s.now()
	acct := store.Account{ID: newID(), Email: email, Name: name, Role: string(role), PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAccount(acct); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx, acct); err != nil {
				return err
			}
		}
		return tx.Publish(api.CustomerRegistered{CustomerID: acct.ID, Email: acct.Email, Name: acct.Name, RegisteredAt: now})
	})
	if errors.Is(err, store.ErrDuplicate) {
		return store.Account{}, api.ErrEmailTaken
	}
	return acct, err
}

// Login checks credentials and opens a session.
func (s *Service) Login(ctx context.Context, in Credentials) (Tokens, error) {
	var tokens Tokens
	_, err := s.signIn(ctx, in, func(tx *store.Tx, acct store.Account, now time.Time) (err error) {
		tokens, err = s.openSession(tx, acct, now)
		return err
	})
	if err != nil {
		return Tokens{}, err
	}
	return tokens, nil
}

// signIn checks credentials under the failure limits and settles a success
// in one transaction with also: Login opens a token session there,
// Accounts.Authenticate nothing. Both count, delay and clear failures alike.
//
// An unknown e-mail and a wrong password give the same error after the same
// work: the password is verified against a dummy hash of the current cost
// when there is no account, and the failure is counted either way.
func (s *Service) signIn(ctx context.Context, in Credentials, also func(tx *store.Tx, acct store.Account, now time.Time) error) (store.Account, error) {
	var fe errs.Fields
	email := checkEmail(in.Email, &fe)
	if msg := domain.CheckPresentedPassword(in.Password); msg != "" {
		fe.Add("password", msg)
	}
	if err := fe.Err(); err != nil {
		return store.Account{}, err
	}
	att, err := s.beginAttempt(ctx, email, in.ClientAddr)
	if err != nil {
		return store.Account{}, err
	}
	acct, ok, rehash, err := s.verify(ctx, email, in.Password)
	if err != nil {
		return store.Account{}, err
	}
	if !ok {
		return store.Account{}, api.ErrInvalidCredentials
	}
	newHash := ""
	if rehash {
		newHash = s.rehash(ctx, in.Password)
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if err := endAttempt(tx, att); err != nil {
			return err
		}
		if newHash != "" {
			if _, err := tx.ReplacePasswordHash(acct.ID, acct.PasswordHash, newHash, now); err != nil {
				return err
			}
		}
		if also == nil {
			return nil
		}
		return also(tx, acct, now)
	})
	return acct, err
}

// verify looks the account up and checks the password; ok is false for an
// unknown e-mail and a wrong password alike, after the same argon2id work
// (against the dummy hash when there is no account).
func (s *Service) verify(ctx context.Context, email, password string) (acct store.Account, ok, rehash bool, err error) {
	acct, err = s.store.AccountByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return acct, false, false, s.hasher.VerifyDummy(ctx, password)
	case err != nil:
		return acct, false, false, err
	}
	ok, rehash, err = s.hasher.Verify(ctx, password, acct.PasswordHash)
	return acct, ok, rehash, err
}

// rehash makes a hash at the current cost; "" when that fails, which only
// postpones the upgrade to the next sign-in.
func (s *Service) rehash(ctx context.Context, password string) string {
	h, err := s.hasher.Hash(ctx, password)
	if err != nil {
		s.log.Warn("password rehash failed; will retry at the next sign-in", "err", err)
		return ""
	}
	return h
}

// Refresh rotates a refresh token: the presented token is spent and a new
// pair issued in its family. Presenting a spent token again means it was
// copied: the whole family is revoked, so neither the thief nor the owner
// can continue the session, and the owner has to sign in again.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	if !wellFormedRefreshToken(token) {
		return Tokens{}, api.ErrInvalidRefreshToken
	}
	hash := hashRefreshToken(token)
	var tokens Tokens
	var family string
	replayed := false
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		tok, customerID, err := tx.RefreshTokenByHash(hash)
		if err != nil {
			return err
		}
		family = tok.FamilyID
		active, err := tx.TouchActiveFamily(tok.FamilyID, now)
		if err != nil {
			return err
		}
		if !active {
			return store.ErrNotFound
		}
		used, err := tx.MarkRefreshTokenUsed(hash, now)
		if err != nil {
			return err
		}
		if !used { // spent before, or by a concurrent refresh that won
			replayed = true
			return tx.RevokeFamily(tok.FamilyID, now)
		}
		if now.After(tok.ExpiresAt) {
			return store.ErrNotFound
		}
		acct, err := tx.AccountByID(customerID)
		if err != nil {
			return err
		}
		tokens, err = s.issue(tx, acct, tok.FamilyID, now)
		return err
	})
	switch {
	case replayed && err == nil:
		s.keys.Revoke(family) // its access tokens too: here at once, elsewhere at the next reload
		s.log.Warn("refresh token replayed; session revoked", "family", family)
		return Tokens{}, api.ErrInvalidRefreshToken
	case errors.Is(err, store.ErrNotFound):
		return Tokens{}, api.ErrInvalidRefreshToken
	}
	return tokens, err
}

// Logout revokes the session the refresh token belongs to. An unknown or
// malformed token is not an error: the answer must not tell which tokens
// exist.
func (s *Service) Logout(ctx context.Context, token string) error {
	if !wellFormedRefreshToken(token) {
		return nil
	}
	var family string
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		tok, _, err := tx.RefreshTokenByHash(hashRefreshToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		family = tok.FamilyID
		return tx.RevokeFamily(tok.FamilyID, s.now())
	})
	if err == nil && family != "" {
		s.keys.Revoke(family) // its access tokens too: here at once, elsewhere at the next reload
	}
	return err
}

// checkEmail normalizes an e-mail input, recording a field error.
func checkEmail(raw string, fe *errs.Fields) string {
	if raw == "" {
		fe.Add("email", "is required")
		return ""
	}
	email, err := domain.NormalizeEmail(raw)
	if err != nil {
		fe.Add("email", err.Error())
	}
	return email
}
