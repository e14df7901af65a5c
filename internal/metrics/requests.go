package metrics

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The request metrics carry ingress-nginx's names and labels, so that
// dashboards and alerts written for it keep working:
// nginx_ingress_controller_requests, ..._request_duration_seconds,
// ..._response_duration_seconds, ..._request_size, ..._response_size
// (labels status, method, path, host, namespace, ingress, service,
// canary) and ..._ingress_upstream_latency_seconds (namespace, ingress,
// service, canary), each with the constant labels controller_class,
// controller_namespace and controller_pod.
//
// Label values come from the configuration, never from the request, so
// the number of series is bounded by the routes served: host and path
// are the Ingress rule's, the method is one of the standard ones or
// "OTHER", and the status is a code from 100 to 599 or, with
// --report-status-classes, its class. Series of routes no longer served
// are dropped at the next scrape.

// DefaultTimeBuckets returns ingress-nginx's --time-buckets: the request
// and upstream duration buckets, in seconds.
func DefaultTimeBuckets() []float64 {
	return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// DefaultLengthBuckets returns ingress-nginx's --length-buckets: the
// request size buckets, in bytes.
func DefaultLengthBuckets() []float64 {
	return []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
}

// DefaultSizeBuckets returns ingress-nginx's --size-buckets: the response
// size buckets, in bytes.
func DefaultSizeBuckets() []float64 {
	return []float64{10, 100, 1000, 10000, 100000, 1e+06, 1e+07}
}

// RequestOptions configure the request metrics.
type RequestOptions struct {
	// PerHost keeps the host label (--metrics-per-host); without it,
	// series of different hosts are one.
	PerHost bool
	// StatusClasses reports "2xx" instead of "200"
	// (--report-status-classes).
	StatusClasses bool
	// ControllerClass, ControllerNamespace and ControllerPod are the
	// constant labels.
	ControllerClass, ControllerNamespace, ControllerPod string
	// TimeBuckets, LengthBuckets and SizeBuckets are the histogram
	// bounds; nil takes the defaults above (ValidateBuckets checks
	// them).
	TimeBuckets, LengthBuckets, SizeBuckets []float64
}

// RouteKey identifies the request series of one route. The zero Canary
// is the route's own backend; otherwise it is the canary backend's
// upstream name, as ingress-nginx's canary label.
type RouteKey struct {
	Namespace, Ingress, Host, Path, Service, Canary string
}

// Observation is one finished request.
type Observation struct {
	Method string
	Status int
	// Duration runs from the first byte of the request to the last of
	// the response.
	Duration time.Duration
	// RequestBytes counts request line, headers and body;
	// ResponseBytes the response body.
	RequestBytes, ResponseBytes int64
	// Upstream is set when an upstream answered; UpstreamDuration is
	// then the upstream exchange's time.
	Upstream         bool
	UpstreamDuration time.Duration
}

// Requests holds the request metrics. It is a prometheus.Collector: the
// request path updates atomics in per-route series, and scrapes read
// them.
type Requests struct {
	opts                    RequestOptions
	time, length, size      []int64
	latBounds               []int64
	constLabels             prometheus.Labels
	requests, duration      *prometheus.Desc
	upDuration, reqSize     *prometheus.Desc
	respSize, upLatency     *prometheus.Desc
	mu                      sync.Mutex
	routes                  map[RouteKey]*RouteSeries
	latency                 map[latencyKey]*histogram
	beforeCollect           func()
	requestLabels, upLabels []string
}

// latencyKey groups the upstream latency summary as ingress-nginx does.
type latencyKey struct{ namespace, ingress, service, canary string }

// latencyBounds returns fine buckets, in nanoseconds, from which the
// upstream latency summary's quantiles are estimated: 0.5 ms to about
// 80 s, each 25 % above the last, so an estimate is within 12.5 % of the
// truth.
func latencyBounds() []int64 {
	var b []int64
	for v := 5e5; v < 8e10; v *= 1.25 {
		b = append(b, int64(v))
	}
	return b
}

// NewRequests returns the request metrics; register them with
// Set.Registry.
func NewRequests(o RequestOptions) *Requests {
	if o.TimeBuckets == nil {
		o.TimeBuckets = DefaultTimeBuckets()
	}
	if o.LengthBuckets == nil {
		o.LengthBuckets = DefaultLengthBuckets()
	}
	if o.SizeBuckets == nil {
		o.SizeBuckets = DefaultSizeBuckets()
	}
	r := &Requests{
		opts: o, latBounds: latencyBounds(), time: secondsBounds(o.TimeBuckets), length: byteBounds(o.LengthBuckets), size: byteBounds(o.SizeBuckets),
		constLabels: prometheus.Labels{"controller_class": o.ControllerClass, "controller_namespace": o.ControllerNamespace, "controller_pod": o.ControllerPod},
		routes:      map[RouteKey]*RouteSeries{},
		latency:     map[latencyKey]*histogram{},
	}
	r.requestLabels = []string{"status", "method", "path"}
	if o.PerHost {
		r.requestLabels = append(r.requestLabels, "host")
	}
	r.requestLabels = append(r.requestLabels, "namespace", "ingress", "service", "canary")
	r.upLabels = []string{"ingress", "namespace", "service", "canary"}
	desc := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("nginx_ingress_controller_"+name, help, labels, r.constLabels)
	}
	r.requests = desc("requests", "The total number of client requests.", r.requestLabels)
	r.duration = desc("request_duration_seconds", "The request processing time in seconds, from the first byte of the request to the last byte of the response.", r.requestLabels)
	r.upDuration = desc("response_duration_seconds", "The time spent receiving the response from the upstream, in seconds.", r.requestLabels)
	r.reqSize = desc("request_size", "The request length (request line, headers and body), in bytes.", r.requestLabels)
	r.respSize = desc("response_size", "The response body length, in bytes.", r.requestLabels)
	r.upLatency = desc("ingress_upstream_latency_seconds", "Upstream service latency per Ingress, in seconds (quantiles estimated from fine buckets).", r.upLabels)
	return r
}

// OnCollect sets a function called before each scrape reads the series;
// the data plane uses it to drop the series of routes it no longer
// serves (Prune).
func (r *Requests) OnCollect(f func()) {
	r.mu.Lock()
	r.beforeCollect = f
	r.mu.Unlock()
}

// Series returns the long-lived series of key, creating them on first
// use. Compiled routes keep the pointer, so that a request costs no
// lookup.
func (r *Requests) Series(k RouteKey) *RouteSeries {
	if !r.opts.PerHost {
		k.Host = ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.routes[k]; s != nil {
		return s
	}
	lk := latencyKey{k.Namespace, k.Ingress, k.Service, k.Canary}
	lat := r.latency[lk]
	if lat == nil {
		h := newHistogram(r.latBounds)
		lat = &h
		r.latency[lk] = lat
	}
	s := &RouteSeries{r: r, key: k, latency: lat}
	s.list.Store(&[]*series{})
	r.routes[k] = s
	return s
}

// Prune drops the series that keep reports false for, and the latency
// summaries no remaining series uses. The data plane calls it with the
// series its current routes hold.
func (r *Requests) Prune(keep func(*RouteSeries) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	used := map[*histogram]bool{}
	for k, s := range r.routes {
		if !keep(s) {
			delete(r.routes, k)
			continue
		}
		used[s.latency] = true
	}
	for k, h := range r.latency {
		if !used[h] {
			delete(r.latency, k)
		}
	}
}

// RouteTotal is what one route's series counted so far.
type RouteTotal struct {
	RouteKey
	// Requests counts every request; Errors5xx those answered with a 5xx
	// status.
	Requests, Errors5xx uint64
}

// Totals returns the request counts of every route, sorted by key.
func (r *Requests) Totals() []RouteTotal {
	r.mu.Lock()
	out := make([]RouteTotal, 0, len(r.routes))
	for k, s := range r.routes {
		t := RouteTotal{RouteKey: k}
		for _, se := range *s.list.Load() {
			n := se.count.Load()
			t.Requests += n
			if se.status >= 500 {
				t.Errors5xx += n
			}
		}
		out = append(out, t)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b RouteTotal) int { return compareKeys(a.RouteKey, b.RouteKey) })
	return out
}

func compareKeys(a, b RouteKey) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Ingress, b.Ingress), cmp.Compare(a.Host, b.Host),
		cmp.Compare(a.Path, b.Path), cmp.Compare(a.Service, b.Service), cmp.Compare(a.Canary, b.Canary))
}

// Describe implements prometheus.Collector.
func (r *Requests) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{r.requests, r.duration, r.upDuration, r.reqSize, r.respSize, r.upLatency} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (r *Requests) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	f := r.beforeCollect
	r.mu.Unlock()
	if f != nil {
		f()
	}
	r.mu.Lock()
	routes := make([]*RouteSeries, 0, len(r.routes))
	for _, s := range r.routes {
		routes = append(routes, s)
	}
	lat := make(map[latencyKey]*histogram, len(r.latency))
	for k, h := range r.latency {
		lat[k] = h
	}
	r.mu.Unlock()
	for _, s := range routes {
		for _, se := range *s.list.Load() {
			labels := r.labelValues(s.key, se)
			ch <- prometheus.MustNewConstMetric(r.requests, prometheus.CounterValue, float64(se.count.Load()), labels...)
			ch <- se.duration.constMetric(r.duration, r.time, 1e-9, labels)
			ch <- se.upDuration.constMetric(r.upDuration, r.time, 1e-9, labels)
			ch <- se.reqSize.constMetric(r.reqSize, r.length, 1, labels)
			ch <- se.respSize.constMetric(r.respSize, r.size, 1, labels)
		}
	}
	for k, h := range lat {
		var count uint64
		for i := range h.counts {
			count += h.counts[i].Load()
		}
		if count == 0 {
			continue
		}
		// ingress-nginx's quantiles.
		qs := make(map[float64]float64, 3)
		for _, q := range []float64{0.5, 0.9, 0.99} {
			v, _ := h.quantile(r.latBounds, q)
			qs[q] = v * 1e-9
		}
		ch <- prometheus.MustNewConstSummary(r.upLatency, count, float64(h.sum.Load())*1e-9, qs, k.ingress, k.namespace, k.service, k.canary)
	}
}

// labelValues renders the request labels of one series, in
// requestLabels' order.
func (r *Requests) labelValues(k RouteKey, se *series) []string {
	status := strconv.Itoa(int(se.status))
	if r.opts.StatusClasses {
		status = status[:1] + "xx"
	}
	v := []string{status, methodName(se.method), k.Path}
	if r.opts.PerHost {
		v = append(v, k.Host)
	}
	return append(v, k.Namespace, k.Ingress, k.Service, k.Canary)
}

// numMethods counts the method label's values; methodName(i) for i below
// it lists them.
const numMethods = 10

// methodName returns the method label of index i; 0 is "OTHER".
func methodName(i uint8) string {
	switch i {
	case 1:
		return "GET"
	case 2:
		return "HEAD"
	case 3:
		return "POST"
	case 4:
		return "PUT"
	case 5:
		return "DELETE"
	case 6:
		return "PATCH"
	case 7:
		return "OPTIONS"
	case 8:
		return "TRACE"
	case 9:
		return "CONNECT"
	}
	return "OTHER"
}

// methodIndex returns m's method label index, 0 ("OTHER") for a method
// not standard: a client choosing methods cannot add series.
func methodIndex(m string) uint8 {
	for i := uint8(1); i < numMethods; i++ {
		if methodName(i) == m {
			return i
		}
	}
	return 0
}

// RouteSeries are the series of one route: one per method and status
// seen, in a list replaced (never changed) when one is added.
type RouteSeries struct {
	r       *Requests
	key     RouteKey
	latency *histogram
	mu      sync.Mutex
	list    atomic.Pointer[[]*series]
}

// Key returns the route's key.
func (s *RouteSeries) Key() RouteKey { return s.key }

// series counts the requests of one route, method and status.
type series struct {
	method                                  uint8
	status                                  uint16
	count                                   atomic.Uint64
	duration, upDuration, reqSize, respSize histogram
}

// Observe records one finished request: a few atomic additions, and an
// allocation only the first time a method and status meet on the route.
func (s *RouteSeries) Observe(o *Observation) {
	m := methodIndex(o.Method)
	st := o.Status
	if st < 100 || st > 599 {
		// Not an HTTP status: counted as the 500 it stands for.
		st = 500
	}
	if s.r.opts.StatusClasses {
		st = st / 100 * 100
	}
	se := s.find(m, uint16(st))
	se.count.Add(1)
	r := s.r
	se.duration.observe(r.time, int64(o.Duration))
	se.reqSize.observe(r.length, o.RequestBytes)
	se.respSize.observe(r.size, max(o.ResponseBytes, 0))
	if o.Upstream {
		se.upDuration.observe(r.time, int64(o.UpstreamDuration))
		s.latency.observe(r.latBounds, int64(o.UpstreamDuration))
	}
}

func (s *RouteSeries) find(m uint8, st uint16) *series {
	for _, se := range *s.list.Load() {
		if se.method == m && se.status == st {
			return se
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := *s.list.Load()
	for _, se := range list {
		if se.method == m && se.status == st {
			return se
		}
	}
	r := s.r
	se := &series{method: m, status: st, duration: newHistogram(r.time), upDuration: newHistogram(r.time),
		reqSize: newHistogram(r.length), respSize: newHistogram(r.size)}
	next := append(slices.Clip(list), se)
	s.list.Store(&next)
	return se
}

// validBuckets checks histogram bounds given on the command line.
func validBuckets(b []float64) bool {
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || i > 0 && v <= b[i-1] {
			return false
		}
	}
	return len(b) > 0
}

// ValidateBuckets reports whether the options' bucket lists ascend
// strictly, as Prometheus requires.
func (o RequestOptions) ValidateBuckets() error {
	for _, c := range []struct {
		flag string
		b    []float64
	}{{"--time-buckets", o.TimeBuckets}, {"--length-buckets", o.LengthBuckets}, {"--size-buckets", o.SizeBuckets}} {
		if c.b != nil && !validBuckets(c.b) {
			return &bucketError{flag: c.flag}
		}
	}
	return nil
}

type bucketError struct{ flag string }

func (e *bucketError) Error() string {
	return e.flag + ": bucket bounds must be finite, non-negative and strictly ascending"
}
