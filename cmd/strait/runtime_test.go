package main

import "testing"

// Small live heaps get the most headroom relative to their size, large
// ones about their own size again.
func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{8 << 20, 400},   // 32 MiB of headroom fits under the cap
		{32 << 20, 200},  // capped at 64 MiB
		{64 << 20, 100},  // the live heap itself
		{300 << 20, 100}, // never below GOGC=100
	} {
		if got := gcPercent(tc.live); got != tc.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}
