package proxy

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/straitgw/strait/internal/accesslog"
	"github.com/straitgw/strait/internal/model"
)

// OpenTelemetry tracing (enable-opentelemetry). The tracer provider, with
// its OTLP/gRPC exporter and batch span processor, is long-lived state:
// it is built when the model's exporter settings first appear or change,
// and the one it replaces is shut down (its queued spans flushed) once
// the generation that no longer uses it is published. A generation holds
// the tracer; a traced route holds its span settings (routeTrace), nil
// when the route is not traced, so that an untraced request costs one nil
// check. Both engines start the span when the route is known, send its
// context upstream as a W3C traceparent, and end it from the access-log
// entry when the request ends.

// tracingState is the proxy's current tracer provider and the settings it
// was built from.
type tracingState struct {
	key    model.Tracing
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
}

// updateTracing returns the tracer for m (nil when m is nil or the
// exporter cannot be built) and the provider it replaces, to be shut down
// after the swap. It runs under applyMu.
func (p *Proxy) updateTracing(m *model.Tracing) (trace.Tracer, *sdktrace.TracerProvider) {
	cur := &p.tracing
	if m != nil && cur.tp != nil && cur.key == *m {
		return cur.tracer, nil
	}
	old := cur.tp
	*cur = tracingState{}
	if m == nil {
		return nil, old
	}
	tp, err := newTracerProvider(m)
	if err != nil {
		p.log.Error("OpenTelemetry exporter not started; nothing is traced", "collector", net.JoinHostPort(m.CollectorHost, strconv.Itoa(m.CollectorPort)), "error", err)
		return nil, old
	}
	*cur = tracingState{key: *m, tp: tp, tracer: tp.Tracer("github.com/straitgw/strait/internal/proxy")}
	return cur.tracer, old
}

// newTracerProvider builds a provider exporting to m's collector. The
// gRPC connection is made lazily: an unreachable collector costs dropped
// spans, never a failed request.
func newTracerProvider(m *model.Tracing) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracegrpc.New(context.Background(),
		otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithEndpoint(net.JoinHostPort(m.CollectorHost, strconv.Itoa(m.CollectorPort))))
	if err != nil {
		return nil, err
	}
	var s sdktrace.Sampler
	switch m.Sampler {
	case "AlwaysOff":
		s = sdktrace.NeverSample()
	case "TraceIdRatioBased":
		s = sdktrace.TraceIDRatioBased(m.SamplerRatio)
	default:
		s = sdktrace.AlwaysSample()
	}
	if m.ParentBased {
		s = sdktrace.ParentBased(s)
	}
	res := resource.NewSchemaless(attribute.String("service.name", m.ServiceName))
	return sdktrace.NewTracerProvider(
		sdktrace.WithSampler(s),
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(exp,
			sdktrace.WithBatchTimeout(time.Duration(m.ScheduleDelayMillis)*time.Millisecond),
			sdktrace.WithMaxQueueSize(m.MaxQueueSize),
			sdktrace.WithMaxExportBatchSize(m.MaxExportBatchSize)),
	), nil
}

// tracerShutdownTimeout bounds the flush of a replaced provider.
const tracerShutdownTimeout = 10 * time.Second

// shutdownTracer flushes and stops a replaced provider in the background:
// a generation swap never waits on the collector.
func shutdownTracer(tp *sdktrace.TracerProvider, log *slog.Logger) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), tracerShutdownTimeout)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			log.Warn("OpenTelemetry exporter shutdown", "error", err)
		}
	}()
}

// ShutdownTracing exports the spans still queued and stops the exporter;
// call it before exiting. Requests that end later are not traced.
func (p *Proxy) ShutdownTracing(ctx context.Context) error {
	p.applyMu.Lock()
	tp := p.tracing.tp
	p.applyMu.Unlock()
	if tp == nil {
		return nil
	}
	return tp.Shutdown(ctx)
}

// routeTrace is a traced route's compiled span settings.
type routeTrace struct {
	trust bool
	// name is the span name when op is nil: the route's path, as nginx
	// names spans after the location.
	name string
	// op renders opentelemetry-operation-name from the finished request.
	op *accesslog.Template
	// attrs describe the Ingress and Service, the same for every span.
	attrs []attribute.KeyValue
}

// compileTrace returns nil for an untraced route.
func compileTrace(r *model.Route) *routeTrace {
	t := r.Policy.Tracing
	if t == nil {
		return nil
	}
	rt := &routeTrace{trust: t.TrustIncomingSpan, name: r.Path}
	if t.OperationName != "" {
		// translate validated it; a name that still fails keeps the path.
		rt.op, _ = accesslog.Parse(t.OperationName, accesslog.EscapeNone)
	}
	var lr accesslog.Route
	backendLog(&lr, r.Action.Backend)
	rt.attrs = []attribute.KeyValue{
		attribute.String("http.route", r.Path),
		attribute.String("k8s.namespace.name", r.Source.Namespace),
		attribute.String("ingress.namespace", r.Source.Namespace),
		attribute.String("ingress.name", r.Source.Name),
		attribute.String("ingress.service.name", lr.ServiceName),
		attribute.String("ingress.service.port", lr.ServicePort),
	}
	return rt
}

// reqSpan is a traced request's span.
type reqSpan struct {
	span trace.Span
	rt   *routeTrace
	// traceparent is the header value sent upstream; tracestate is ""
	// when there is none.
	traceparent [55]byte
	tracestate  string
}

// startSpan starts the server span of a request. traceparent and
// tracestate are the client's headers ("" when absent), read only when
// the route trusts them.
func (rt *routeTrace) startSpan(dst *reqSpan, tr trace.Tracer, start time.Time, traceparent, tracestate string, attrs ...attribute.KeyValue) {
	ctx := context.Background()
	if rt.trust {
		if sc, ok := parseTraceparent(traceparent, tracestate); ok {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		}
	}
	_, span := tr.Start(ctx, rt.name, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
		trace.WithAttributes(rt.attrs...), trace.WithAttributes(attrs...))
	sc := span.SpanContext()
	*dst = reqSpan{span: span, rt: rt, tracestate: sc.TraceState().String()}
	formatTraceparent(&dst.traceparent, sc)
}

// end finishes the span from the request's access-log entry.
func (s *reqSpan) end(e *accesslog.Entry, buf []byte) []byte {
	span := s.span
	s.span = nil
	if !span.IsRecording() {
		span.End()
		return buf
	}
	if s.rt.op != nil {
		buf = s.rt.op.Append(buf[:0], e)
		if n := len(buf); n > 0 && buf[n-1] == '\n' {
			buf = buf[:n-1]
		}
		span.SetName(string(buf))
	}
	span.SetAttributes(attribute.Int("http.response.status_code", e.Status))
	if e.UpstreamAddr != "" {
		span.SetAttributes(attribute.String("upstream.address", e.UpstreamAddr), attribute.Int("upstream.status_code", e.UpstreamStatus))
	}
	if e.Status >= 500 {
		span.SetStatus(codes.Error, "")
	}
	span.End(trace.WithTimestamp(e.End))
	return buf
}

// requestAttrs are a request's own attributes, in OpenTelemetry's HTTP
// semantic conventions.
func requestAttrs(method, path, query, scheme, host, proto, client, peer, userAgent string) []attribute.KeyValue {
	a := []attribute.KeyValue{
		attribute.String("http.request.method", method),
		attribute.String("url.path", path),
		attribute.String("url.scheme", scheme),
		attribute.String("server.address", host),
		attribute.String("network.protocol.version", proto),
		attribute.String("client.address", client),
		attribute.String("network.peer.address", peer),
	}
	if query != "" {
		a = append(a, attribute.String("url.query", query))
	}
	if userAgent != "" {
		a = append(a, attribute.String("user_agent.original", userAgent))
	}
	return a
}

// parseTraceparent reads a W3C traceparent ("00-<trace id>-<span id>-
// <flags>"); ok is false for a malformed or all-zero one, which starts a
// new trace, as the W3C recommendation says.
func parseTraceparent(tp, ts string) (trace.SpanContext, bool) {
	// Later versions may append fields; version ff is invalid.
	if len(tp) < 55 || (len(tp) > 55 && tp[55] != '-') || tp[2] != '-' || tp[35] != '-' || tp[52] != '-' || tp[:2] == "ff" {
		return trace.SpanContext{}, false
	}
	if tp[:2] == "00" && len(tp) != 55 {
		return trace.SpanContext{}, false
	}
	var cfg trace.SpanContextConfig
	var flags [1]byte
	if !decodeHex(cfg.TraceID[:], tp[3:35]) || !decodeHex(cfg.SpanID[:], tp[36:52]) || !decodeHex(flags[:], tp[53:55]) {
		return trace.SpanContext{}, false
	}
	cfg.TraceFlags = trace.TraceFlags(flags[0]) & trace.FlagsSampled
	cfg.Remote = true
	if ts != "" {
		// A malformed tracestate is dropped, the parent kept.
		cfg.TraceState, _ = trace.ParseTraceState(ts)
	}
	sc := trace.NewSpanContext(cfg)
	return sc, sc.IsValid()
}

// decodeHex decodes lower-case hex only, as W3C trace context requires.
func decodeHex(dst []byte, s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// formatTraceparent writes sc as a version-00 traceparent.
func formatTraceparent(dst *[55]byte, sc trace.SpanContext) {
	tid, sid := sc.TraceID(), sc.SpanID()
	dst[0], dst[1], dst[2] = '0', '0', '-'
	hex.Encode(dst[3:35], tid[:])
	dst[35] = '-'
	hex.Encode(dst[36:52], sid[:])
	dst[52] = '-'
	hex.Encode(dst[53:55], []byte{byte(sc.TraceFlags())})
}
