package httpx

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"

	"github.com/modshop/modshop/platform/auth"
)

var (
	randRead  = rand.Read
	base32enc = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// authKeys lets NewServer take *auth.Keys (or nil when only Public routes exist).
type authKeys interface{ keys() *auth.Keys }

// Keys adapts *auth.Keys for NewServer.
type Keys struct{ K *auth.Keys }

func (k Keys) keys() *auth.Keys { return k.K }

func marshalIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
