//go:build !linux

package orders_test

import "time"

func processCPU() time.Duration  { return 0 }
func postgresCPU() time.Duration { return 0 }
