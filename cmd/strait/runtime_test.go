package main

import "testing"

// Small live heaps get the most headroom relative to their size, large
// ones twice their size.
func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{8 << 20, 400},   // 32 MiB of headroom fits under the cap
		{32 << 20, 400},  // 128 MiB: at the cap
		{48 << 20, 266},  // capped at 128 MiB
		{64 << 20, 200},  // twice the live heap
		{300 << 20, 200}, // never below GOGC=200
	} {
		if got := gcPercent(tc.live); got != tc.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}
