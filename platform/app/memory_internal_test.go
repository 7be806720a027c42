package app

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"testing"

	"github.com/modshop/modshop/platform/config"
)

// MODSHOP_MEMORY_LIMIT_MIB becomes the Go runtime's memory limit, and 0
// leaves the runtime's own (GOMEMLIMIT or none) alone.
func TestSetMemoryLimit(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: it wins over MODSHOP_MEMORY_LIMIT_MIB")
	}
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	setMemoryLimit(config.Config{MemoryLimitMiB: 96}, log)
	if got := debug.SetMemoryLimit(-1); got != 96<<20 {
		t.Fatalf("memory limit = %d, want %d", got, 96<<20)
	}
	setMemoryLimit(config.Config{MemoryLimitMiB: 0}, log)
	if got := debug.SetMemoryLimit(-1); got != 96<<20 {
		t.Fatalf("MODSHOP_MEMORY_LIMIT_MIB=0 changed the limit to %d", got)
	}
}
