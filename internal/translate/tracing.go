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
	ok := tracingKey(t, ref, data, &annotations.EnableOpentelemetry, &ts.on)
	ok = tracingKey(t, ref, data, &annotations.OpentelemetryTrustIncomingSpan, &ts.trust) && ok
	ok = tracingKey(t, ref, data, &annotations.OpentelemetryOperationName, &ts.operation) && ok
	ok = tracingKey(t, ref, data, &annotations.OtlpCollectorHost, &ex.CollectorHost) && ok
	ok = tracingKey(t, ref, data, &annotations.OtlpCollectorPort, &ex.CollectorPort) && ok
	ok = tracingKey(t, ref, data, &annotations.OtelServiceName, &ex.ServiceName) && ok
	ok = tracingKey(t, ref, data, &annotations.OtelSampler, &ex.Sampler) && ok
	ok = tracingKey(t, ref, data, &annotations.OtelSamplerRatio, &ex.SamplerRatio) && ok
	ok = tracingKey(t, ref, data, &annotations.OtelSamplerParentBased, &ex.ParentBased) && ok
	ok = tracingKey(t, ref, data, &annotations.OtelMaxQueueSize, &ex.MaxQueueSize) && ok
	ok = tracingKey(t, ref, data, &annotations.OtelScheduleDelayMillis, &ex.ScheduleDelayMillis) && ok
	ok = tracingKey(t, ref, data, &annotations.OtelMaxExportBatchSize, &ex.MaxExportBatchSize) && ok
	broken := !ok
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

// tracingKey reads a tracing key of the ConfigMap into dst, or the key's
// registry default when it is absent or empty. A malformed value is a
// problem on the ConfigMap; tracingKey then reports false.
func tracingKey[T any](t *translator, ref model.ObjectRef, data map[string]string, v *annotations.Value[T], dst *T) bool {
	val, ok, err := (&annotations.Value[T]{Key: annotations.Key{Name: v.ConfigMapKey}, Parse: v.Parse}).Lookup(data, "")
	switch {
	case err != nil:
		t.problem(ref, "data."+v.ConfigMapKey, "InvalidConfiguration", "%v; nothing is traced until it is fixed", err)
		return false
	case ok:
		*dst = val
	case v.Default != "":
		*dst, _ = v.Parse(v.Default) // the registry's tests parse every default
	}
	return true
}

// routeTracing reads an Ingress's tracing annotations over the
// ConfigMap's defaults. A malformed annotation is a problem and leaves
// the Ingress's paths untraced until it is fixed. It returns nil when the
// paths are not traced.
func (t *translator) routeTracing(a map[string]string, bad func(error, string)) *model.RouteTracing {
	ts := &t.settings.tracing
	on, trust, op := ts.on, ts.trust, ts.operation
	const off = "the Ingress's paths are not traced until it is fixed"
	// Each is read, so that every malformed one is reported.
	malformed := read(a, &annotations.EnableOpentelemetry, &on, bad, off)
	malformed = read(a, &annotations.OpentelemetryTrustIncomingSpan, &trust, bad, off) || malformed
	malformed = read(a, &annotations.OpentelemetryOperationName, &op, bad, off) || malformed
	if malformed {
		return nil
	}
	if !on || ts.export == nil {
		return nil
	}
	return &model.RouteTracing{TrustIncomingSpan: trust, OperationName: op}
}
