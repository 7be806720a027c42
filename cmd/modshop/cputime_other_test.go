//go:build !linux

package main

import "time"

// processCPU and natsCPU cannot tell outside Linux.
func processCPU(int) time.Duration { return 0 }

func natsCPU() time.Duration { return 0 }
