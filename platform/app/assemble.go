package app

import (
	"io"
	"log/slog"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/modshop/modshop/platform/config"
)

// Module is an entry of the binary's module list.
type Module struct {
	Name  string
	Local fx.Option // the module running in this process
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
			return l
		}),
	}
	for _, m := range mods {
		if cfg.Runs(m.Name) {
			opts = append(opts, m.Local)
		}
	}
	return fx.New(append(opts, extra...)...)
}
