//go:build !linux

package clock

import "time"

// sleepUntil blocks until the process clock reads t.
func sleepUntil(t int64) { time.Sleep(time.Duration(t - Now())) }
