package main

import (
	"os"
	"runtime/debug"
)

// tuneRuntime sets a garbage-collector target suited to a proxy: most
// allocations are per request and short-lived, so collecting less often
// trades a little memory for CPU. GOGC in the environment wins.
func tuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
