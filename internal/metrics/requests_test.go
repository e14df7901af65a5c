package metrics

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRequestSeries(t *testing.T) {
	r := NewRequests(RequestOptions{PerHost: true, ControllerClass: "strait.dev/ingress-controller", ControllerPod: "p"})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r)
	a := r.Series(RouteKey{Namespace: "ns", Ingress: "shop", Host: "shop.test", Path: "/", Service: "web"})
	if r.Series(a.Key()) != a {
		t.Fatal("the same key gave other series")
	}
	for range 3 {
		a.Observe(&Observation{Method: "GET", Status: 200, Duration: 30 * time.Millisecond, RequestBytes: 55, ResponseBytes: 1500, Upstream: true, UpstreamDuration: 20 * time.Millisecond})
	}
	// A method outside the standard ones is "OTHER", so clients cannot
	// add series; a status outside 100-599 counts as 500.
	a.Observe(&Observation{Method: "BREW", Status: 418, Duration: time.Millisecond})
	a.Observe(&Observation{Method: "GET", Status: 0, Duration: time.Millisecond})

	want := `
# HELP nginx_ingress_controller_requests The total number of client requests.
# TYPE nginx_ingress_controller_requests counter
nginx_ingress_controller_requests{canary="",controller_class="strait.dev/ingress-controller",controller_namespace="",controller_pod="p",host="shop.test",ingress="shop",method="GET",namespace="ns",path="/",service="web",status="200"} 3
nginx_ingress_controller_requests{canary="",controller_class="strait.dev/ingress-controller",controller_namespace="",controller_pod="p",host="shop.test",ingress="shop",method="GET",namespace="ns",path="/",service="web",status="500"} 1
nginx_ingress_controller_requests{canary="",controller_class="strait.dev/ingress-controller",controller_namespace="",controller_pod="p",host="shop.test",ingress="shop",method="OTHER",namespace="ns",path="/",service="web",status="418"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "nginx_ingress_controller_requests"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(r, "nginx_ingress_controller_response_size"); n != 3 {
		t.Errorf("%d response_size series, want 3", n)
	}
	tot := r.Totals()
	if len(tot) != 1 || tot[0].Requests != 5 || tot[0].Errors5xx != 1 {
		t.Errorf("totals %+v, want 5 requests, 1 5xx", tot)
	}

	// Series no route holds any more are dropped.
	r.Prune(func(*RouteSeries) bool { return false })
	if n := testutil.CollectAndCount(r); n != 0 {
		t.Errorf("%d series after pruning, want 0", n)
	}
}

func TestStatusClassesAndHosts(t *testing.T) {
	r := NewRequests(RequestOptions{StatusClasses: true})
	a := r.Series(RouteKey{Namespace: "ns", Ingress: "shop", Host: "a.test", Path: "/"})
	b := r.Series(RouteKey{Namespace: "ns", Ingress: "shop", Host: "b.test", Path: "/"})
	if a != b {
		t.Error("without --metrics-per-host, two hosts of one path have separate series")
	}
	for _, st := range []int{200, 201, 204, 502, 503} {
		a.Observe(&Observation{Method: "GET", Status: st})
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r)
	want := `
# HELP nginx_ingress_controller_requests The total number of client requests.
# TYPE nginx_ingress_controller_requests counter
nginx_ingress_controller_requests{canary="",controller_class="",controller_namespace="",controller_pod="",ingress="shop",method="GET",namespace="ns",path="/",service="",status="2xx"} 3
nginx_ingress_controller_requests{canary="",controller_class="",controller_namespace="",controller_pod="",ingress="shop",method="GET",namespace="ns",path="/",service="",status="5xx"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "nginx_ingress_controller_requests"); err != nil {
		t.Error(err)
	}
}

func TestUpstreamLatencyQuantiles(t *testing.T) {
	r := NewRequests(RequestOptions{})
	s := r.Series(RouteKey{Namespace: "ns", Ingress: "shop", Path: "/", Service: "web"})
	// 1 ms to 1000 ms, evenly: the median is about 500 ms, the 0.99
	// quantile about 990 ms.
	for ms := 1; ms <= 1000; ms++ {
		s.Observe(&Observation{Method: "GET", Status: 200, Upstream: true, UpstreamDuration: time.Duration(ms) * time.Millisecond})
	}
	for q, want := range map[float64]float64{0.5: 0.5, 0.9: 0.9, 0.99: 0.99} {
		v, ok := s.latency.quantile(r.latBounds, q)
		if got := v / 1e9; !ok || math.Abs(got-want)/want > 0.125 {
			t.Errorf("quantile %v = %v s, want %v s within 12.5 %%", q, got, want)
		}
	}
	if n := testutil.CollectAndCount(r, "nginx_ingress_controller_ingress_upstream_latency_seconds"); n != 1 {
		t.Errorf("%d latency summaries, want 1", n)
	}
}

func TestValidateBuckets(t *testing.T) {
	if err := (RequestOptions{TimeBuckets: []float64{1, 0.5}}).ValidateBuckets(); err == nil || !strings.Contains(err.Error(), "--time-buckets") {
		t.Errorf("descending buckets: %v", err)
	}
	if err := (RequestOptions{SizeBuckets: []float64{}}).ValidateBuckets(); err == nil {
		t.Error("an empty bucket list was accepted")
	}
	if err := (RequestOptions{}).ValidateBuckets(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// BenchmarkObserve measures what counting one request costs, from every
// core at once on one route (the contended case):
//
//	go test ./internal/metrics -run XXX -bench Observe -benchmem
func BenchmarkObserve(b *testing.B) {
	r := NewRequests(RequestOptions{PerHost: true})
	s := r.Series(RouteKey{Namespace: "ns", Ingress: "shop", Host: "shop.test", Path: "/", Service: "web"})
	o := Observation{Method: "GET", Status: 200, Duration: 3 * time.Millisecond, RequestBytes: 80, ResponseBytes: 1200, Upstream: true, UpstreamDuration: 2 * time.Millisecond}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Observe(&o)
		}
	})
}
