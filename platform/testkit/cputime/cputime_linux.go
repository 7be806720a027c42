//go:build linux

package cputime

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Thread is the CPU time of the calling OS thread (the caller locks its
// goroutine to the thread): work on other threads, such as garbage
// collection, is left out.
func Thread() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Of is the CPU time (user + system) process pid has used so far, from
// /proc/<pid>/stat; 0 when /proc cannot tell.
func Of(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	_, d := stat(string(b))
	return d
}

// Commands is the CPU time every running process whose command name starts
// with prefix ("postgres", "nats-server") has used so far.
func Commands(prefix string) time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if name, d := stat(string(b)); strings.HasPrefix(name, prefix) {
			total += d
		}
	}
	return total
}

// stat reads a /proc/<pid>/stat line: the command's name, and utime +
// stime.
func stat(s string) (string, time.Duration) {
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 14 {
		return "", 0
	}
	u, _ := strconv.ParseInt(fields[11], 10, 64)
	k, _ := strconv.ParseInt(fields[12], 10, 64)
	return s[open+1 : end], time.Duration(u+k) * 10 * time.Millisecond // USER_HZ = 100 on Linux
}
