package annotations

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/straitgw/strait/internal/accesslog"
)

// OpenTelemetry tracing: the per-Ingress annotations, and the ConfigMap
// keys that set where and how spans are exported. Every value is parsed
// here; translate turns them into model.Tracing and model.RouteTracing.

// notesTracing says what a traced request looks like in Strait, shared by
// the tracing annotations.
const notesTracing = "Each request to a traced path gets one server span, exported over OTLP/gRPC; the request sent upstream carries a W3C traceparent (and tracestate) for that span. " +
	"Requests that match no Ingress path (default backends, Gateway API routes) are not traced. See docs/tracing.md."

// EnableOpentelemetry turns tracing on or off for an Ingress's paths; the
// ConfigMap's enable-opentelemetry is its default.
var EnableOpentelemetry = Value[bool]{
	Key: Key{
		Name: "enable-opentelemetry", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "false", ConfigMapKey: "enable-opentelemetry",
		Doc:   "Turns OpenTelemetry tracing on or off for the Ingress's paths.",
		Notes: notesTracing,
	},
	Parse: ParseBool,
}

// OpentelemetryTrustIncomingSpan decides whether a traced request's span
// continues the trace the client's traceparent names.
var OpentelemetryTrustIncomingSpan = Value[bool]{
	Key: Key{
		Name: "opentelemetry-trust-incoming-span", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "true", ConfigMapKey: "opentelemetry-trust-incoming-span",
		Doc: "Whether spans continue the trace context (W3C traceparent) sent by the client; when false each request starts a new trace and the client's traceparent and tracestate are replaced upstream.",
	},
	Parse: ParseBool,
}

// OpentelemetryOperationName names the server spans of an Ingress's
// paths.
var OpentelemetryOperationName = Value[string]{
	Key: Key{
		Name: "opentelemetry-operation-name", Scope: ScopeLocation, Risk: RiskMedium, Support: Differs, ConfigMapKey: "opentelemetry-operation-name",
		Doc: "Name given to the server spans of the Ingress's paths, with nginx variables.",
		Notes: "Without it a span is named after the Ingress path, as nginx names it after the location. The variables are those of log-format-upstream " +
			"(e.g. \"HTTP $request_method $service_name $uri\"), rendered when the request ends; a name with another variable is reported and not used.",
	},
	Parse: ParseOperationName,
}

// ParseOperationName accepts literal text with the variables the access
// log knows; it returns the name as given.
func ParseOperationName(raw string) (string, error) {
	if _, err := accesslog.Parse(raw, accesslog.EscapeNone); err != nil {
		return "", err
	}
	return raw, nil
}

// Sampler names, as ingress-nginx's otel-sampler takes them.
const (
	SamplerAlwaysOn          = "AlwaysOn"
	SamplerAlwaysOff         = "AlwaysOff"
	SamplerTraceIDRatioBased = "TraceIdRatioBased"
)

// OtelSampler is the ConfigMap key otel-sampler.
var OtelSampler = Value[string]{
	Key:   Key{Name: "otel-sampler", ConfigMapKey: "otel-sampler", Default: SamplerAlwaysOn, Doc: "OpenTelemetry sampler: AlwaysOn, AlwaysOff or TraceIdRatioBased."},
	Parse: ParseSampler,
}

// ParseSampler accepts AlwaysOn, AlwaysOff and TraceIdRatioBased, spelled
// exactly so.
func ParseSampler(raw string) (string, error) {
	switch raw {
	case SamplerAlwaysOn, SamplerAlwaysOff, SamplerTraceIDRatioBased:
		return raw, nil
	}
	return "", errors.New("must be AlwaysOn, AlwaysOff or TraceIdRatioBased")
}

// OtelSamplerRatio is the ConfigMap key otel-sampler-ratio.
var OtelSamplerRatio = Value[float64]{
	Key:   Key{Name: "otel-sampler-ratio", ConfigMapKey: "otel-sampler-ratio", Default: "0.01", Doc: "Share of traces sampled by TraceIdRatioBased."},
	Parse: ParseRatio,
}

// ParseRatio accepts a decimal number from 0 to 1.
func ParseRatio(raw string) (float64, error) {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return 0, errors.New("not a number")
	}
	if !(f >= 0 && f <= 1) {
		return 0, errors.New("must be between 0 and 1")
	}
	return f, nil
}

// OtelSamplerParentBased is the ConfigMap key otel-sampler-parent-based.
var OtelSamplerParentBased = Value[bool]{
	Key:   Key{Name: "otel-sampler-parent-based", ConfigMapKey: "otel-sampler-parent-based", Default: "true", Doc: "Whether a span with a parent follows the parent's sampling decision."},
	Parse: ParseBool,
}

// OtelServiceName is the ConfigMap key otel-service-name.
var OtelServiceName = Value[string]{
	Key:   Key{Name: "otel-service-name", ConfigMapKey: "otel-service-name", Default: "nginx", Doc: "service.name of the spans."},
	Parse: func(raw string) (string, error) { return strings.TrimSpace(raw), nil },
}

// OtlpCollectorHost is the ConfigMap key otlp-collector-host.
var OtlpCollectorHost = Value[string]{
	Key:   Key{Name: "otlp-collector-host", ConfigMapKey: "otlp-collector-host", Doc: "Host of the OTLP/gRPC collector spans are sent to."},
	Parse: ParseCollectorHost,
}

// ParseCollectorHost accepts a DNS name or an IP address, without port or
// scheme (the port is otlp-collector-port).
func ParseCollectorHost(raw string) (string, error) {
	h := strings.TrimSpace(raw)
	if _, err := netip.ParseAddr(h); err == nil {
		return h, nil
	}
	if h == "" || len(h) > 253 {
		return "", errors.New("not a host name")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", errors.New("not a host name or IP address (give the port in otlp-collector-port, without a scheme)")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", errors.New("not a host name or IP address (give the port in otlp-collector-port, without a scheme)")
			}
		}
	}
	return h, nil
}

// OtlpCollectorPort is the ConfigMap key otlp-collector-port.
var OtlpCollectorPort = Value[int]{
	Key:   Key{Name: "otlp-collector-port", ConfigMapKey: "otlp-collector-port", Default: "4317", Doc: "Port of the OTLP/gRPC collector."},
	Parse: ParsePort,
}

// ParsePort accepts a TCP port number, 1 to 65535.
func ParsePort(raw string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		return 0, errors.New("not a port number")
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is outside 1-65535", n)
	}
	return n, nil
}

// Batch span processor keys.
var (
	// OtelMaxQueueSize is otel-max-queuesize: spans waiting for export
	// beyond it are dropped.
	OtelMaxQueueSize = Value[int]{
		Key:   Key{Name: "otel-max-queuesize", ConfigMapKey: "otel-max-queuesize", Default: "2048", Doc: "Spans queued for export; more are dropped."},
		Parse: parsePositive,
	}
	// OtelScheduleDelayMillis is otel-schedule-delay-millis.
	OtelScheduleDelayMillis = Value[int]{
		Key:   Key{Name: "otel-schedule-delay-millis", ConfigMapKey: "otel-schedule-delay-millis", Default: "5000", Doc: "Milliseconds between two exports of queued spans."},
		Parse: parsePositive,
	}
	// OtelMaxExportBatchSize is otel-max-export-batch-size.
	OtelMaxExportBatchSize = Value[int]{
		Key:   Key{Name: "otel-max-export-batch-size", ConfigMapKey: "otel-max-export-batch-size", Default: "512", Doc: "Most spans sent in one export; at most otel-max-queuesize."},
		Parse: parsePositive,
	}
)

func parsePositive(raw string) (int, error) {
	n, err := ParseInt(strings.TrimSpace(raw))
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, errors.New("must be at least 1")
	}
	return n, nil
}
