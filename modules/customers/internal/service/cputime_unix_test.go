//go:build unix

package service

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used: unlike
// wall time per operation, it does not grow when other processes compete
// for the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
