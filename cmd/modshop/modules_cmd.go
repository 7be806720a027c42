package main

import (
	"fmt"
	"io"
	"strings"

	"go.uber.org/fx"

	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/modkit"
)

// describe prints the topology of this process.
func describe(cfg config.Config, stdout, stderr io.Writer) int {
	var in struct {
		fx.In
		Mods      []modkit.Descriptor `group:"modules"`
		Consumers []events.Consumer   `group:"consumers"`
	}
	a := app.New(cfg, modules, io.Discard, fx.Populate(&in))
	if err := a.Err(); err != nil {
		fmt.Fprintln(stderr, "modshop:", err)
		return 1
	}
	local := map[string]modkit.Descriptor{}
	for _, d := range in.Mods {
		local[d.Name] = d
	}
	consumes := map[string][]string{}
	for _, c := range in.Consumers {
		mod, _, _ := strings.Cut(c.Name, ".")
		for _, e := range c.Events() {
			consumes[mod] = append(consumes[mod], e+" ("+c.Name+")")
		}
	}
	transport := "in-process (Watermill GoChannel)"
	if cfg.NATSURL != "" {
		transport = "NATS JetStream at " + cfg.NATSURL
	}
	fmt.Fprintf(stdout, "events: %s\n\n", transport)
	for _, m := range modules {
		d, ok := local[m.Name]
		where := "local"
		switch {
		case !ok:
			where = "not run here"
		case d.Remote != "":
			where = "remote " + d.Remote
		}
		fmt.Fprintf(stdout, "%-10s %s\n", m.Name, where)
		if !ok {
			continue
		}
		if d.Summary != "" {
			fmt.Fprintf(stdout, "  %s\n", d.Summary)
		}
		if d.Remote == "" {
			fmt.Fprintf(stdout, "  database:  %s\n", redactURL(cfg.DatabaseURLFor(m.Name)))
		}
		printList(stdout, "calls", d.Calls)
		printList(stdout, "publishes", d.Publishes)
		if d.Remote != "" {
			// Its consumers run where it runs: what it declares.
			printList(stdout, "consumes", d.Consumes)
		} else {
			printList(stdout, "consumes", consumes[m.Name])
		}
	}
	return 0
}

func printList(w io.Writer, label string, items []string) {
	if len(items) == 0 {
		fmt.Fprintf(w, "  %-10s -\n", label+":")
		return
	}
	for i, it := range items {
		if i == 0 {
			fmt.Fprintf(w, "  %-10s %s\n", label+":", it)
		} else {
			fmt.Fprintf(w, "  %-10s %s\n", "", it)
		}
	}
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 && strings.Contains(u[:i], ":") {
		scheme, rest, _ := strings.Cut(u, "://")
		if j := strings.Index(rest, ":"); j >= 0 && j < strings.Index(rest, "@") {
			return scheme + "://" + rest[:j] + ":xxxxx" + rest[strings.Index(rest, "@"):]
		}
	}
	return u
}
