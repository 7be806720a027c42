package service

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/auth"
)

// Tokens is what a sign-in, registration or refresh hands out.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // seconds the access token is valid
}

// refreshTokenBytes is the entropy of a refresh token: 256 random bits.
const refreshTokenBytes = 32

var tokenEncoding = base64.RawURLEncoding

// newRefreshToken makes a token and the hash that is all the database keeps.
func newRefreshToken() (token, hash string, err error) {
	b := make([]byte, refreshTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("refresh token: %w", err)
	}
	token = tokenEncoding.EncodeToString(b)
	return token, hashRefreshToken(token), nil
}

// hashRefreshToken is SHA-256, unsalted: the token has 256 bits of entropy,
// so there is nothing to brute-force, and the hash must be a lookup key.
func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormedRefreshToken spares the database tokens that cannot be ours.
func wellFormedRefreshToken(token string) bool {
	b, err := tokenEncoding.DecodeString(token)
	return err == nil && len(b) == refreshTokenBytes
}

// openSession starts a token family for the account and issues its first
// pair, in the caller's transaction.
func (s *Service) openSession(tx *store.Tx, a store.Account, now time.Time) (Tokens, error) {
	family := store.Family{ID: newID(), CustomerID: a.ID, CreatedAt: now, LastUsedAt: now}
	if err := tx.InsertFamily(family); err != nil {
		return Tokens{}, err
	}
	return s.issue(tx, a, family.ID, now)
}

// issue stores a new refresh token in the family and signs an access token.
func (s *Service) issue(tx *store.Tx, a store.Account, familyID string, now time.Time) (Tokens, error) {
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	err = tx.InsertRefreshToken(store.RefreshToken{TokenHash: hash, FamilyID: familyID, IssuedAt: now, ExpiresAt: now.Add(RefreshTokenTTL)})
	if err != nil {
		return Tokens{}, err
	}
	access, _, err := s.keys.Sign(auth.Principal{Subject: a.ID, Role: auth.Role(a.Role), Session: familyID}, AccessTokenTTL)
	if err != nil {
		return Tokens{}, fmt.Errorf("sign access token: %w", err)
	}
	return Tokens{AccessToken: access, RefreshToken: refresh, ExpiresIn: int(AccessTokenTTL / time.Second)}, nil
}
