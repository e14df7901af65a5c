package metrics

import "github.com/prometheus/client_golang/prometheus"

// Sample is one value of a data-plane metric, read at scrape time. The data
// plane keeps plain atomic counters on its hot paths and describes them
// here, so that it never calls into Prometheus per request.
type Sample struct {
	// Name is the metric name, strait_ prefixed.
	Name string
	// Help describes the metric; samples sharing a name share it.
	Help string
	// Gauge marks a current value; otherwise the sample is a counter.
	Gauge bool
	// Label and LabelValue give the sample's one label, when it has one.
	Label, LabelValue string
	// Value is the current value.
	Value float64
}

// Sampler reports the current data-plane samples.
type Sampler func() []Sample

// AddSampler exports what f reports on every scrape.
func (s *Set) AddSampler(f Sampler) {
	s.Registry.MustRegister(samplerCollector{f})
}

// samplerCollector is an unchecked collector: the set of label values
// grows with what has happened, so it describes nothing up front.
type samplerCollector struct{ f Sampler }

func (samplerCollector) Describe(chan<- *prometheus.Desc) {}

func (c samplerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.f() {
		var labels []string
		var values []string
		if s.Label != "" {
			labels, values = []string{s.Label}, []string{s.LabelValue}
		}
		t := prometheus.CounterValue
		if s.Gauge {
			t = prometheus.GaugeValue
		}
		d := prometheus.NewDesc(s.Name, s.Help, labels, nil)
		ch <- prometheus.MustNewConstMetric(d, t, s.Value, values...)
	}
}
