package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// histogram is a fixed-bucket histogram updated with atomics only, so that
// the request path never takes a lock or calls into Prometheus. Values
// are integers (nanoseconds or bytes); scale turns them into the
// exported unit (seconds or bytes).
type histogram struct {
	// counts[i] counts values at or below bounds[i]; the last counts the
	// rest (+Inf).
	counts []atomic.Uint64
	sum    atomic.Int64
}

func newHistogram(bounds []int64) histogram {
	return histogram{counts: make([]atomic.Uint64, len(bounds)+1)}
}

// observe adds v; bounds are the ascending upper bounds the histogram was
// made with.
func (h *histogram) observe(bounds []int64, v int64) {
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(v)
}

// constMetric renders the histogram for a scrape: cumulative bucket
// counts, the sum scaled into the exported unit, and the count.
func (h *histogram) constMetric(d *prometheus.Desc, bounds []int64, scale float64, labels []string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var cum uint64
	for i, b := range bounds {
		cum += h.counts[i].Load()
		buckets[float64(b)*scale] = cum
	}
	cum += h.counts[len(bounds)].Load()
	return prometheus.MustNewConstHistogram(d, cum, float64(h.sum.Load())*scale, buckets, labels...)
}

// quantile estimates the q-quantile (0 < q < 1) in integer units by linear
// interpolation within the bucket that holds it; ok is false when the
// histogram is empty. Values above the last bound are reported as the
// last bound.
func (h *histogram) quantile(bounds []int64, q float64) (v float64, ok bool) {
	counts := make([]uint64, len(h.counts))
	var total uint64
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0, false
	}
	rank := q * float64(total)
	var cum float64
	for i, c := range counts {
		next := cum + float64(c)
		if next >= rank && c > 0 {
			if i == len(bounds) {
				return float64(bounds[len(bounds)-1]), true
			}
			lo := 0.0
			if i > 0 {
				lo = float64(bounds[i-1])
			}
			return lo + (float64(bounds[i])-lo)*(rank-cum)/float64(c), true
		}
		cum = next
	}
	return float64(bounds[len(bounds)-1]), true
}

// secondsBounds turns bucket bounds in seconds into nanoseconds.
func secondsBounds(s []float64) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v * 1e9)
	}
	return out
}

// byteBounds turns bucket bounds in bytes into integers.
func byteBounds(s []float64) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}
