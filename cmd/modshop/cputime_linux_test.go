//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// processCPU is the CPU time (user + system) process pid has used so far,
// from /proc/<pid>/stat; 0 when /proc cannot tell.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	_, d := statCPU(string(b))
	return d
}

// natsCPU is the CPU time every running nats-server process has used so
// far.
func natsCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if name, d := statCPU(string(b)); name == "nats-server" {
			total += d
		}
	}
	return total
}

// statCPU reads a /proc/<pid>/stat line: the command's name, and utime +
// stime.
func statCPU(s string) (string, time.Duration) {
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
