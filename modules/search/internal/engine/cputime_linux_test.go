//go:build linux

package engine

import (
	"syscall"
	"time"
	"unsafe"
)

// cpuTime is the CPU time (user+system) used by the process so far. Per-op
// CPU time is much less sensitive than wall time to other load on the
// machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPUTime is the CPU time of the calling OS thread (the caller locks
// its goroutine to the thread). It leaves out work done on other threads:
// garbage collection and bleve's per-segment dictionary goroutines.
func threadCPUTime() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
