package proxy

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
)

func mustPrefixes(t *testing.T, list ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// decide runs a route's checks as both engines do for a route with a
// backend that has endpoints: check (body size, redirect, HTTPS redirect),
// then access (deny and allow lists).
func decide(rp *routePolicy, r *request) verdict {
	if v := rp.check(r); v.status != 0 {
		return v
	}
	return rp.access(r)
}

// TestPolicyCheckOrder follows ingress-nginx's phases: body size (when the
// location is selected), the configured redirect, the HTTPS redirect, then
// the deny and allow lists.
func TestPolicyCheckOrder(t *testing.T) {
	full := func() *routePolicy {
		return &routePolicy{
			maxBody:     10,
			redirectURL: "https://elsewhere.test/landing", redirectCode: http.StatusMovedPermanently,
			httpsCode: http.StatusPermanentRedirect,
			deny:      mustPrefixes(t, "127.0.0.0/8"),
			allow:     mustPrefixes(t, "10.0.0.0/8"),
		}
	}
	req := func(cl int64, https bool) *request {
		return &request{https: https, host: "h.test:8080", uri: "/x/?q=1", remoteIP: "127.0.0.1", contentLength: cl}
	}
	for _, c := range []struct {
		name   string
		edit   func(*routePolicy)
		req    *request
		status int
		loc    string
	}{
		{"413 first", nil, req(11, false), 413, ""},
		{"413 over https too", nil, req(11, true), 413, ""},
		{"body at the limit: redirect", nil, req(10, false), 301, "https://elsewhere.test/landing"},
		{"unknown length (chunked) is not 413", nil, req(-1, false), 301, "https://elsewhere.test/landing"},
		{"redirect over https too", nil, req(0, true), 301, "https://elsewhere.test/landing"},
		{"https redirect after the redirect", func(rp *routePolicy) { rp.redirectCode, rp.redirectURL = 0, "" }, req(0, false), 308, "https://h.test/x/?q=1"},
		{"deny after the https redirect", func(rp *routePolicy) { rp.redirectCode, rp.redirectURL = 0, "" }, req(0, true), 403, ""},
		{"deny without https redirect", func(rp *routePolicy) { rp.redirectCode, rp.httpsCode = 0, 0 }, req(0, false), 403, ""},
		{"allow miss", func(rp *routePolicy) { rp.redirectCode, rp.httpsCode, rp.deny = 0, 0, nil }, req(0, false), 403, ""},
		{"allow hit", func(rp *routePolicy) {
			rp.redirectCode, rp.httpsCode, rp.deny, rp.allow = 0, 0, nil, mustPrefixes(t, "127.0.0.1/32")
		}, req(0, false), 0, ""},
		{"no limit", func(rp *routePolicy) { rp.maxBody, rp.deny, rp.allow = 0, nil, nil }, req(1<<40, true), 301, "https://elsewhere.test/landing"},
	} {
		rp := full()
		if c.edit != nil {
			c.edit(rp)
		}
		v := decide(rp, c.req)
		if v.status != c.status || v.location != c.loc {
			t.Errorf("%s: check = %d %q, want %d %q", c.name, v.status, v.location, c.status, c.loc)
		}
	}
}

func TestHTTPSLocation(t *testing.T) {
	for _, c := range []struct{ host, uri, want string }{
		{"h", "/", "https://h"},
		{"h", "", "https://h"},
		{"h", "/x", "https://h/x"},
		{"h", "/a/", "https://h/a"},
		{"h", "/a//", "https://h/a/"}, // one slash only
		{"h:8080", "/x/", "https://h/x"},
		{"h.test:80", "/", "https://h.test"},
		{"h", "/a/?b=1", "https://h/a/?b=1"},
		{"h", "/a?b=c", "https://h/a?b=c"},
		// ingress-nginx strips the last byte of $request_uri when it is "/",
		// query or not (rootfs/etc/nginx/lua/lua_ingress.lua: string.sub(
		// request_uri, 1, -2)), so "/a?b=/" loses it too.
		{"h", "/a?b=/", "https://h/a?b="},
		{"[::1]", "/x", "https://[::1]/x"},
		{"[::1]:8080", "/x/", "https://[::1]/x"},
		{"[2001:db8::1]:443", "/", "https://[2001:db8::1]"},
		{"10.0.0.1:8080", "/p", "https://10.0.0.1/p"},
	} {
		if got := httpsLocation(c.host, c.uri); got != c.want {
			t.Errorf("httpsLocation(%q, %q) = %q, want %q", c.host, c.uri, got, c.want)
		}
	}
}

func TestPolicySourceRanges(t *testing.T) {
	for _, c := range []struct {
		name        string
		deny, allow []string
		ip          string
		want        int
	}{
		{"deny before allow", []string{"10.0.0.0/8"}, []string{"10.0.0.0/8"}, "10.1.1.1", 403},
		{"narrow deny inside allow", []string{"10.5.0.0/16"}, []string{"10.0.0.0/8"}, "10.5.0.1", 403},
		{"allow outside narrow deny", []string{"10.5.0.0/16"}, []string{"10.0.0.0/8"}, "10.6.0.1", 0},
		{"deny only, miss", []string{"10.0.0.0/8"}, nil, "192.168.0.1", 0},
		{"deny only, hit", []string{"192.168.0.0/16"}, nil, "192.168.0.1", 403},
		{"allow miss", nil, []string{"10.0.0.0/8"}, "192.168.0.1", 403},
		{"allow hit", nil, []string{"10.0.0.0/8", "192.168.0.0/24"}, "192.168.0.7", 0},
		{"single address", nil, []string{"192.168.0.7/32"}, "192.168.0.8", 403},
		{"IPv4-mapped client, deny", []string{"127.0.0.0/8"}, nil, "::ffff:127.0.0.1", 403},
		{"IPv4-mapped client, allow", nil, []string{"10.0.0.0/8"}, "::ffff:10.0.0.1", 0},
		{"IPv4-mapped client, allow miss", nil, []string{"10.0.0.0/8"}, "::ffff:11.0.0.1", 403},
		{"IPv6 client, v4 allow list", nil, []string{"10.0.0.0/8"}, "2001:db8::1", 403},
		{"IPv6 client, v6 allow list", nil, []string{"2001:db8::/32"}, "2001:db8::1", 0},
		{"IPv6 client, v6 deny list", []string{"2001:db8::/32"}, []string{"::/0"}, "2001:db8::1", 403},
		{"loopback v6", []string{"::1/128"}, nil, "::1", 403},
		{"unparsable client address", nil, []string{"0.0.0.0/0"}, "not-an-ip", 403},
		{"empty client address", []string{"10.0.0.0/8"}, nil, "", 403},
	} {
		rp := compilePolicy(&model.Policy{DenySourceRange: c.deny, AllowSourceRange: c.allow})
		if rp == nil {
			t.Fatalf("%s: compilePolicy returned nil", c.name)
		}
		v := decide(rp, &request{https: true, host: "h", uri: "/", remoteIP: c.ip, contentLength: -1})
		if v.status != c.want || v.location != "" {
			t.Errorf("%s: client %s: check = %d %q, want %d", c.name, c.ip, v.status, v.location, c.want)
		}
	}
}

func TestCompilePolicy(t *testing.T) {
	for _, p := range []model.Policy{
		{},
		{ConnectTimeout: 5, ReadTimeout: 60, SendTimeout: 60},
	} {
		if rp := compilePolicy(&p); rp != nil {
			t.Errorf("compilePolicy(%+v) = %+v, want nil (nothing to check)", p, rp)
		}
	}
	for _, p := range []model.Policy{
		{MaxBodyBytes: 1},
		{Redirect: &model.Redirect{URL: "https://x", Code: 302}},
		{HTTPSRedirectCode: 308},
		{DenySourceRange: []string{"10.0.0.0/8"}},
		{AllowSourceRange: []string{"10.0.0.0/8"}},
	} {
		if rp := compilePolicy(&p); rp == nil {
			t.Errorf("compilePolicy(%+v) = nil, want checks", p)
		}
	}
	rp := compilePolicy(&model.Policy{Redirect: &model.Redirect{URL: "https://x/y", Code: 307}, HTTPSRedirectCode: 301})
	if v := decide(rp, &request{host: "h", uri: "/", remoteIP: "1.2.3.4"}); v.status != 307 || v.location != "https://x/y" {
		t.Errorf("redirect: check = %+v", v)
	}
	// An allow list whose every entry is unreadable admits nobody: it
	// must not turn into "no allow list".
	rp = compilePolicy(&model.Policy{AllowSourceRange: []string{"garbage"}})
	if rp == nil {
		t.Fatal("compilePolicy with an unreadable allow list = nil")
	}
	if v := decide(rp, &request{host: "h", uri: "/", remoteIP: "10.0.0.1"}); v.status != 403 {
		t.Errorf("unreadable allow list: check = %+v, want 403", v)
	}
	// The readable entries of a partly unreadable list still apply.
	rp = compilePolicy(&model.Policy{DenySourceRange: []string{"garbage", "10.0.0.0/8"}})
	if v := decide(rp, &request{host: "h", uri: "/", remoteIP: "10.0.0.1"}); v.status != 403 {
		t.Errorf("partly unreadable deny list: check = %+v, want 403", v)
	}
}

func TestPolicyTimeouts(t *testing.T) {
	def := Timeouts{Connect: 5 * time.Second, Read: 60 * time.Second, Send: 60 * time.Second}
	if got := policyTimeouts(&model.Policy{}, def); got != def {
		t.Errorf("zero policy: %+v, want the defaults %+v", got, def)
	}
	got := policyTimeouts(&model.Policy{ConnectTimeout: 2, ReadTimeout: 120}, def)
	want := Timeouts{Connect: 2 * time.Second, Read: 120 * time.Second, Send: 60 * time.Second}
	if got != want {
		t.Errorf("policyTimeouts = %+v, want %+v", got, want)
	}
}

// Integration: both plain-HTTP engines, observed from a client.

type polEngine string

const (
	polH1      polEngine = "h1"
	polNetHTTP polEngine = "net-http"
)

// polStart serves m on a loopback listener with engine e and returns
// the listener's address.
func polStart(t *testing.T, e polEngine, m *model.Model) string {
	t.Helper()
	p, err := New(Options{Timeouts: Timeouts{Read: 5 * time.Second}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(m)
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var closeFn func() error
	if e == polH1 {
		srv := p.H1Server(ln)
		closeFn = srv.Close
		go func() { done <- srv.Serve() }()
	} else {
		srv := p.Server(ln, false)
		closeFn = srv.Close
		go func() { done <- Serve(srv, ln) }()
	}
	t.Cleanup(func() {
		_ = closeFn()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func polClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type polResult struct {
	status int
	header http.Header
	body   []byte
}

func polDo(t *testing.T, c *http.Client, method, url, host string, body io.Reader, contentLength int64) (polResult, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if contentLength != 0 {
		req.ContentLength = contentLength
	}
	resp, err := c.Do(req)
	if err != nil {
		return polResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return polResult{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// polRaw writes request as it is on a new connection and reads one
// response.
func polRaw(t *testing.T, addr, request string) polResult {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response to %q: %v", request, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return polResult{status: resp.StatusCode, header: resp.Header, body: b}
}

func polGet(t *testing.T, c *http.Client, addr, host, path string) polResult {
	t.Helper()
	r, err := polDo(t, c, http.MethodGet, "http://"+addr+path, host, nil, 0)
	if err != nil {
		t.Fatalf("GET %s (Host %s): %v", path, host, err)
	}
	return r
}

func polBackend(t *testing.T, name string) model.Endpoint {
	t.Helper()
	srv := httptest.NewServer(echo.New(name))
	t.Cleanup(srv.Close)
	a := srv.Listener.Addr().(*net.TCPAddr)
	return model.Endpoint{Host: a.IP.String(), Port: int32(a.Port)}
}

func polRoute(path string, pol model.Policy) model.Route {
	return model.Route{Name: "route:" + path, PathType: model.PathPrefix, Path: path, Action: model.Action{Backend: "echo"}, Policy: pol}
}

func polModel(ep model.Endpoint, routes ...model.Route) *model.Model {
	return &model.Model{
		Hosts:    []*model.VirtualHost{{Name: "h.test", Default: model.Action{Status: http.StatusNotFound}, Routes: routes}},
		CatchAll: model.VirtualHost{Name: model.CatchAllHost, Default: model.Action{Status: http.StatusNotFound}},
		Backends: []model.Backend{{Name: "echo", Protocol: model.ProtocolHTTP, Endpoints: []model.Endpoint{ep}}},
	}
}

func forPolEngines(t *testing.T, f func(t *testing.T, e polEngine)) {
	t.Parallel()
	for _, e := range []polEngine{polH1, polNetHTTP} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			f(t, e)
		})
	}
}

func checkStatus(t *testing.T, what string, r polResult, status int, location string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d (body %q)", what, r.status, status, r.body)
	}
	if got := r.header.Get("Location"); got != location {
		t.Errorf("%s: Location %q, want %q", what, got, location)
	}
	if status >= 300 {
		if want := string(statusBody(status)); string(r.body) != want {
			t.Errorf("%s: body %q, want %q", what, r.body, want)
		}
	}
}

func TestPolicyServed(t *testing.T) {
	forPolEngines(t, func(t *testing.T, e polEngine) {
		ep := polBackend(t, "echo")
		addr := polStart(t, e, polModel(ep,
			polRoute("/redirect", model.Policy{Redirect: &model.Redirect{URL: "https://new.example.com/landing", Code: 301}}),
			polRoute("/temporal", model.Policy{Redirect: &model.Redirect{URL: "https://t.example.com/?a=b", Code: 307}, HTTPSRedirectCode: 308}),
			polRoute("/secure", model.Policy{HTTPSRedirectCode: 308}),
			polRoute("/x", model.Policy{HTTPSRedirectCode: 308}),
			polRoute("/moved", model.Policy{HTTPSRedirectCode: 301}),
			polRoute("/upload", model.Policy{MaxBodyBytes: 1024}),
			polRoute("/denied", model.Policy{DenySourceRange: []string{"127.0.0.0/8"}, AllowSourceRange: []string{"10.0.0.0/8"}}),
			polRoute("/not-allowed", model.Policy{AllowSourceRange: []string{"10.0.0.0/8", "::1/128"}}),
			polRoute("/allowed", model.Policy{AllowSourceRange: []string{"10.0.0.0/8", "127.0.0.1/32"}}),
			polRoute("/open", model.Policy{}),
		))
		c := polClient(t)

		// The configured redirect: exactly the URL, path and query not
		// appended.
		checkStatus(t, "redirect", polGet(t, c, addr, "h.test", "/redirect/deep?q=1"), 301, "https://new.example.com/landing")
		// It wins over the HTTPS redirect.
		checkStatus(t, "temporal", polGet(t, c, addr, "h.test", "/temporal"), 307, "https://t.example.com/?a=b")

		// The HTTPS redirect: port dropped, one trailing slash dropped.
		checkStatus(t, "https redirect", polGet(t, c, addr, "h.test:8080", "/x/"), 308, "https://h.test/x")
		checkStatus(t, "https redirect of an absolute-form request", polRaw(t, addr, "GET http://h.test:8080/x/?a=b HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n"), 308, "https://h.test/x/?a=b")
		checkStatus(t, "https redirect, longer path", polGet(t, c, addr, "h.test:8080", "/secure/x/"), 308, "https://h.test/secure/x")
		checkStatus(t, "https redirect with query", polGet(t, c, addr, "h.test", "/secure/x?y=1"), 308, "https://h.test/secure/x?y=1")
		checkStatus(t, "https redirect 301", polGet(t, c, addr, "H.TEST", "/moved"), 301, "https://H.TEST/moved")

		// Body size, declared by Content-Length.
		r, err := polDo(t, c, http.MethodPost, "http://"+addr+"/upload", "h.test", strings.NewReader(strings.Repeat("a", 1025)), 0)
		if err != nil {
			t.Fatalf("POST over the limit: %v", err)
		}
		checkStatus(t, "POST 1025 bytes over a 1024 limit", r, 413, "")
		for _, n := range []int{1024, 100} {
			r, err = polDo(t, c, http.MethodPost, "http://"+addr+"/upload", "h.test", strings.NewReader(strings.Repeat("b", n)), 0)
			if err != nil {
				t.Fatalf("POST %d bytes: %v", n, err)
			}
			checkStatus(t, "POST within the limit", r, 200, "")
			var got echo.Echo
			if err := json.Unmarshal(r.body, &got); err != nil || len(got.Body) != n {
				t.Errorf("POST %d bytes: upstream saw %d bytes (%v)", n, len(got.Body), err)
			}
		}
		// The connection that answered 413 was closed or drained; the
		// next request still works.
		checkStatus(t, "after 413", polGet(t, c, addr, "h.test", "/open"), 200, "")

		// Access lists; the client is 127.0.0.1.
		checkStatus(t, "denied", polGet(t, c, addr, "h.test", "/denied"), 403, "")
		checkStatus(t, "not allowed", polGet(t, c, addr, "h.test", "/not-allowed"), 403, "")
		checkStatus(t, "allowed", polGet(t, c, addr, "h.test", "/allowed"), 200, "")
		checkStatus(t, "open", polGet(t, c, addr, "h.test", "/open"), 200, "")
	})
}

// TestPolicyRouteTimeouts gives two routes of one backend different read
// timeouts; the backend answers after 1.5 s.
func TestPolicyRouteTimeouts(t *testing.T) {
	forPolEngines(t, func(t *testing.T, e polEngine) {
		ep := polBackend(t, "echo")
		addr := polStart(t, e, polModel(ep,
			polRoute("/short", model.Policy{ReadTimeout: 1}),
			polRoute("/long", model.Policy{ReadTimeout: 3}),
		))
		c := polClient(t)
		start := time.Now()
		r := polGet(t, c, addr, "h.test", "/short?sleep=1500ms")
		if r.status != http.StatusGatewayTimeout {
			t.Errorf("ReadTimeout 1 s, backend 1.5 s: status %d, want 504 (body %q)", r.status, r.body)
		}
		if d := time.Since(start); d < 900*time.Millisecond || d > 1400*time.Millisecond {
			t.Errorf("504 after %v, want about 1 s", d)
		}
		r = polGet(t, c, addr, "h.test", "/long?sleep=1500ms")
		if r.status != http.StatusOK {
			t.Errorf("ReadTimeout 3 s, backend 1.5 s: status %d, want 200 (body %q)", r.status, r.body)
		}
	})
}

// TestPolicyChunkedBodyLimit sends a chunked body (no Content-Length) four
// times the route's limit. proxy-body-size's Notes in the registry promise
// that such a body "is cut off and the connection closed"; nginx answers 413.
// Either way, the whole body must not reach the upstream.
func TestPolicyChunkedBodyLimit(t *testing.T) {
	forPolEngines(t, func(t *testing.T, e polEngine) {
		ep := polBackend(t, "echo")
		addr := polStart(t, e, polModel(ep, polRoute("/upload", model.Policy{MaxBodyBytes: 1024})))
		c := polClient(t)
		body := strings.Repeat("c", 4096)
		// A reader of unknown length makes the client send it chunked.
		r, err := polDo(t, c, http.MethodPost, "http://"+addr+"/upload", "h.test", io.MultiReader(strings.NewReader(body)), -1)
		if err != nil {
			t.Logf("chunked body over the limit: connection cut (%v)", err)
			return
		}
		t.Logf("chunked body over the limit: status %d", r.status)
		if r.status == http.StatusOK {
			var got echo.Echo
			_ = json.Unmarshal(r.body, &got)
			t.Errorf("chunked body of %d bytes over a limit of 1024: status 200, upstream received %d bytes; want 413 or the connection cut", len(body), len(got.Body))
		}
	})
}

// TestPolicyNoEndpointsBeforeAccessLists: model.Policy documents the phase
// order "body size, redirect, HTTPS redirect, no endpoints (503), deny and
// allow lists" (ingress-nginx's balancer answers 503 in the rewrite phase,
// before the access phase). A denied client of a backend without endpoints
// therefore gets 503.
func TestPolicyNoEndpointsBeforeAccessLists(t *testing.T) {
	forPolEngines(t, func(t *testing.T, e polEngine) {
		m := &model.Model{
			Hosts: []*model.VirtualHost{{Name: "h.test", Default: model.Action{Status: http.StatusNotFound}, Routes: []model.Route{{
				Name: "empty", PathType: model.PathPrefix, Path: "/", Action: model.Action{Backend: "empty"},
				Policy: model.Policy{DenySourceRange: []string{"127.0.0.0/8"}},
			}}}},
			CatchAll: model.VirtualHost{Name: model.CatchAllHost, Default: model.Action{Status: http.StatusNotFound}},
			Backends: []model.Backend{{Name: "empty", Protocol: model.ProtocolHTTP}},
		}
		addr := polStart(t, e, m)
		r := polGet(t, polClient(t), addr, "h.test", "/")
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("denied client, backend without endpoints: status %d, want 503 (no endpoints comes before the deny list)", r.status)
		}
	})
}
