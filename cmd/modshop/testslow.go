//go:build modshop_testslow

package main

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/httpx"
	"github.com/modshop/modshop/platform/modkit"
)

// slowtest is a module only the shutdown test builds in (go build -tags
// modshop_testslow): GET /v1/slowtest/slow?ms=N answers after N ms, having
// written an item and its event, which its consumer records.
func init() {
	modules = append(modules, app.Module{Name: "slowtest", Local: fx.Module("slowtest",
		modkit.Describe(modkit.Descriptor{Name: "slowtest", Summary: "test only: a slow route"}),
		modkit.Storage("slowtest"),
		modkit.Migrations(database.MigrationSet{Module: "slowtest", Component: "module", Migrations: []database.Migration{{
			Version: 1, Name: "items",
			SQL: "CREATE TABLE slowtest_items (id BIGSERIAL PRIMARY KEY, ms INTEGER NOT NULL);\nCREATE TABLE slowtest_seen (ms INTEGER NOT NULL);",
		}}}),
		modkit.Routes(func(ob *events.Outbox, log *slog.Logger) httpx.RouteSet {
			return modkit.RouteSet("slowtest", httpx.Route{Method: "GET", Path: "/v1/slowtest/slow", Access: httpx.Public,
				Handler: func(c echo.Context) error {
					ms, _ := strconv.Atoi(c.QueryParam("ms"))
					log.Info("slowtest: sleeping", "ms", ms)
					time.Sleep(time.Duration(ms) * time.Millisecond)
					err := ob.Transact(context.WithoutCancel(c.Request().Context()), func(tx *events.Tx) error {
						if err := tx.Exec("INSERT INTO slowtest_items (ms) VALUES (?)", ms).Error; err != nil {
							return err
						}
						return tx.Publish(slowDone{MS: ms})
					})
					if err != nil {
						return err
					}
					return c.JSON(200, map[string]int{"slept_ms": ms})
				}})
		}),
		modkit.Consumer(func(ob *events.Outbox) events.Consumer {
			return ob.Consumer("record", events.On(func(_ context.Context, tx *events.Tx, e slowDone) error {
				time.Sleep(200 * time.Millisecond) // still handling when the process is told to stop
				return tx.Exec("INSERT INTO slowtest_seen (ms) VALUES (?)", e.MS).Error
			}))
		}),
	)})
}

type slowDone struct {
	MS int `json:"ms"`
}

func (slowDone) EventName() string { return "slowtest.done.v1" }
func (slowDone) EventKey() string  { return "slow" }
