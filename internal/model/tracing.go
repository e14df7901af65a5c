package model

// Tracing is where and how spans are exported (the controller ConfigMap's
// otlp-collector-host, otlp-collector-port, otel-* keys). Which routes are
// traced is each route's Policy.Tracing.
type Tracing struct {
	// CollectorHost and CollectorPort are the OTLP/gRPC collector's
	// address; spans are sent without TLS.
	CollectorHost string `json:"collectorHost"`
	CollectorPort int    `json:"collectorPort"`
	// ServiceName is the spans' service.name resource attribute.
	ServiceName string `json:"serviceName"`
	// Sampler is "AlwaysOn", "AlwaysOff" or "TraceIdRatioBased".
	Sampler string `json:"sampler"`
	// SamplerRatio is TraceIdRatioBased's share of traces, 0 to 1.
	SamplerRatio float64 `json:"samplerRatio"`
	// ParentBased makes a span with a sampled (or unsampled) parent
	// follow its parent's decision; Sampler decides for root spans.
	ParentBased bool `json:"parentBased,omitempty"`
	// MaxQueueSize, ScheduleDelayMillis and MaxExportBatchSize tune the
	// batch span processor (otel-max-queuesize, otel-schedule-delay-millis,
	// otel-max-export-batch-size).
	MaxQueueSize        int `json:"maxQueueSize"`
	ScheduleDelayMillis int `json:"scheduleDelayMillis"`
	MaxExportBatchSize  int `json:"maxExportBatchSize"`
}

// RouteTracing is a traced route's span settings (enable-opentelemetry,
// opentelemetry-trust-incoming-span, opentelemetry-operation-name).
type RouteTracing struct {
	// TrustIncomingSpan makes the span a child of the client's
	// traceparent; when false every request starts a new trace and the
	// client's trace headers are replaced upstream.
	TrustIncomingSpan bool `json:"trustIncomingSpan,omitempty"`
	// OperationName is the span name with nginx variables, validated by
	// translate; "" names the span after the route's path.
	OperationName string `json:"operationName,omitempty"`
}
