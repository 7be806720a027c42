// Package auth verifies access tokens locally, in every process, and carries
// the caller's identity through a request's context.
//
// Access tokens are HS256 JWTs signed with the shop's key
// (MODSHOP_JWT_SECRET, or a key generated once and kept in the data folder,
// which serves a shop of one process only: config requires the secret when
// there are others).
// Verification needs no call to another module. Issuing tokens is the
// customers module's business; Keys.Sign is the one place that signs.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/modshop/modshop/platform/fsmode"
)

// Role is what a principal may do.
type Role string

const (
	RoleCustomer Role = "customer"
	RoleAdmin    Role = "admin"
	// RoleService is a module calling another module's internal API.
	RoleService Role = "service"
)

// Principal is the authenticated caller.
type Principal struct {
	Subject string // customer id
	Role    Role
	// Session is the sign-in session the token belongs to ("sid"); its
	// revocation (logout, a replayed refresh token) ends the token too.
	Session string
}

// IsAdmin reports whether the principal is an admin.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller, if one signed in.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Keys signs and verifies access tokens.
type Keys struct {
	secret []byte
	issuer string
	now    func() time.Time
	// revoked are the sessions whose access tokens are refused: those
	// revoked within an access token's life (SetRevoked, Revoke).
	revoked atomic.Pointer[map[string]struct{}]
	mu      sync.Mutex // serialises writers of revoked
}

// SetRevoked replaces the revoked sessions with ids: the module that owns
// sessions reloads them every second or so from its database, which every
// process of the shop shares, so a revocation reaches every replica within
// that time.
func (k *Keys) SetRevoked(ids []string) {
	m := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.revoked.Store(&m)
}

// Revoke adds one session at once (the process that revoked it need not
// wait for the next reload).
func (k *Keys) Revoke(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.revoked.Load()
	m := make(map[string]struct{}, 1)
	if old != nil {
		m = make(map[string]struct{}, len(*old)+1)
		for s := range *old {
			m[s] = struct{}{}
		}
	}
	m[id] = struct{}{}
	k.revoked.Store(&m)
}

func (k *Keys) isRevoked(session string) bool {
	if session == "" {
		return false
	}
	m := k.revoked.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[session]
	return ok
}

// ErrInvalidToken covers every reason a token is refused.
var ErrInvalidToken = errors.New("invalid access token")

// LoadKeys uses secret when given, else the key in dataDir/jwt.key, creating
// it (256 random bits, mode 0600) on first use.
func LoadKeys(secret, dataDir string) (*Keys, error) {
	if secret != "" {
		return NewKeys([]byte(secret)), nil
	}
	path := filepath.Join(dataDir, "jwt.key")
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s does not hold a 256-bit hex key", path)
		}
		return NewKeys(key), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := fsmode.Dir(dataDir); err != nil {
		return nil, err
	}
	// Write a temporary file, then link it into place: the key file appears
	// whole or not at all, so a process starting at the same moment never
	// reads a half-written key, and when two race one key wins for both.
	tmp, err := os.CreateTemp(dataDir, ".jwt.key-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(key) + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o600)
	}
	if werr != nil {
		return nil, fmt.Errorf("write %s: %w", path, werr)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return LoadKeys("", dataDir)
	} else if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return NewKeys(key), nil
}

// Derive is a key for another purpose (e.g. "orders.guest-token"), derived
// from the signing secret with HMAC-SHA256: every process of a shop shares
// it, and it reveals nothing of the secret.
func (k *Keys) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte("modshop derived key\x00" + purpose))
	return m.Sum(nil)
}

// NewKeys uses a raw secret.
func NewKeys(secret []byte) *Keys {
	return &Keys{secret: secret, issuer: "modshop", now: time.Now}
}

type claims struct {
	Role Role   `json:"role"`
	SID  string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// Sign issues an access token for p that expires after ttl.
func (k *Keys) Sign(p Principal, ttl time.Duration) (string, time.Time, error) {
	now := k.now()
	exp := now.Add(ttl)
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{Role: p.Role, SID: p.Session, RegisteredClaims: jwt.RegisteredClaims{
		Subject: p.Subject, Issuer: k.issuer, IssuedAt: jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Second)), ExpiresAt: jwt.NewNumericDate(exp),
	}})
	s, err := t.SignedString(k.secret)
	return s, exp, err
}

// Verify checks signature, algorithm (HS256 only: "none" and every other
// algorithm are refused), issuer and expiry.
func (k *Keys) Verify(token string) (Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return k.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(k.issuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(k.now), jwt.WithLeeway(5*time.Second))
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" || (c.Role != RoleCustomer && c.Role != RoleAdmin && c.Role != RoleService) {
		return Principal{}, fmt.Errorf("%w: missing subject or unknown role", ErrInvalidToken)
	}
	if k.isRevoked(c.SID) {
		return Principal{}, fmt.Errorf("%w: the session was revoked", ErrInvalidToken)
	}
	return Principal{Subject: c.Subject, Role: c.Role, Session: c.SID}, nil
}
