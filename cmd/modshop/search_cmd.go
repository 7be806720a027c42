package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/fx"

	searchapi "github.com/modshop/modshop/modules/search/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
)

// searchCommand runs `modshop search reindex`: it rebuilds the search read
// model and index from the catalog. The index folder is opened exclusively,
// so run it while `serve` is stopped, or ask a running server with
// POST /v1/admin/search/reindex.
func searchCommand(cfg config.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] != "reindex" {
		fmt.Fprintln(stderr, "usage: modshop search reindex")
		return exitConfig
	}
	if !cfg.Runs("search") {
		fmt.Fprintln(stderr, "modshop: search reindex: this process does not run the search module (MODSHOP_MODULES)")
		return exitConfig
	}
	var (
		m *app.Migrator
		s searchapi.Search
	)
	a := app.New(cfg, modules, stderr, fx.Populate(&m, &s))
	if err := a.Err(); err != nil {
		fmt.Fprintln(stderr, "modshop:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := a.Start(ctx); err != nil { // opens the index
		fmt.Fprintln(stderr, "modshop: search reindex:", err)
		return 1
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = a.Stop(sctx)
	}()
	if _, err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "modshop: search reindex: migrate:", err)
		return 1
	}
	start := time.Now()
	n, err := s.Reindex(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "modshop: search reindex:", err)
		return 1
	}
	fmt.Fprintf(stdout, "reindexed %d products in %s\n", n, time.Since(start).Round(time.Millisecond))
	return 0
}
