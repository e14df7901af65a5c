package annotations

import "testing"

func TestTracingParsers(t *testing.T) {
	cases := []struct {
		name string
		v    Annotation
		good []string
		bad  []string
	}{
		{"sampler", &OtelSampler, []string{"AlwaysOn", "AlwaysOff", "TraceIdRatioBased"}, []string{"alwayson", "sometimes", "ParentBased"}},
		{"ratio", &OtelSamplerRatio, []string{"0", "0.01", "1", "1.0"}, []string{"1.5", "-0.1", "NaN", "half", "10%"}},
		{"port", &OtlpCollectorPort, []string{"4317", "1", "65535"}, []string{"0", "65536", "otlp", "4317/tcp"}},
		{"host", &OtlpCollectorHost, []string{"otel-collector", "otel.observability.svc", "10.0.0.1", "::1"}, []string{"http://otel:4317", "otel:4317", "-bad", "a..b"}},
		{"operation name", &OpentelemetryOperationName, []string{"HTTP $request_method $uri", "fixed", "$service_name"}, []string{"HTTP $bogus"}},
		{"queue", &OtelMaxQueueSize, []string{"1", "2048"}, []string{"0", "-1", "big"}},
		{"enable", &EnableOpentelemetry, []string{"true", "false"}, []string{"yes", "on"}},
	}
	for _, c := range cases {
		for _, g := range c.good {
			if err := c.v.CheckValue(g); err != nil {
				t.Errorf("%s %q: %v, want valid", c.name, g, err)
			}
		}
		for _, b := range c.bad {
			if err := c.v.CheckValue(b); err == nil {
				t.Errorf("%s %q: valid, want an error", c.name, b)
			}
		}
	}
}

// TestTracingDefaultsParse guards translate, which reads the registry
// defaults of the ConfigMap-only tracing keys with their own parsers.
func TestTracingDefaultsParse(t *testing.T) {
	for _, v := range []Annotation{&OtelSampler, &OtelSamplerRatio, &OtelSamplerParentBased, &OtelServiceName, &OtlpCollectorPort,
		&OtelMaxQueueSize, &OtelScheduleDelayMillis, &OtelMaxExportBatchSize} {
		k := v.Describe()
		if err := v.CheckValue(k.Default); err != nil {
			t.Errorf("%s: default %q: %v", k.Name, k.Default, err)
		}
		if _, ok := implementedConfigMapKeys()[k.ConfigMapKey]; !ok {
			found := false
			for _, c := range configMapKeys() {
				found = found || c.Name == k.ConfigMapKey
			}
			if !found {
				t.Errorf("%s: ConfigMap key %q is not in the catalogue", k.Name, k.ConfigMapKey)
			}
		}
	}
}
