package service

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/modshop/modshop/modules/customers/internal/store"
	"github.com/modshop/modshop/platform/auth"
	"github.com/modshop/modshop/platform/database"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// newService runs the use cases on a migrated SQLite database of the test's
// own, without HTTP or fx: what the benchmarks measure is the use case.
func newService(tb testing.TB, cfg Config) *Service {
	tb.Helper()
	return serviceOn(tb, testkit.SQLite(tb), cfg)
}

// serviceOn is newService on db; each call is a process of its own, with
// its own connections.
func serviceOn(tb testing.TB, db testkit.DB, cfg Config) *Service {
	tb.Helper()
	s, _ := serviceWithHandle(tb, db, cfg)
	return s
}

// serviceWithHandle is serviceOn, with the database handle the service
// runs on, for a test to look at the tables.
func serviceWithHandle(tb testing.TB, db testkit.DB, cfg Config) (*Service, *database.Handle) {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	url := db.URL
	reg := database.NewRegistry(func(string) string { return url }, log, nil)
	tb.Cleanup(func() { reg.Close() })
	h, err := reg.For("customers")
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for _, set := range []database.MigrationSet{events.Migrations("customers"), store.Migrations} {
		if _, err := database.Migrate(ctx, h, set); err != nil {
			tb.Fatal(err)
		}
	}
	ob := events.NewBus(events.NewGoChannel(log), nil, log).Outbox(h)
	s, err := New(ob, auth.NewKeys([]byte(testkit.JWTSecret)), cfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	return s, h
}
