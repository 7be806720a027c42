package domain

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params is an argon2id cost. Hashes carry their own parameters (PHC string
// format), so the cost can be raised later: old hashes still verify, and
// are replaced at the next successful sign-in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams is OWASP's first argon2id configuration (Password Storage
// Cheat Sheet): 19 MiB, 2 passes, 1 lane. It is the cheapest one OWASP
// accepts, chosen because the memory is what limits a server's concurrent
// sign-ins: 16 at once need 304 MiB of hash memory, well under the 512 MB
// budget, where the 46 MiB/t=1 variant would need 736 MiB. One lane keeps a
// sign-in on one core, so the hashing semaphore can count cores.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from storage, so a corrupted or hostile
// hash cannot make verification allocate gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // 1 GiB
	maxTime    = 64
	maxKeyLen  = 128
	maxSaltLen = 64
)

// ErrMalformedHash is a stored hash that is not an argon2id PHC string this
// package can verify.
var ErrMalformedHash = errors.New("malformed argon2id hash")

var b64 = base64.RawStdEncoding

// Below reports whether p is weaker than q in any dimension that makes a
// hash cheaper to attack, i.e. whether a hash made with p should be redone
// with q.
func (p Params) Below(q Params) bool {
	return p.Memory < q.Memory || p.Time < q.Time || p.KeyLen < q.KeyLen || p.SaltLen < q.SaltLen
}

// MemoryBytes is what one hash with p allocates.
func (p Params) MemoryBytes() uint64 { return uint64(p.Memory) * 1024 }

func (p Params) validate() error {
	switch {
	case p.Threads == 0 || p.Time == 0 || p.Time > maxTime:
		return fmt.Errorf("argon2id: time %d and threads %d must be positive (time at most %d)", p.Time, p.Threads, maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id: memory %d KiB out of range", p.Memory)
	case p.KeyLen < 16 || p.KeyLen > maxKeyLen || p.SaltLen < 8 || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id: key length %d or salt length %d out of range", p.KeyLen, p.SaltLen)
	}
	return nil
}

// hashPassword derives a new hash with a fresh random salt and encodes it as
// $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func hashPassword(password string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword reports whether password matches the encoded hash, in
// constant time over the derived key, and returns the hash's parameters.
func verifyPassword(password, encoded string) (bool, Params, error) {
	p, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, Params{}, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, p, nil
}

// parsePHC reads $argon2id$v=19$m=M,t=T,p=P$salt$key.
func parsePHC(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, ErrMalformedHash
	}
	var p Params
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Params{}, nil, nil, ErrMalformedHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return Params{}, nil, nil, ErrMalformedHash
			}
			p.Threads = uint8(n)
		default:
			return Params{}, nil, nil, ErrMalformedHash
		}
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}
