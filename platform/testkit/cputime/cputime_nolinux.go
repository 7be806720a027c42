//go:build !linux

package cputime

import "time"

// Thread, Of and Commands cannot tell outside Linux.
func Thread() time.Duration { return 0 }

// Of cannot tell outside Linux.
func Of(int) time.Duration { return 0 }

// Commands cannot tell outside Linux.
func Commands(string) time.Duration { return 0 }
