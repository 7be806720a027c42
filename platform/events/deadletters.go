package events

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/modshop/modshop/platform/errs"
)

// What the admin's two faces of the dead letters share: the JSON API
// (platform/app) and the back office's page (modules/web). Both page
// through them and replay them the same way, with the same errors.

// DeadLetterPage is one page of this process's dead letters, newest first
// (then by module and id): limit of them after the cursor of the page
// before ("" for the first), and the cursor of the next page ("" on the
// last). A cursor this function did not give out is a 422 naming "cursor".
func (b *Bus) DeadLetterPage(ctx context.Context, includeReplayed bool, cursor string, limit int) ([]DeadLetter, string, error) {
	var after *deadLetterKey
	if cursor != "" {
		k, ok := parseDeadLetterCursor(cursor)
		if !ok {
			return nil, "", errs.Invalid(errs.FieldError{Field: "cursor", Message: "is not a cursor this list gave"})
		}
		after = &k
	}
	all, err := b.DeadLetters(ctx, includeReplayed)
	if err != nil {
		return nil, "", errs.Internal(err)
	}
	sort.Slice(all, func(i, j int) bool { return keyOf(all[i]).before(keyOf(all[j])) })
	items := []DeadLetter{}
	for _, d := range all {
		if after != nil && !after.before(keyOf(d)) {
			continue
		}
		if len(items) == limit {
			return items, keyOf(items[len(items)-1]).cursor(), nil
		}
		items = append(items, d)
	}
	return items, "", nil
}

// ReplayDeadLetter replays a dead letter (Replay) and reads it back, with
// the errors an admin sees: 404 when there is no such dead letter or it was
// replayed already, 409 when the consumer failed again (the dead letter
// stays; the cause is kept for the log).
func (b *Bus) ReplayDeadLetter(ctx context.Context, module string, id int64) (DeadLetter, error) {
	switch err := b.Replay(ctx, module, id); {
	case errors.Is(err, ErrNoDeadLetter):
		return DeadLetter{}, errs.NotFound("no such dead letter, or it was replayed already")
	case errors.Is(err, ErrReplayFailed):
		return DeadLetter{}, errs.Conflict("conflict", "the consumer failed again; the dead letter stays").WithCause(err)
	case err != nil:
		return DeadLetter{}, errs.Internal(err)
	}
	dl, err := b.DeadLetter(ctx, module, id)
	if err != nil {
		return DeadLetter{}, errs.Internal(err)
	}
	return dl, nil
}

// deadLetterKey orders dead letters newest first, then by module and id.
type deadLetterKey struct {
	at     int64
	module string
	id     int64
}

func keyOf(d DeadLetter) deadLetterKey {
	return deadLetterKey{d.FailedAt.UnixNano(), d.Module, d.ID}
}

func (k deadLetterKey) before(o deadLetterKey) bool {
	if k.at != o.at {
		return k.at > o.at
	}
	if k.module != o.module {
		return k.module < o.module
	}
	return k.id > o.id
}

func (k deadLetterKey) cursor() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d|%s|%d", k.at, k.module, k.id))
}

func parseDeadLetterCursor(s string) (deadLetterKey, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return deadLetterKey{}, false
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 {
		return deadLetterKey{}, false
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return deadLetterKey{}, false
	}
	return deadLetterKey{at, parts[1], id}, true
}
