package proxy_test

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// collector is a real OTLP/gRPC trace receiver: it records the spans
// Strait exports.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
	port  int
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// received returns the spans exported so far.
func (c *collector) received() []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*tracepb.Span(nil), c.spans...)
}

func startCollector(t testing.TB) *collector {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{port: ln.Addr().(*net.TCPAddr).Port}
	s := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(s, c)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	return c
}

// traceBackend answers with the trace headers it received; paths under
// /fail answer 503.
func traceBackend(t *testing.T) model.Endpoint {
	_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Got-Traceparent", strings.Join(r.Header.Values("Traceparent"), ","))
		w.Header().Set("X-Got-Tracestate", strings.Join(r.Header.Values("Tracestate"), ","))
		if strings.HasPrefix(r.URL.Path, "/fail") {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	return ep
}

// tracingModel serves shop.test: "/" and "/fail" traced and trusting
// incoming spans (Ingress default/shop), "/untrusted" traced without
// trust, "/off" not traced.
func tracingModel(ep model.Endpoint, col *collector, sampler string) *model.Model {
	traced := func(path, ingress string, trust bool) model.Route {
		r := prefixRoute(path, "default/web:80")
		r.Source = model.ObjectRef{Kind: "Ingress", Namespace: "default", Name: ingress}
		r.Policy.Tracing = &model.RouteTracing{TrustIncomingSpan: trust}
		return r
	}
	off := prefixRoute("/off", "default/web:80")
	off.Source = model.ObjectRef{Kind: "Ingress", Namespace: "default", Name: "off"}
	return &model.Model{
		Hosts: []*model.VirtualHost{vhost("shop.test", status(http.StatusNotFound),
			traced("/", "shop", true), traced("/fail", "shop", true), traced("/untrusted", "untrusted", false), off)},
		CatchAll: catchAll404(),
		Backends: []model.Backend{backend("default/web:80", ep)},
		Tracing: &model.Tracing{CollectorHost: "127.0.0.1", CollectorPort: col.port, ServiceName: "edge", Sampler: sampler,
			SamplerRatio: 0.01, ParentBased: true, MaxQueueSize: 2048, ScheduleDelayMillis: 50, MaxExportBatchSize: 512},
	}
}

// tracingTarget is one way of reaching the proxy.
type tracingTarget struct {
	name string
	// h2 uses HTTP/2 over TLS (the net/http handler); otherwise plain
	// HTTP/1.1 to engine e.
	e  engine
	h2 bool
}

var tracingTargets = []tracingTarget{{"h1", engineH1, false}, {"net-http", engineNetHTTP, false}, {"h1-handoff", engineHandoff, false}, {"h2-tls", engineH1, true}}

// startTracing starts a collector, a backend and a proxy for tg; it
// returns the proxy, the collector, a client and the base URL.
func startTracing(t *testing.T, tg tracingTarget, sampler string) (*proxy.Proxy, *collector, *http.Client, string) {
	col := startCollector(t)
	h := startProxy(t, tg.e, testTimeouts, tracingModel(traceBackend(t), col, sampler), tg.h2)
	c := newClient(t)
	base := h.url("")
	if tg.h2 {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "shop.test"}, ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		c = &http.Client{Transport: tr, Timeout: 10 * time.Second}
		base = "https://" + h.tlsAddr
	}
	return h.p, col, c, base
}

// tracedGet sends GET base+path to shop.test with the given traceparent
// ("" for none) and tracestate.
func tracedGet(t *testing.T, c *http.Client, base, path, traceparent, tracestate string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Host = "shop.test"
	if traceparent != "" {
		req.Header.Set("Traceparent", traceparent)
	}
	if tracestate != "" {
		req.Header.Set("Tracestate", tracestate)
	}
	return do(t, c, req)
}

// flush exports the spans still queued.
func flush(t *testing.T, p *proxy.Proxy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.ShutdownTracing(ctx); err != nil {
		t.Fatalf("ShutdownTracing: %v", err)
	}
}

func spanAttrs(s *tracepb.Span) map[string]any {
	m := map[string]any{}
	for _, kv := range s.Attributes {
		if v, ok := kv.Value.Value.(*commonpb.AnyValue_StringValue); ok {
			m[kv.Key] = v.StringValue
		} else {
			m[kv.Key] = kv.Value.GetIntValue()
		}
	}
	return m
}

const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
	clientParent  = "00-" + clientTraceID + "-" + clientSpanID + "-01"
)

// TestTracing checks, on both engines and over HTTP/2, that a traced
// request gets a server span continuing the client's trace, that the
// backend receives that span as parent, that a 5xx answer marks the span
// as an error, that an untrusting route starts a new trace, and that an
// untraced route passes the client's traceparent untouched and exports
// nothing.
func TestTracing(t *testing.T) {
	t.Parallel()
	for _, tg := range tracingTargets {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			p, col, c, base := startTracing(t, tg, "AlwaysOn")

			off := tracedGet(t, c, base, "/off/x", clientParent, "vendor=off")
			if got := off.header.Get("X-Got-Traceparent"); got != clientParent {
				t.Errorf("untraced route: backend got traceparent %q, want the client's %q", got, clientParent)
			}
			if got := off.header.Get("X-Got-Tracestate"); got != "vendor=off" {
				t.Errorf("untraced route: backend got tracestate %q, want the client's", got)
			}

			ok := tracedGet(t, c, base, "/cart?id=1", clientParent, "vendor=1")
			if ok.status != http.StatusOK {
				t.Fatalf("GET /cart: %d", ok.status)
			}
			upTP := ok.header.Get("X-Got-Traceparent")
			parts := strings.Split(upTP, "-")
			if len(parts) != 4 || parts[0] != "00" || parts[1] != clientTraceID || parts[2] == clientSpanID || parts[3] != "01" {
				t.Fatalf("backend got traceparent %q, want the client's trace %s with a new parent id, sampled", upTP, clientTraceID)
			}
			if got := ok.header.Get("X-Got-Tracestate"); got != "vendor=1" {
				t.Errorf("backend got tracestate %q, want vendor=1", got)
			}

			fail := tracedGet(t, c, base, "/fail", "", "")
			if fail.status != http.StatusServiceUnavailable {
				t.Fatalf("GET /fail: %d", fail.status)
			}
			failTP := strings.Split(fail.header.Get("X-Got-Traceparent"), "-")

			untrusted := tracedGet(t, c, base, "/untrusted", clientParent, "vendor=1")
			untrustedTP := strings.Split(untrusted.header.Get("X-Got-Traceparent"), "-")
			if len(untrustedTP) != 4 || untrustedTP[1] == clientTraceID {
				t.Errorf("untrusting route: backend got traceparent %q, want a new trace", untrusted.header.Get("X-Got-Traceparent"))
			}
			if got := untrusted.header.Get("X-Got-Tracestate"); got != "" {
				t.Errorf("untrusting route: backend got the client's tracestate %q", got)
			}

			flush(t, p)
			spans := col.received()
			byID := map[string]*tracepb.Span{}
			for _, s := range spans {
				byID[hex.EncodeToString(s.SpanId)] = s
				if a := spanAttrs(s); a["ingress.name"] == "off" {
					t.Errorf("untraced route exported span %q", s.Name)
				}
			}
			if len(spans) != 3 {
				t.Errorf("exported %d spans, want 3 (cart, fail, untrusted)", len(spans))
			}

			s := byID[parts[2]]
			if s == nil {
				t.Fatalf("no span with the id the backend got as parent (%s); spans: %v", parts[2], spans)
			}
			if hex.EncodeToString(s.TraceId) != clientTraceID || hex.EncodeToString(s.ParentSpanId) != clientSpanID {
				t.Errorf("span trace %x parent %x, want trace %s parent %s", s.TraceId, s.ParentSpanId, clientTraceID, clientSpanID)
			}
			if s.Kind != tracepb.Span_SPAN_KIND_SERVER || s.Name != "/" {
				t.Errorf("span kind %v name %q, want SERVER named after the path /", s.Kind, s.Name)
			}
			a := spanAttrs(s)
			for k, want := range map[string]any{"http.request.method": "GET", "url.path": "/cart", "url.query": "id=1", "server.address": "shop.test",
				"http.response.status_code": int64(200), "ingress.name": "shop", "ingress.namespace": "default", "ingress.service.name": "web", "http.route": "/"} {
				if a[k] != want {
					t.Errorf("span attribute %s = %v, want %v", k, a[k], want)
				}
			}
			if a["upstream.address"] == nil || a["upstream.address"] == "" {
				t.Errorf("span has no upstream.address: %v", a)
			}
			if s.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
				t.Errorf("a 200 span has status error")
			}

			if len(failTP) != 4 || byID[failTP[2]] == nil {
				t.Fatalf("no span for /fail (backend got %v)", failTP)
			}
			fs := byID[failTP[2]]
			if fs.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || spanAttrs(fs)["http.response.status_code"] != int64(503) {
				t.Errorf("/fail span status %v, code %v; want error and 503", fs.Status.GetCode(), spanAttrs(fs)["http.response.status_code"])
			}
			if len(fs.ParentSpanId) != 0 {
				t.Errorf("/fail without traceparent has parent %x, want a root span", fs.ParentSpanId)
			}

			if len(untrustedTP) == 4 {
				us := byID[untrustedTP[2]]
				if us == nil {
					t.Fatalf("no span for /untrusted")
				}
				if len(us.ParentSpanId) != 0 || hex.EncodeToString(us.TraceId) == clientTraceID {
					t.Errorf("untrusting route's span continues the client's trace (trace %x parent %x)", us.TraceId, us.ParentSpanId)
				}
			}
		})
	}
}

// TestTracingAlwaysOff checks that otel-sampler AlwaysOff exports nothing
// while the backend still receives a traceparent (not sampled) in the
// client's trace.
func TestTracingAlwaysOff(t *testing.T) {
	t.Parallel()
	for _, tg := range []tracingTarget{tracingTargets[0], tracingTargets[1]} {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			p, col, c, base := startTracing(t, tg, "AlwaysOff")
			// A root request: AlwaysOff decides.
			r := tracedGet(t, c, base, "/cart", "", "")
			tp := strings.Split(r.header.Get("X-Got-Traceparent"), "-")
			if len(tp) != 4 || tp[3] != "00" {
				t.Errorf("backend got traceparent %q, want one not sampled", r.header.Get("X-Got-Traceparent"))
			}
			flush(t, p)
			if n := len(col.received()); n != 0 {
				t.Errorf("AlwaysOff exported %d spans", n)
			}
		})
	}
}

// TestTracingSwap checks that new collector settings build a new exporter
// that receives the spans, and that a model without tracing stops it.
func TestTracingSwap(t *testing.T) {
	t.Parallel()
	p, col1, c, base := startTracing(t, tracingTargets[0], "AlwaysOn")
	ep := traceBackend(t)
	tracedGet(t, c, base, "/a", "", "")
	col2 := startCollector(t)
	p.Apply(tracingModel(ep, col2, "AlwaysOn"))
	tracedGet(t, c, base, "/b", "", "")
	flush(t, p)
	if !waitFor(5*time.Second, func() bool { return len(col1.received()) == 1 }) {
		t.Errorf("first collector got %d spans, want 1 (flushed when its exporter was replaced)", len(col1.received()))
	}
	if n := len(col2.received()); n != 1 {
		t.Errorf("second collector got %d spans, want 1", n)
	}
	m := tracingModel(ep, col2, "AlwaysOn")
	m.Tracing = nil
	p.Apply(m)
	r := tracedGet(t, c, base, "/c", clientParent, "")
	if got := r.header.Get("X-Got-Traceparent"); got != clientParent {
		t.Errorf("tracing off: backend got %q, want the client's traceparent", got)
	}
}
