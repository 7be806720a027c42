package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/errs"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
)

// DeadLetterPage is a page of dead letters.
type DeadLetterPage struct {
	Items      []events.DeadLetter `json:"items"`
	NextCursor *string             `json:"next_cursor"`
}

// platformRoutes are the platform's own /v1 routes: the event bus's dead
// letters, which admins look at and replay once the cause is fixed.
func platformRoutes(bus *events.Bus) httpx.RouteSet {
	return httpx.RouteSet{Module: "platform",
		Description: "Operations of the platform itself: events that consumers gave up on (dead letters), and their replay.",
		Routes: []httpx.Route{
			{
				Method: http.MethodGet, Path: "/v1/admin/events/dead-letters", Access: httpx.Admin,
				Summary: "Events a consumer gave up on after its retries, newest first",
				Query: []httpx.Param{
					{Name: "include_replayed", Type: "boolean", Description: "also list the dead letters already replayed"},
					httpx.PageParams()[0], httpx.PageParams()[1],
				},
				Response: DeadLetterPage{},
				Handler:  listDeadLetters(bus),
			},
			{
				Method: http.MethodPost, Path: "/v1/admin/events/dead-letters/:module/:id/replay", Access: httpx.Admin,
				Summary:  "Hand a dead letter to its consumer again; on success it is marked replayed",
				Response: events.DeadLetter{},
				Handler:  replayDeadLetter(bus),
			},
		}}
}

// deadLetterKey orders dead letters newest first, then by module and id.
type deadLetterKey struct {
	at     int64
	module string
	id     int64
}

func keyOf(d events.DeadLetter) deadLetterKey {
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

func parseCursor(s string) (deadLetterKey, bool) {
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

func listDeadLetters(bus *events.Bus) echo.HandlerFunc {
	return func(c echo.Context) error {
		var fe errs.Fields
		limit := httpx.QueryInt(c, "limit", 20, 1, 100, &fe)
		includeReplayed := false
		if v := c.QueryParam("include_replayed"); v != "" {
			b, err := strconv.ParseBool(v)
			fe.Check(err == nil, "include_replayed", "must be true or false")
			includeReplayed = b
		}
		var after *deadLetterKey
		if v := c.QueryParam("cursor"); v != "" {
			k, ok := parseCursor(v)
			fe.Check(ok, "cursor", "is not a cursor this list gave")
			after = &k
		}
		if err := fe.Err(); err != nil {
			return err
		}
		all, err := bus.DeadLetters(c.Request().Context(), includeReplayed)
		if err != nil {
			return errs.Internal(err)
		}
		sort.Slice(all, func(i, j int) bool { return keyOf(all[i]).before(keyOf(all[j])) })
		page := DeadLetterPage{Items: []events.DeadLetter{}}
		for _, d := range all {
			if after != nil && !after.before(keyOf(d)) {
				continue
			}
			if int64(len(page.Items)) == limit {
				next := keyOf(page.Items[len(page.Items)-1]).cursor()
				page.NextCursor = &next
				break
			}
			page.Items = append(page.Items, d)
		}
		return c.JSON(http.StatusOK, page)
	}
}

func replayDeadLetter(bus *events.Bus) echo.HandlerFunc {
	return func(c echo.Context) error {
		module := c.Param("module")
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return errs.NotFound("no such dead letter")
		}
		ctx := c.Request().Context()
		switch err := bus.Replay(ctx, module, id); {
		case errors.Is(err, events.ErrNoDeadLetter):
			return errs.NotFound("no such dead letter, or it was replayed already")
		case errors.Is(err, events.ErrReplayFailed):
			return errs.Conflict("conflict", "the consumer failed again; the dead letter stays").WithCause(err)
		case err != nil:
			return errs.Internal(err)
		}
		dl, err := bus.DeadLetter(ctx, module, id)
		if err != nil {
			return errs.Internal(err)
		}
		return c.JSON(http.StatusOK, dl)
	}
}
