package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
)

// moveAfterTable, when set (tests), runs after each table is copied, in the
// target's open transaction.
var moveAfterTable func(table string) error

// move copies one module's tables from the database it uses now
// (MODSHOP_DATABASE_URL_<MODULE> or MODSHOP_DATABASE_URL) to the database at
// to: see database.Move. One line per table on stdout; a refusal or a
// failure is one line on stderr and exit code 1.
func move(cfg config.Config, module, to string, stdout, stderr io.Writer) int {
	if !slices.Contains(app.Names(modules), module) {
		fmt.Fprintf(stderr, "modshop move: unknown module %q (known: %s)\n", module, strings.Join(app.Names(modules), ", "))
		return exitConfig
	}
	if to == "" {
		fmt.Fprintln(stderr, "modshop move: --to URL is required: the database to move "+module+" to")
		return exitConfig
	}
	if err := config.ValidateDatabaseURL(to); err != nil {
		fmt.Fprintln(stderr, "modshop move: --to: "+err.Error())
		return exitConfig
	}
	from := cfg.DatabaseURLFor(module)
	if file, ok := strings.CutPrefix(from, "sqlite://"); ok {
		file, _, _ = strings.Cut(file, "?")
		//nolint:gosec // G703: the path is the operator's own configuration, only looked at
		if _, err := os.Stat(strings.TrimPrefix(file, "file:")); err != nil {
			fmt.Fprintf(stderr, "modshop move: refused: the source database %s does not exist\n", file)
			return 1
		}
	}
	sets, err := migrationSets(cfg, module)
	if err != nil {
		fmt.Fprintln(stderr, "modshop move:", err)
		return 1
	}
	src, err := database.Open(from)
	if err != nil {
		fmt.Fprintln(stderr, "modshop move: source:", err)
		return 1
	}
	defer src.Close()
	tgt, err := database.Open(to)
	if err != nil {
		fmt.Fprintln(stderr, "modshop move: target:", err)
		return 1
	}
	defer tgt.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	copies, err := database.Move{
		Module: module, Source: src, Target: tgt, Sets: sets, AfterTable: moveAfterTable,
		Log: app.NewLogger(cfg, stderr),
	}.Run(ctx)
	var re *database.RefusedError
	switch {
	case errors.As(err, &re):
		fmt.Fprintln(stderr, "modshop move: refused: "+re.Reason)
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "modshop move: failed, the target keeps nothing of "+module+" and the source is unchanged: "+strings.ReplaceAll(err.Error(), "\n", "; "))
		return 1
	}
	for _, c := range copies {
		fmt.Fprintln(stdout, c.String())
	}
	return 0
}

// migrationSets are the module's migrations, as the module registers them:
// every module is assembled (not started) against an in-memory database.
func migrationSets(cfg config.Config, module string) ([]database.MigrationSet, error) {
	dir, err := os.MkdirTemp("", "modshop-move-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	c := cfg
	c.Modules = app.Names(modules)
	c.Remotes = map[string]string{}
	c.ModuleDBURLs = map[string]string{}
	c.DatabaseURL = "sqlite://:memory:"
	c.DataDir = dir
	c.NATSURL = ""
	c.JWTSecret = strings.Repeat("x", 32)
	var sets []database.MigrationSet
	a := app.New(c, modules, io.Discard, fx.Invoke(func(in struct {
		fx.In
		Sets []database.MigrationSet `group:"migrations"`
	}) {
		sets = in.Sets
	}))
	if err := a.Err(); err != nil {
		return nil, fmt.Errorf("assemble the modules: %w", err)
	}
	var own []database.MigrationSet
	for _, s := range sets {
		if s.Module == module {
			own = append(own, s)
		}
	}
	if len(own) == 0 {
		return nil, fmt.Errorf("%s has no migrations: nothing to move", module)
	}
	return own, nil
}
