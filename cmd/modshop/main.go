// Command modshop is the whole shop in one binary: serve, migrate, seed,
// modules, probe, version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/cart"
	"github.com/modshop/modshop/modules/catalog"
	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/payments"
	"github.com/modshop/modshop/modules/search"
	"github.com/modshop/modshop/modules/web"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
)

// modules is every module the binary knows, in dependency order.
var modules = []app.Module{
	{Name: inventory.Name, Local: inventory.Module, Remote: inventory.Remote, Settings: app.ReadsSettings(inventory.ReadSettings)},
	{Name: catalog.Name, Local: catalog.Module, Remote: catalog.Remote, Needs: []string{inventory.Name}},
	{Name: search.Name, Local: search.Module, Remote: search.Remote, Needs: []string{catalog.Name, inventory.Name}},
	{Name: cart.Name, Local: cart.Module, Remote: cart.Remote, Needs: []string{catalog.Name, inventory.Name}},
	{Name: customers.Name, Local: customers.Module, Remote: customers.Remote, Settings: app.ReadsSettings(customers.ReadSettings)},
	{Name: payments.Name, Local: payments.Module, Remote: payments.Remote},
	{Name: orders.Name, Local: orders.Module, Remote: orders.Remote, Needs: []string{cart.Name, inventory.Name, payments.Name}},
	{Name: web.Name, Local: web.Module, Needs: web.Needs, Settings: app.ReadsSettings(web.ReadSettings)},
}

const usage = `modshop — an e-commerce backend, one binary of modules

usage:
  modshop serve [--addr :8080]     apply pending migrations, then serve the API
  modshop migrate                  apply pending migrations and exit
  modshop seed [--products N] [--stock=false]
                                   fill the database with a deterministic demo catalog and stock
  modshop modules                  show this process's modules and how they connect
  modshop search reindex           rebuild the search index from the catalog (serve stopped)
  modshop probe [--addr :8080]     ask the serve on this machine whether it is ready (/readyz):
                                   exit 0 if it is, 1 if not (a container's health check)
  modshop move MODULE --to URL     copy a module's tables from its database to the one at URL,
                                   verified (the module stopped; see docs/extraction.md)
  modshop version                  print the version

Configuration comes from MODSHOP_* variables (see README.md).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exitConfig is the exit code for a wrong configuration or usage.
const exitConfig = 2

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("modshop "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Each command takes only its own flags, and its --help lists only those.
	addr, products, withStock, to := new(string), new(int), new(bool), new(string)
	switch cmd {
	case "serve", "probe":
		fs.StringVar(addr, "addr", "", "listen address (overrides MODSHOP_HTTP_ADDR)")
	case "seed":
		fs.IntVar(products, "products", 200, "how many demo products seed creates")
		fs.BoolVar(withStock, "stock", true, "seed also books demo stock for the new SKUs through the inventory")
	case "move":
		fs.StringVar(to, "to", "", "the database URL to move the module to")
	}
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "modshop", app.Version)
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	case "serve", "migrate", "seed", "modules", "search", "probe", "move":
	default:
		fmt.Fprintf(stderr, "modshop: unknown command %q\n\n%s", cmd, usage)
		return exitConfig
	}
	var module string // move's MODULE, before or after its flags
	if cmd == "move" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		module, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitConfig
	}
	if cmd == "move" && module == "" && fs.NArg() == 1 {
		module = fs.Arg(0)
	} else if cmd == "move" && module == "" {
		fmt.Fprintln(stderr, "modshop move: usage: modshop move MODULE --to URL")
		return exitConfig
	} else if cmd == "move" && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "modshop move: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	if cmd != "search" && cmd != "move" && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "modshop %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return exitConfig
	}
	// Every bad variable, the platform's and the modules' own, is one line,
	// and all are told before anything starts.
	cfg, err := config.FromEnv(app.Names(modules))
	problems := append(config.Problems(err), app.Settings(cfg, modules)...)
	slices.Sort(problems)
	problems = append(problems, app.Topology(cfg, modules)...)
	bad := len(problems) > 0
	for _, p := range problems {
		fmt.Fprintln(stderr, "modshop: "+p)
	}
	if *addr != "" {
		if err := config.ValidateAddr(*addr); err != nil {
			bad = true
			fmt.Fprintln(stderr, "modshop: --addr: "+err.Error())
		}
		cfg.HTTPAddr = *addr
	}
	if bad {
		return exitConfig
	}
	switch cmd {
	case "serve":
		return serve(cfg, stderr)
	case "migrate":
		return migrate(cfg, stdout, stderr)
	case "seed":
		if *products < 0 || *products > 10_000_000 {
			fmt.Fprintln(stderr, "modshop: --products must be from 0 to 10000000")
			return exitConfig
		}
		return seed(cfg, *products, *withStock, stdout, stderr)
	case "modules":
		return describe(cfg, stdout, stderr)
	case "search":
		return searchCommand(cfg, fs.Args(), stdout, stderr)
	case "probe":
		return probe(cfg.HTTPAddr, stdout, stderr)
	case "move":
		return move(cfg, module, *to, stdout, stderr)
	}
	return exitConfig
}

func serve(cfg config.Config, stderr io.Writer) int {
	a := app.New(cfg, modules, stderr, fx.Invoke(app.Serve))
	if err := a.Err(); err != nil {
		fmt.Fprintln(stderr, "modshop:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := a.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "modshop: start:", err)
		return 1
	}
	<-ctx.Done()
	stop() // a second signal ends the process at once
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace+20*time.Second)
	defer cancel()
	if err := a.Stop(stopCtx); err != nil {
		fmt.Fprintln(stderr, "modshop: stop:", err)
		return 1
	}
	return 0
}

func migrate(cfg config.Config, stdout, stderr io.Writer) int {
	var m *app.Migrator
	a := app.New(cfg, modules, stderr, fx.Populate(&m))
	if err := a.Err(); err != nil {
		fmt.Fprintln(stderr, "modshop:", err)
		return 1
	}
	applied, err := m.Apply(context.Background()) // printed below, not logged too
	for _, x := range applied {
		fmt.Fprintf(stdout, "applied %s/%s %04d_%s\n", x.Module, x.Component, x.Version, x.Name)
	}
	if err != nil {
		fmt.Fprintln(stderr, "modshop: migrate:", err)
		return 1
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "nothing to apply: the schema is up to date")
	}
	return 0
}
