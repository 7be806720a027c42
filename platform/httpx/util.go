package httpx

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
)

var (
	randRead  = rand.Read
	base32enc = base32.StdEncoding.WithPadding(base32.NoPadding)
)

func marshalIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
