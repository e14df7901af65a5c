package proxy_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// gatewayProxy serves rules on one Gateway listener (any host) of a new
// proxy with backends, and returns the listener's base URL and a client
// that does not follow redirects.
func gatewayProxy(t *testing.T, backends []model.Backend, rules ...model.GatewayRule) (string, *http.Client) {
	t.Helper()
	return gatewayProxyWith(t, testTimeouts, backends, rules...)
}

// gatewayProxyWith is gatewayProxy with the proxy's upstream timeouts.
func gatewayProxyWith(t *testing.T, to proxy.Timeouts, backends []model.Backend, rules ...model.GatewayRule) (string, *http.Client) {
	t.Helper()
	p, err := proxy.New(proxy.Options{Timeouts: to, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.CloseTunnels)
	addr := serveGateway(t, p)
	_, ps, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(ps)
	p.Apply(&model.Model{
		CatchAll: catchAll404(),
		Backends: backends,
		Gateways: []model.Gateway{{Name: "infra/gw", Listeners: []model.Listener{{Name: "web", Port: int32(port), Rules: rules}}}},
	})
	return "http://" + addr, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// prefixRule is a rule taking the requests under prefix to backends.
func prefixRule(prefix string, backends ...string) model.GatewayRule {
	r := model.GatewayRule{Route: "HTTPRoute " + prefix, Path: model.PathMatch{Type: "PathPrefix", Value: prefix}}
	for _, b := range backends {
		r.Backends = append(r.Backends, model.WeightedAction{Action: model.Action{Backend: b}, Weight: 1})
	}
	return r
}

// headerSetter is a backend that answers with the response headers its
// request's X-Respond header lists ("Name: value" pairs separated by
// "|"), after X-Backend naming it.
func headerSetter(t *testing.T, name string) model.Endpoint {
	t.Helper()
	_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		for _, kv := range r.Header.Values("X-Respond") {
			for _, pair := range strings.Split(kv, "|") {
				k, v, _ := strings.Cut(pair, ": ")
				w.Header().Add(k, v)
			}
		}
		_, _ = w.Write([]byte("ok"))
	}))
	return ep
}

// h2cBackend is a gRPC backend (HTTP/2 in clear text) served by h.
func h2cBackend(t *testing.T, name string, h http.Handler) model.Backend {
	t.Helper()
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	b := backend(name, endpointOf(t, ln.Addr()))
	b.Protocol = model.ProtocolGRPC
	return b
}

// TestGatewayResponseHeaders: a ResponseHeaderModifier sets (replacing the
// upstream's values), adds (after them) and removes response headers,
// whatever the case of the names, and applies to Strait's own answers as
// well.
func TestGatewayResponseHeaders(t *testing.T) {
	t.Parallel()
	rule := prefixRule("/", "b")
	rule.ResponseHeaders = &model.HeaderChanges{
		Set:    []model.KV{{Name: "X-Header-Set", Value: "set-overwrites-values"}},
		Add:    []model.KV{{Name: "x-header-add", Value: "add-appends-values"}, {Name: "X-UPPERCASE-ADD", Value: "u"}},
		Remove: []string{"x-HEADER-remove"},
	}
	broken := prefixRule("/broken")
	broken.Backends = []model.WeightedAction{{Action: model.Action{Status: 500}, Weight: 1}}
	broken.ResponseHeaders = rule.ResponseHeaders
	url, c := gatewayProxy(t, []model.Backend{backend("b", headerSetter(t, "b"))}, broken, rule)

	req, _ := http.NewRequest(http.MethodGet, url+"/x", nil)
	req.Header.Set("X-Respond", "x-header-set: upstream|X-Header-Add: some-other-value|X-Header-Remove: gone|Another-Header: kept")
	r := do(t, c, req)
	want := map[string]string{
		"X-Header-Set":    "set-overwrites-values",
		"X-Header-Add":    "some-other-value,add-appends-values",
		"X-Uppercase-Add": "u",
		"Another-Header":  "kept",
		"X-Header-Remove": "",
	}
	for k, v := range want {
		if got := strings.Join(r.header.Values(k), ","); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if r.status != 200 || string(r.body) != "ok" {
		t.Errorf("answer %d %q", r.status, r.body)
	}
	if r := get(t, c, url+"/broken", ""); r.status != 500 || r.header.Get("X-Header-Set") != "set-overwrites-values" {
		t.Errorf("Strait's own answer: %d, X-Header-Set %q", r.status, r.header.Get("X-Header-Set"))
	}
}

// TestGatewayBackendFilters: a backend's own header filters apply to the
// requests sent to it alone, after the rule's.
func TestGatewayBackendFilters(t *testing.T) {
	t.Parallel()
	rule := prefixRule("/", "a", "b")
	rule.RequestHeaders = &model.HeaderChanges{Set: []model.KV{{Name: "Backend", Value: "rule"}, {Name: "X-Rule", Value: "r"}}}
	for i, name := range []string{"a", "b"} {
		rule.Backends[i].RequestHeaders = &model.HeaderChanges{Set: []model.KV{{Name: "backend", Value: name}}}
		rule.Backends[i].ResponseHeaders = &model.HeaderChanges{Add: []model.KV{{Name: "X-Picked", Value: name}}}
	}
	url, c := gatewayProxy(t, []model.Backend{backend("a", echoBackend(t, "a")), backend("b", echoBackend(t, "b"))}, rule)
	seen := map[string]int{}
	for range 40 {
		r := get(t, c, url+"/", "")
		e := decodeEcho(t, r)
		seen[e.Backend]++
		if got := e.Headers["Backend"]; len(got) != 1 || got[0] != e.Backend {
			t.Fatalf("backend %s got Backend %v", e.Backend, got)
		}
		if got := e.Headers["X-Rule"]; len(got) != 1 || got[0] != "r" {
			t.Fatalf("backend %s got X-Rule %v", e.Backend, got)
		}
		if got := r.header.Values("X-Picked"); len(got) != 1 || got[0] != e.Backend {
			t.Fatalf("answer of %s has X-Picked %v", e.Backend, got)
		}
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Errorf("backends seen %v, want both", seen)
	}
}

// TestGatewayURLRewrite: the backend receives the rewritten path (escaped,
// with the client's query) and Host; X-Forwarded-Host keeps the client's;
// the rule matched the normalised path.
func TestGatewayURLRewrite(t *testing.T) {
	t.Parallel()
	prefix := prefixRule("/prefix/one", "a")
	prefix.Rewrite = &model.URLRewrite{Path: &model.PathModifier{Type: model.ReplacePrefixMatch, Value: "/one"}}
	strip := prefixRule("/strip-prefix", "a")
	strip.Rewrite = &model.URLRewrite{Path: &model.PathModifier{Type: model.ReplacePrefixMatch, Value: "/"}}
	full := prefixRule("/full", "a")
	full.Rewrite = &model.URLRewrite{Hostname: "one.example.org", Path: &model.PathModifier{Type: model.ReplaceFullPath, Value: "/one"}}
	host := prefixRule("/", "a")
	host.Rewrite = &model.URLRewrite{Hostname: "example.org"}
	url, c := gatewayProxy(t, []model.Backend{backend("a", echoBackend(t, "a"))}, prefix, strip, full, host)
	for _, tc := range []struct {
		path, uri, host string
	}{
		{"/prefix/one/two?q=1", "/one/two?q=1", "rewrite.example"},
		{"/prefix/one/sp%20ace", "/one/sp%20ace", "rewrite.example"},
		{"/strip-prefix/three", "/three", "rewrite.example"},
		{"/strip-prefix", "/", "rewrite.example"},
		{"/strip-prefix/", "/", "rewrite.example"},
		{"/x/../strip-prefix//four", "/four", "rewrite.example"},
		{"/full/one/two?a=b", "/one?a=b", "one.example.org"},
		{"/two", "/two", "example.org"},
	} {
		r := get(t, c, url+tc.path, "rewrite.example")
		e := decodeEcho(t, r)
		if e.URI != tc.uri || e.Host != tc.host {
			t.Errorf("%s: upstream %s (Host %s), want %s (Host %s)", tc.path, e.URI, e.Host, tc.uri, tc.host)
		}
		if got := e.Headers["X-Forwarded-Host"]; len(got) != 1 || got[0] != "rewrite.example" {
			t.Errorf("%s: X-Forwarded-Host %v", tc.path, got)
		}
	}
}

// TestGatewayRedirectStatus: a redirect answers with its status code
// (301, 302, 303, 307 or 308) and Location, whatever the method.
func TestGatewayRedirectStatus(t *testing.T) {
	t.Parallel()
	var rules []model.GatewayRule
	for _, code := range []int{301, 302, 303, 307, 308} {
		r := prefixRule("/" + strconv.Itoa(code))
		r.Redirect = &model.GatewayRedirect{Hostname: "example.org", Status: code}
		rules = append(rules, r)
	}
	url, c := gatewayProxy(t, nil, rules...)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	for _, code := range []int{301, 302, 303, 307, 308} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, url+"/"+strconv.Itoa(code)+"/x?y=z", strings.NewReader("body"))
			r := do(t, c, req)
			want := "http://example.org:" + port + "/" + strconv.Itoa(code) + "/x?y=z"
			if r.status != code || r.header.Get("Location") != want {
				t.Errorf("%s %d: %d %q, want %d %q", method, code, r.status, r.header.Get("Location"), code, want)
			}
		}
	}
}

// mirrorSink is a backend that records the requests it receives.
type mirrorSink struct {
	mu   sync.Mutex
	seen []copyOf
}

type copyOf struct {
	proto, host, uri, body string
	header                 http.Header
}

func (s *mirrorSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.seen = append(s.seen, copyOf{proto: r.Proto, host: r.Host, uri: r.RequestURI, body: string(b), header: r.Header})
	s.mu.Unlock()
	w.WriteHeader(http.StatusTeapot)
}

// settled returns what s received once nothing more arrived for 200 ms.
func (s *mirrorSink) settled(t *testing.T) []copyOf {
	t.Helper()
	n := -1
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		s.mu.Lock()
		m := len(s.seen)
		s.mu.Unlock()
		if m == n && m > 0 {
			break
		}
		n = m
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]copyOf(nil), s.seen...)
}

// TestGatewayMirrors: each mirror gets a copy of the request as it is sent
// upstream (headers changed, path rewritten, body kept), over HTTP/2 in
// clear text for gRPC backends; the client gets the backend's answer; a
// fraction mirrors about that share of the requests.
func TestGatewayMirrors(t *testing.T) {
	t.Parallel()
	var m1, m2, some mirrorSink
	_, ep1 := backendServer(t, &m1)
	_, epSome := backendServer(t, &some)
	grpc := h2cBackend(t, "m2", &m2)

	both := prefixRule("/mirror", "a")
	both.RequestHeaders = &model.HeaderChanges{Set: []model.KV{{Name: "X-Header-Set", Value: "set"}}}
	both.Rewrite = &model.URLRewrite{Hostname: "rewritten.example", Path: &model.PathModifier{Type: model.ReplacePrefixMatch, Value: "/new"}}
	both.Mirrors = []model.GatewayMirror{{Backend: "m1", Numerator: 1, Denominator: 1}, {Backend: "m2", Numerator: 1, Denominator: 1}}
	both.Backends[0].RequestHeaders = &model.HeaderChanges{Set: []model.KV{{Name: "X-Backend-Only", Value: "1"}}}
	quarter := prefixRule("/quarter", "a")
	quarter.Mirrors = []model.GatewayMirror{{Backend: "some", Numerator: 25, Denominator: 100}}
	url, c := gatewayProxy(t, []model.Backend{backend("a", echoBackend(t, "a")), backend("m1", ep1), grpc, backend("some", epSome)}, both, quarter)

	req, _ := http.NewRequest(http.MethodPost, url+"/mirror/x?q=1", strings.NewReader("payload"))
	req.Host = "client.example"
	r := do(t, c, req)
	if e := decodeEcho(t, r); e.Body != "payload" || e.URI != "/new/x?q=1" {
		t.Errorf("backend got %q at %s", e.Body, e.URI)
	}
	for name, sink := range map[string]*mirrorSink{"m1": &m1, "m2 (h2c)": &m2} {
		got := sink.settled(t)
		if len(got) != 1 {
			t.Fatalf("%s: %d copies, want 1", name, len(got))
		}
		g := got[0]
		if g.uri != "/new/x?q=1" || g.host != "rewritten.example" || g.body != "payload" || g.header.Get("X-Header-Set") != "set" || g.header.Get("X-Backend-Only") != "" {
			t.Errorf("%s: copy %+v", name, g)
		}
		if name == "m2 (h2c)" && g.proto != "HTTP/2.0" {
			t.Errorf("%s: copy over %s", name, g.proto)
		}
	}

	const n = 400
	for range n {
		if r := get(t, c, url+"/quarter", ""); r.status != 200 {
			t.Fatalf("/quarter: %d", r.status)
		}
	}
	// 3 standard deviations of a binomial(400, 1/4) are 26.
	if got := len(some.settled(t)); got < 100-26 || got > 100+26 {
		t.Errorf("a quarter of %d requests mirrored %d", n, got)
	}
}

// TestGatewayTimeouts: a request or backend timeout that passes before the
// response begins is answered 504 without waiting for the backend; one
// that passes while the response streams cuts it; a rule timeout longer
// than the proxy's read timeout lets a slow backend answer, which
// without it times out.
func TestGatewayTimeouts(t *testing.T) {
	t.Parallel()
	request := prefixRule("/request", "a")
	request.Timeouts = &model.GatewayTimeouts{RequestMillis: 300}
	backendRule := prefixRule("/backend", "a")
	backendRule.Timeouts = &model.GatewayTimeouts{BackendMillis: 300, RequestMillis: 5000}
	long := prefixRule("/long", "a")
	long.Timeouts = &model.GatewayTimeouts{RequestMillis: 5000}
	sse := prefixRule("/sse", "a")
	sse.Timeouts = &model.GatewayTimeouts{RequestMillis: 350}
	none := prefixRule("/", "a")
	// The proxy's read timeout is shorter than the long rule's.
	read := 300 * time.Millisecond
	url, c := gatewayProxyWith(t, proxy.Timeouts{Read: read}, []model.Backend{backend("a", echoBackend(t, "a"))}, request, backendRule, long, sse, none)

	for _, tc := range []struct {
		path string
		want int
		max  time.Duration
	}{
		{"/request", 200, time.Second},
		{"/request?sleep=2s", 504, time.Second},
		{"/backend?sleep=2s", 504, time.Second},
		{"/backend?sleep=50ms", 200, time.Second},
		{"/long?sleep=" + (read + 300*time.Millisecond).String(), 200, 5 * time.Second},
		{"/none?sleep=" + (read + 300*time.Millisecond).String(), 504, 5 * time.Second},
	} {
		start := time.Now()
		r := get(t, c, url+tc.path, "")
		if r.status != tc.want || time.Since(start) > tc.max {
			t.Errorf("%s: %d after %v, want %d within %v", tc.path, r.status, time.Since(start), tc.want, tc.max)
		}
	}

	resp, err := c.Get(url + "/sse?n=20&interval=100ms")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || err == nil || strings.Count(string(body), "data:") >= 20 {
		t.Errorf("stream past its timeout: %d, %d events, error %v; want it cut", resp.StatusCode, strings.Count(string(body), "data:"), err)
	}
}

// TestGatewayCORS: preflights are answered 204, with the CORS headers
// only for allowed origins (exact, with the scheme's port implied, or a
// wildcard of any number of labels); "*" lists echo what the preflight
// asks; responses to allowed origins carry the origin, credentials and
// exposed headers in place of the upstream's.
func TestGatewayCORS(t *testing.T) {
	t.Parallel()
	listed := prefixRule("/cors-1", "b")
	listed.CORS = &model.GatewayCORS{
		AllowOrigins:  []string{"https://www.foo.com:443", "https://*.bar.com:443"},
		AllowMethods:  []string{"GET", "OPTIONS"},
		AllowHeaders:  []string{"x-header-1", "x-header-2"},
		ExposeHeaders: []string{"x-header-3", "x-header-4"}, AllowCredentials: true, MaxAgeSeconds: 3600,
	}
	wild := prefixRule("/cors-wildcard", "b")
	wild.CORS = &model.GatewayCORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"},
		ExposeHeaders: []string{"*"}, AllowCredentials: true, MaxAgeSeconds: 5}
	url, c := gatewayProxy(t, []model.Backend{backend("b", headerSetter(t, "b"))}, listed, wild)

	send := func(method, path, origin string, h map[string]string) result {
		req, _ := http.NewRequest(method, url+path, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for k, v := range h {
			req.Header.Set(k, v)
		}
		return do(t, c, req)
	}
	ask := map[string]string{"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-header-1, x-header-2"}
	for _, tc := range []struct {
		name, method, path, origin string
		status                     int
		want                       map[string]string // "" for absent
	}{
		{"preflight, exact origin", "OPTIONS", "/cors-1", "https://www.foo.com", 204, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com", "Access-Control-Allow-Methods": "GET, OPTIONS",
			"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Expose-Headers": "x-header-3, x-header-4",
			"Access-Control-Max-Age": "3600", "Access-Control-Allow-Credentials": "true", "Vary": "Origin", "X-Backend": ""}},
		{"preflight, explicit default port", "OPTIONS", "/cors-1", "https://www.foo.com:443", 204, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com:443"}},
		{"preflight, wildcard of two labels", "OPTIONS", "/cors-1", "https://xpto.www.bar.com", 204, map[string]string{
			"Access-Control-Allow-Origin": "https://xpto.www.bar.com"}},
		{"preflight, other origin", "OPTIONS", "/cors-1", "https://foobar.com", 204, map[string]string{
			"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}},
		{"preflight, other port", "OPTIONS", "/cors-1", "https://www.foo.com:8443", 204, map[string]string{
			"Access-Control-Allow-Origin": ""}},
		{"preflight, other scheme", "OPTIONS", "/cors-1", "http://www.foo.com", 204, map[string]string{
			"Access-Control-Allow-Origin": ""}},
		{"preflight, wildcards echo", "OPTIONS", "/cors-wildcard", "https://other.foo.com:12345", 204, map[string]string{
			"Access-Control-Allow-Origin": "https://other.foo.com:12345", "Access-Control-Allow-Methods": "PUT",
			"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Allow-Credentials": "true"}},
		{"request, exact origin", "GET", "/cors-1", "https://www.foo.com", 200, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers": "x-header-3, x-header-4", "Access-Control-Allow-Methods": "", "X-Backend": "b"}},
		// The upstream's own answer stays for origins the filter does not
		// allow.
		{"request, other origin", "GET", "/cors-1", "https://foobar.com", 200, map[string]string{
			"Access-Control-Allow-Origin": "https://upstream", "Access-Control-Allow-Credentials": "", "X-Backend": "b"}},
		{"request without origin", "GET", "/cors-1", "", 200, map[string]string{"Access-Control-Allow-Origin": "https://upstream"}},
		{"request, any origin with credentials", "PUT", "/cors-wildcard", "https://other.foo.com", 200, map[string]string{
			"Access-Control-Allow-Origin": "https://other.foo.com", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers": "Content-Length, Content-Type, Vary, X-Backend, X-Custom"}},
	} {
		h := ask
		if tc.method != "OPTIONS" {
			h = map[string]string{"X-Respond": "Access-Control-Allow-Origin: https://upstream|X-Custom: 1"}
		}
		r := send(tc.method, tc.path, tc.origin, h)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		for k, v := range tc.want {
			if got := strings.Join(r.header.Values(k), ","); got != v {
				t.Errorf("%s: %s %q, want %q", tc.name, k, got, v)
			}
		}
	}
}

// TestGatewayGRPCFilters: the header filters of a gRPC rule and of its
// backend apply over HTTP/2 to the backend, and leave the trailers alone.
func TestGatewayGRPCFilters(t *testing.T) {
	t.Parallel()
	grpc := h2cBackend(t, "g", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "Grpc-Status")
		w.Header().Set("X-Tenant-Seen", r.Header.Get("X-Tenant")+"/"+r.Header.Get("X-Backend-Only")+"/"+r.Proto)
		w.Header().Set("X-Header-Remove", "gone")
		w.Header().Set("Content-Type", "application/grpc")
		_, _ = w.Write([]byte("reply"))
		w.(http.Flusher).Flush() // streamed: the trailers reach an HTTP/1.1 client
		w.Header().Set("Grpc-Status", "0")
	}))
	rule := model.GatewayRule{Route: "GRPCRoute infra/g rule 0 match 0", Path: model.PathMatch{Type: "Exact", Value: "/echo.Echo/Ping"},
		RequestHeaders:  &model.HeaderChanges{Add: []model.KV{{Name: "X-Tenant", Value: "t1"}}},
		ResponseHeaders: &model.HeaderChanges{Set: []model.KV{{Name: "X-Header-Set", Value: "s"}}, Remove: []string{"X-Header-Remove"}},
		Backends: []model.WeightedAction{{Action: model.Action{Backend: "g"}, Weight: 1,
			RequestHeaders:  &model.HeaderChanges{Set: []model.KV{{Name: "X-Backend-Only", Value: "1"}}},
			ResponseHeaders: &model.HeaderChanges{Add: []model.KV{{Name: "X-Backend", Value: "g"}}}}},
	}
	url, _ := gatewayProxy(t, []model.Backend{grpc}, rule)
	resp, err := http.Post(url+"/echo.Echo/Ping", "application/grpc", strings.NewReader("ping"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "reply" || resp.Header.Get("X-Tenant-Seen") != "t1/1/HTTP/2.0" {
		t.Errorf("backend answered %q, saw %q", body, resp.Header.Get("X-Tenant-Seen"))
	}
	if resp.Header.Get("X-Header-Set") != "s" || resp.Header.Get("X-Backend") != "g" || resp.Header.Get("X-Header-Remove") != "" {
		t.Errorf("response headers %v", resp.Header)
	}
	if resp.Trailer.Get("Grpc-Status") != "0" {
		t.Errorf("trailers %v, want Grpc-Status 0", resp.Trailer)
	}
}
