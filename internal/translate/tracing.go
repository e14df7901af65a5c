package translate

import (
	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// tracingSettings are the ConfigMap's OpenTelemetry keys.
type tracingSettings struct {
	// export is where spans go; nil when no collector is configured or a
	// key is malformed, which traces nothing.
	export *model.Tracing
	// on, trust and operation are the defaults of the annotations.
	on, trust bool
	operation string
}

// readTracing reads the ConfigMap's tracing keys. A malformed key is a
// problem on the ConfigMap and turns tracing off until it is fixed: a
// sampler or collector Strait would have to guess is worse than none.
func (t *translator) readTracing(ref model.ObjectRef, data map[string]string) tracingSettings {
	var ts tracingSettings
	ex := &model.Tracing{}
	broken := false
	for _, f := range []func() error{
		func() (err error) { ts.on, err = lookupConfig(data, &annotations.EnableOpentelemetry); return },
		func() (err error) { ts.trust, err = lookupConfig(data, &annotations.OpentelemetryTrustIncomingSpan); return },
		func() (err error) { ts.operation, err = lookupConfig(data, &annotations.OpentelemetryOperationName); return },
		func() (err error) { ex.CollectorHost, err = lookupConfig(data, &annotations.OtlpCollectorHost); return },
		func() (err error) { ex.CollectorPort, err = lookupConfig(data, &annotations.OtlpCollectorPort); return },
		func() (err error) { ex.ServiceName, err = lookupConfig(data, &annotations.OtelServiceName); return },
		func() (err error) { ex.Sampler, err = lookupConfig(data, &annotations.OtelSampler); return },
		func() (err error) { ex.SamplerRatio, err = lookupConfig(data, &annotations.OtelSamplerRatio); return },
		func() (err error) { ex.ParentBased, err = lookupConfig(data, &annotations.OtelSamplerParentBased); return },
		func() (err error) { ex.MaxQueueSize, err = lookupConfig(data, &annotations.OtelMaxQueueSize); return },
		func() (err error) { ex.ScheduleDelayMillis, err = lookupConfig(data, &annotations.OtelScheduleDelayMillis); return },
		func() (err error) { ex.MaxExportBatchSize, err = lookupConfig(data, &annotations.OtelMaxExportBatchSize); return },
	} {
		if err := f(); err != nil {
			broken = true
			t.problem(ref, "data", "InvalidConfiguration", "%v; nothing is traced until it is fixed", err)
		}
	}
	if !broken && ex.MaxExportBatchSize > ex.MaxQueueSize {
		broken = true
		t.problem(ref, "data.otel-max-export-batch-size", "InvalidConfiguration",
			"otel-max-export-batch-size %d is larger than otel-max-queuesize %d; nothing is traced until it is fixed", ex.MaxExportBatchSize, ex.MaxQueueSize)
	}
	switch {
	case broken:
		ts.on = false
	case ex.CollectorHost == "":
		if ts.on {
			t.problem(ref, "data.otlp-collector-host", "InvalidConfiguration",
				"enable-opentelemetry is true but otlp-collector-host is empty; nothing is traced until it is set")
		}
	default:
		ts.export = ex
	}
	return ts
}

// lookupConfig parses a ConfigMap key with its registry parser, or
// returns the parsed registry default when the key is absent or empty.
func lookupConfig[T any](data map[string]string, v *annotations.Value[T]) (T, error) {
	val, ok, err := (&annotations.Value[T]{Key: annotations.Key{Name: v.ConfigMapKey}, Parse: v.Parse}).Lookup(data, "")
	if err != nil || ok {
		return val, err
	}
	if v.Default == "" {
		var zero T
		return zero, nil
	}
	return v.Parse(v.Default)
}

// routeTracing reads an Ingress's tracing annotations over the
// ConfigMap's defaults. A malformed annotation is a problem and leaves
// the Ingress's paths untraced until it is fixed. It returns nil when the
// paths are not traced.
func (t *translator) routeTracing(a map[string]string, bad func(error, string)) *model.RouteTracing {
	ts := &t.settings.tracing
	on, trust, op := ts.on, ts.trust, ts.operation
	const off = "the Ingress's paths are not traced until it is fixed"
	if read(a, &annotations.EnableOpentelemetry, &on, bad, off) ||
		read(a, &annotations.OpentelemetryTrustIncomingSpan, &trust, bad, off) ||
		read(a, &annotations.OpentelemetryOperationName, &op, bad, off) {
		return nil
	}
	if !on || ts.export == nil {
		return nil
	}
	return &model.RouteTracing{TrustIncomingSpan: trust, OperationName: op}
}
