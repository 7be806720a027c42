package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// A cursor is the sort key of the last hit of a page (score or sort key,
// and product id), tagged with the sort order it belongs to, as base64url
// JSON. It
// encodes a position in the sort order, not an offset, so pages stay
// consistent while documents are added or removed: each document that
// exists for the whole walk is returned exactly once, unless its own sort
// key changes. (For relevance, the sort key is the score, which depends on
// index-wide term statistics; see the package caveats in Bleve.)

const (
	cursorVersion  = 1
	maxCursorBytes = 2048
)

type cursorPayload struct {
	V int      `json:"v"`
	S string   `json:"s"`
	K []string `json:"k"`
}

// encodeCursor returns the cursor that continues after h.
func encodeCursor(sortName string, h hitKey) (string, error) {
	p, err := json.Marshal(cursorPayload{V: cursorVersion, S: sortName, K: []string{h.keyString(sortName), h.pid}})
	if err != nil {
		return "", fmt.Errorf("engine: encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(p), nil
}

// decodeCursor validates c for sortName and returns the position it encodes.
func decodeCursor(c, sortName string) (*hitKey, error) {
	if len(c) > maxCursorBytes {
		return nil, fmt.Errorf("%w: too long", ErrBadCursor)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p cursorPayload
	if err := dec.Decode(&p); err != nil || dec.More() {
		return nil, fmt.Errorf("%w: malformed", ErrBadCursor)
	}
	if p.V != cursorVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrBadCursor, p.V)
	}
	if p.S != sortName {
		return nil, fmt.Errorf("%w: cursor is for sort %q, query sorts by %q", ErrBadCursor, p.S, sortName)
	}
	if len(p.K) != 2 || p.K[1] == "" || !utf8.ValidString(p.K[1]) {
		return nil, fmt.Errorf("%w: malformed key", ErrBadCursor)
	}
	k := &hitKey{pid: p.K[1]}
	if sortName == SortRelevance {
		f, err := strconv.ParseFloat(p.K[0], 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: malformed score", ErrBadCursor)
		}
		k.score = f
	} else {
		if !isSortableInt64(p.K[0]) {
			return nil, fmt.Errorf("%w: malformed key", ErrBadCursor)
		}
		k.key = p.K[0]
	}
	return k, nil
}
