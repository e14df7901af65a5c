package main

import (
	"math"
	"slices"
	"time"
)

// latencyPercentiles are the percentiles every scenario reports.
type latencyPercentiles struct {
	P50, P99, P999 time.Duration
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted, the smallest sample that at least p percent of the samples do not
// exceed. Nearest rank never interpolates, so every figure reported is a
// latency some request really had. An empty input gives 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The epsilon keeps float error (99.9/100·1000 = 999.0000000000001)
	// from pushing the rank one sample up.
	rank := int(math.Ceil(p/100*float64(len(sorted)) - 1e-9))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// percentilesOf sorts samples in place and returns their p50, p99 and p99.9.
// Keeping every sample instead of a bucketed histogram costs 8 bytes a
// request, a few MB for the longest run, and makes the tail exact.
func percentilesOf(samples []time.Duration) latencyPercentiles {
	slices.Sort(samples)
	return latencyPercentiles{
		P50:  percentile(samples, 50),
		P99:  percentile(samples, 99),
		P999: percentile(samples, 99.9),
	}
}
