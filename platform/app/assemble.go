package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/modshop/modshop/platform/config"
)

// Module is an entry of the binary's module list.
type Module struct {
	Name  string
	Local fx.Option // the module running in this process
	// Remote gives a process that does not run the module its api over
	// HTTP (MODSHOP_REMOTE_<NAME>) and forwards its public routes there.
	Remote fx.Option
	// Needs are the modules whose api it cannot run without (each must run
	// here or be remote).
	Needs []string
	// Settings reads the module's own MODSHOP_* variables into env, which
	// collects what is wrong with them (ReadsSettings makes it from the
	// module's ReadSettings); nil when the module has none.
	Settings func(env *config.Env)
}

// ReadsSettings is a module's ReadSettings as Module.Settings.
func ReadsSettings[T any](read func(*config.Env) T) func(*config.Env) {
	return func(env *config.Env) { read(env) }
}

// Settings checks the settings of every module the binary knows, run here
// or not, as config.Load checks the platform's: each problem is one line
// naming its variable.
func Settings(cfg config.Config, mods []Module) []string {
	env := cfg.Env()
	for _, m := range mods {
		if m.Settings != nil {
			m.Settings(env)
		}
	}
	return config.Problems(env.Err())
}

// Topology checks that every module this process runs finds the modules it
// needs, here or remote; each problem is one line naming what to set.
func Topology(cfg config.Config, mods []Module) []string {
	var p []string
	for _, m := range mods {
		if !cfg.Runs(m.Name) {
			continue
		}
		for _, n := range m.Needs {
			if !cfg.Runs(n) && cfg.Remotes[n] == "" {
				p = append(p, fmt.Sprintf("MODSHOP_MODULES: %s needs %s; run it here too or set MODSHOP_REMOTE_%s to where it runs",
					m.Name, n, strings.ToUpper(n)))
			}
		}
	}
	for _, m := range mods {
		if !cfg.Runs(m.Name) && cfg.Remotes[m.Name] != "" && m.Remote == nil {
			p = append(p, fmt.Sprintf("MODSHOP_REMOTE_%s: %s cannot be called remotely yet", strings.ToUpper(m.Name), m.Name))
		}
	}
	return p
}

// Names lists the modules' names.
func Names(mods []Module) []string {
	out := make([]string, len(mods))
	for i, m := range mods {
		out[i] = m.Name
	}
	return out
}

// New assembles an fx app of the platform and the modules cfg runs.
func New(cfg config.Config, mods []Module, logOut io.Writer, extra ...fx.Option) *fx.App {
	opts := []fx.Option{
		Platform(cfg, logOut),
		fx.WithLogger(func(log *slog.Logger) fxevent.Logger {
			l := &fxevent.SlogLogger{Logger: log}
			l.UseLogLevel(slog.LevelDebug)
			// A failed start is the command's to tell, in one line
			// (modshop: start: ...), not fx's in three more.
			l.UseErrorLevel(slog.LevelDebug)
			return l
		}),
	}
	if p := Topology(cfg, mods); len(p) > 0 {
		return fx.New(fx.Error(errors.New(strings.Join(p, "; "))))
	}
	for _, m := range mods {
		switch {
		case cfg.Runs(m.Name):
			opts = append(opts, m.Local)
		case cfg.Remotes[m.Name] != "":
			opts = append(opts, m.Remote)
		}
	}
	return fx.New(append(opts, extra...)...)
}
