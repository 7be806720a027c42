//go:build !linux

package engine

import "time"

// CPU time metrics are only reported on Linux.
func cpuTime() time.Duration       { return 0 }
func threadCPUTime() time.Duration { return 0 }
