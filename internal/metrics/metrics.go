// Package metrics defines Strait's Prometheus metrics. They live in a
// registry owned by the process, never in the global default one.
package metrics

import (
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Generation kinds, the values of the "kind" label.
const (
	// KindFull is a translate and compile of the whole model.
	KindFull = "full"
	// KindEndpoints updated upstream sets in place.
	KindEndpoints = "endpoints"
	// KindNoop found nothing that changes what is served.
	KindNoop = "noop"
)

// Admission results, the values of the "result" label.
const (
	// AdmissionAllowed is an object let in, with or without warnings.
	AdmissionAllowed = "allowed"
	// AdmissionDenied is an object refused for its problems.
	AdmissionDenied = "denied"
	// AdmissionError is a review that could not be read.
	AdmissionError = "error"
)

// Set holds the control-plane metrics.
type Set struct {
	Registry *prometheus.Registry
	// Generations counts routing generations by kind.
	Generations *prometheus.CounterVec
	// BuildSeconds observes translate plus compile time by kind.
	BuildSeconds *prometheus.HistogramVec
	// Problems is the number of current per-object problems by reason.
	Problems *prometheus.GaugeVec
	// Events counts Kubernetes Events emitted by reason.
	Events *prometheus.CounterVec
	// StatusWrites counts Ingress status updates.
	StatusWrites prometheus.Counter
	// AdmissionReviews counts the validating webhook's answers by result.
	AdmissionReviews *prometheus.CounterVec
	// configOK and configTime are ingress-nginx's
	// config_last_reload_successful and its timestamp: Strait never
	// reloads, so they describe the last full generation, which never
	// fails as a whole (a bad object is left out, with a problem).
	configOK, configTime prometheus.Gauge
	// configCount is ingress-nginx's success counter, the number of
	// configurations applied.
	configCount prometheus.Counter
}

// Controller names the process in the constant labels ingress-nginx puts
// on its metrics.
type Controller struct {
	// Class is the IngressClass controller value (--controller-class).
	Class string
	// Namespace and Pod are the pod's (POD_NAMESPACE and POD_NAME).
	Namespace, Pod string
}

// Labels returns the constant labels.
func (c Controller) Labels() prometheus.Labels {
	return prometheus.Labels{"controller_class": c.Class, "controller_namespace": c.Namespace, "controller_pod": c.Pod}
}

// New registers the metrics, plus Go runtime and process collectors, in a
// fresh registry.
func New(c Controller) *Set {
	r := prometheus.NewRegistry()
	cl := c.Labels()
	s := &Set{
		Registry: r,
		Generations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_generations_total",
			Help: "Routing generations by kind: full (translate and compile), endpoints (upstream sets updated in place), noop (nothing served changed).",
		}, []string{"kind"}),
		BuildSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strait_generation_build_seconds",
			Help:    "Time to build a generation: snapshot, translate and compile for full ones, the in-place update for endpoints ones.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"kind"}),
		Problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strait_object_problems",
			Help: "Current problems with individual objects, by reason (see /debug/model for the list).",
		}, []string{"reason"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_events_total",
			Help: "Kubernetes Events emitted for object problems, by reason.",
		}, []string{"reason"}),
		StatusWrites: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_ingress_status_writes_total",
			Help: "Ingress status updates written by this replica (only the leader writes).",
		}),
		AdmissionReviews: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_admission_reviews_total",
			Help: "AdmissionReviews answered by the validating webhook, by result: allowed, denied (problems in the object), error (the review could not be read).",
		}, []string{"result"}),
		configOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nginx_ingress_controller_config_last_reload_successful", ConstLabels: cl,
			Help: "Whether the last configuration was applied: 1 once the first full generation serves (Strait applies generations without reloading).",
		}),
		configTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nginx_ingress_controller_config_last_reload_successful_timestamp_seconds", ConstLabels: cl,
			Help: "When the last full generation was applied, in seconds since the epoch.",
		}),
		configCount: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nginx_ingress_controller_success", ConstLabels: cl,
			Help: "Configurations applied: full generations served (Strait applies generations without reloading).",
		}),
	}
	r.MustRegister(s.Generations, s.BuildSeconds, s.Problems, s.Events, s.StatusWrites, s.configOK, s.configTime, s.configCount, s.AdmissionReviews,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{PidFn: procSelf}))
	for _, k := range []string{KindFull, KindEndpoints, KindNoop} {
		s.Generations.WithLabelValues(k)
	}
	for _, r := range []string{AdmissionAllowed, AdmissionDenied, AdmissionError} {
		s.AdmissionReviews.WithLabelValues(r)
	}
	return s
}

// SetProblems replaces the problem gauge with the counts of reasons.
func (s *Set) SetProblems(reasons []string) {
	s.Problems.Reset()
	for _, r := range reasons {
		s.Problems.WithLabelValues(r).Inc()
	}
}

// Served records a generation of kind that took took to build; a full
// one also updates ingress-nginx's configuration metrics.
func (s *Set) Served(kind string, took time.Duration) {
	s.Generations.WithLabelValues(kind).Inc()
	s.BuildSeconds.WithLabelValues(kind).Observe(took.Seconds())
	if kind == KindFull {
		s.configOK.Set(1)
		s.configTime.Set(float64(time.Now().Unix()))
		s.configCount.Inc()
	}
}

// Handler serves the registry in the Prometheus text format.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry})
}

// procSelf returns this process's PID as the mounted /proc numbers it,
// which differs from os.Getpid when /proc belongs to another PID namespace
// (a sandbox that unshared only the PID namespace).
func procSelf() (int, error) {
	target, err := os.Readlink("/proc/self")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(target)
}
