package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Garbage-collector targets. Most of a proxy's allocations are per request
// and short-lived, so collecting less often trades a little memory for
// CPU: with a small live heap (a few hundred routes) the heap may grow to
// five times it. A large live heap (thousands of Ingresses) would then
// grow by gigabytes under churn, so the headroom is capped at gcHeadroom
// or twice the live heap, whichever is more. Less than that makes
// collections frequent enough under churn to show in propagation times.
const (
	gcMaxPercent = 400
	gcMinPercent = 200
	gcHeadroom   = 128 << 20
	gcEvery      = time.Second
)

// gcPercent is the GOGC value for a live heap of live bytes.
func gcPercent(live uint64) int {
	if live == 0 {
		return gcMaxPercent
	}
	headroom := max(2*live, min(4*live, gcHeadroom))
	return max(gcMinPercent, min(gcMaxPercent, int(headroom*100/live)))
}

// tuneRuntime sets the collector's target and follows the live heap until
// ctx ends. GOGC in the environment wins.
func tuneRuntime(ctx context.Context) {
	if os.Getenv("GOGC") != "" {
		return
	}
	cur := gcMaxPercent
	debug.SetGCPercent(cur)
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(gcEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			// Small moves are not worth a change of pace.
			if p := gcPercent(sample[0].Value.Uint64()); p*10 < cur*9 || p*10 > cur*11 {
				debug.SetGCPercent(p)
				cur = p
			}
		}
	}()
}
