package main

import (
	"slices"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	// 1..1000 µs: the p-th percentile of n ordered samples is sample ⌈p·n/100⌉.
	var s []time.Duration
	for i := 1000; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Microsecond)
	}
	got := percentilesOf(s)
	want := latencyPercentiles{P50: 500 * time.Microsecond, P99: 990 * time.Microsecond, P999: 999 * time.Microsecond}
	if got != want {
		t.Errorf("percentilesOf(1..1000µs) = %+v, want %+v", got, want)
	}
	if !slices.IsSorted(s) {
		t.Error("percentilesOf left its samples unsorted")
	}
	for _, tt := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{7}, 99.9, 7},
		{[]time.Duration{1, 2}, 50, 1},
		{[]time.Duration{1, 2}, 50.1, 2},
		{[]time.Duration{1, 2, 3}, 100, 3},
		{[]time.Duration{1, 2, 3}, 0.001, 1},
	} {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
		}
	}
}

// TestPercentileTail: one slow request in a thousand shows in p99.9 but not
// in p99, which is why the report carries both.
func TestPercentileTail(t *testing.T) {
	s := make([]time.Duration, 1000)
	for i := range s {
		s[i] = time.Millisecond
	}
	s[0] = time.Second
	got := percentilesOf(s)
	if got.P99 != time.Millisecond || got.P999 != time.Millisecond {
		t.Errorf("one outlier in 1000: %+v, want p99 and p99.9 of 1ms", got)
	}
	s = append(s, time.Second)
	if got := percentilesOf(s); got.P999 != time.Second {
		t.Errorf("two outliers in 1001: p99.9 = %v, want 1s", got.P999)
	}
}

func TestOpenSchedules(t *testing.T) {
	start := time.Unix(1000, 0)
	scheds := openSchedules(start, time.Second, 4000, 4)
	if len(scheds) != 4 {
		t.Fatalf("%d schedules, want 4", len(scheds))
	}
	// All connections together: every 250µs, each time exactly once.
	var all []time.Time
	for _, s := range scheds {
		if s.interval != time.Millisecond {
			t.Errorf("interval = %v, want 1ms", s.interval)
		}
		for k := 0; ; k++ {
			due, ok := s.due(k)
			if !ok {
				break
			}
			all = append(all, due)
		}
	}
	if len(all) != 4000 {
		t.Fatalf("%d requests scheduled in 1s at 4000/s", len(all))
	}
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	for i, d := range all {
		if want := start.Add(time.Duration(i) * 250 * time.Microsecond); !d.Equal(want) {
			t.Fatalf("request %d due at %v, want %v", i, d.Sub(start), want.Sub(start))
		}
	}
}
