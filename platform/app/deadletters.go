package app

import (
	"net/http"
	"strconv"

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
		if err := fe.Err(); err != nil {
			return err
		}
		items, next, err := bus.DeadLetterPage(c.Request().Context(), includeReplayed, c.QueryParam("cursor"), int(limit))
		if err != nil {
			return err
		}
		page := DeadLetterPage{Items: items}
		if next != "" {
			page.NextCursor = &next
		}
		return c.JSON(http.StatusOK, page)
	}
}

func replayDeadLetter(bus *events.Bus) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return errs.NotFound("no such dead letter")
		}
		dl, err := bus.ReplayDeadLetter(c.Request().Context(), c.Param("module"), id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, dl)
	}
}
