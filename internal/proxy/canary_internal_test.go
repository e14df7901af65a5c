package proxy

import (
	"math"
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// TestCanaryWeight checks the weighted draw against the binomial
// distribution: within five standard deviations of n·w/total.
func TestCanaryWeight(t *testing.T) {
	reg := upstream.NewRegistry(0)
	backends := reg.Update([]model.Backend{{Name: "c", Protocol: model.ProtocolHTTP, Endpoints: []model.Endpoint{{Host: "127.0.0.1", Port: 1}}}})
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	const n = 20000
	for _, tc := range []struct{ weight, total int }{{30, 100}, {300, 1000}, {1, 100}, {10, 50}, {0, 100}, {100, 100}, {150, 100}} {
		cr := compileCanary(&model.Canary{Backend: "c", Weight: tc.weight, WeightTotal: tc.total}, backends)
		hits := 0
		for range n {
			if cr.pick(r) {
				hits++
			}
		}
		p := math.Min(float64(tc.weight)/math.Max(float64(tc.total), 100), 1)
		mean, sigma := n*p, math.Sqrt(n*p*(1-p))
		if math.Abs(float64(hits)-mean) > 5*sigma {
			t.Errorf("weight %d of %d: %d of %d requests to the canary, want %.0f ± %.0f", tc.weight, tc.total, hits, n, mean, 5*sigma)
		}
	}
}
