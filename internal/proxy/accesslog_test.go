package proxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// lockedBuffer is an access-log destination tests can read while the
// proxy writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSuffix(l.b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// startLoggingProxy is startProxy with an access log.
func startLoggingProxy(t *testing.T, e engine, m *model.Model) (string, *proxy.Proxy, *lockedBuffer) {
	t.Helper()
	out := &lockedBuffer{}
	p, err := proxy.New(proxy.Options{Timeouts: testTimeouts, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessLog: out})
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(m)
	if e == engineHandoff {
		proxy.HandOffAll(p)
	}
	if e == engineNetHTTP {
		return serve(t, p, false), p, out
	}
	return serveH1(t, p), p, out
}

func accessLogModel(ep model.Endpoint, al model.AccessLog) *model.Model {
	logged := prefixRoute("/", "default/web:80")
	logged.Source = model.ObjectRef{Kind: "Ingress", Namespace: "default", Name: "shop"}
	quiet := prefixRoute("/quiet", "default/web:80")
	quiet.Policy.AccessLogOff = true
	return &model.Model{
		Hosts:     []*model.VirtualHost{vhost("shop.test", status(http.StatusNotFound), logged, quiet), vhost("other.test", status(http.StatusNotFound))},
		CatchAll:  catchAll404(),
		Backends:  []model.Backend{backend("default/web:80", ep)},
		AccessLog: al,
	}
}

// TestAccessLogDefaultFormat checks ingress-nginx's default line on both
// engines: fields in order, the route's upstream name, the upstream's
// address and status, and that enable-access-log false, the default
// backend and skip-access-log-urls leave no line.
func TestAccessLogDefaultFormat(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "hello")
		}))
		addr, p, out := startLoggingProxy(t, e, accessLogModel(ep, model.AccessLog{SkipURIs: []string{"/healthz"}}))
		c := newClient(t)
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/cart?id=1", nil)
		req.Host = "shop.test"
		req.Header.Set("User-Agent", "agent \"7\"")
		req.Header.Set("Referer", "https://ref.example/")
		req.Header.Set("X-Request-ID", "abc123")
		req.SetBasicAuth("alice", "secret")
		if r := do(t, c, req); r.status != 200 || string(r.body) != "hello" {
			t.Fatalf("GET /cart: %d %q", r.status, r.body)
		}
		for _, path := range []string{"/quiet/x", "/healthz"} {
			if r := get(t, c, "http://"+addr+path, "shop.test"); r.status != 200 {
				t.Fatalf("GET %s: %d", path, r.status)
			}
		}
		if r := get(t, c, "http://"+addr+"/", "other.test"); r.status != 404 {
			t.Fatalf("default backend: %d", r.status)
		}
		_ = p.FlushAccessLog()
		lines := out.lines()
		if len(lines) != 1 {
			t.Fatalf("want exactly one line, got %q", lines)
		}
		re := regexp.MustCompile(`^127\.0\.0\.1 - alice \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /cart\?id=1 HTTP/1\.1" 200 5 "https://ref.example/" "agent \\x227\\x22" \d+ \d+\.\d{3} \[default-web-80\] \[\] ` +
			regexp.QuoteMeta(ep.Host) + `:\d+ 5 \d+\.\d{3} 200 abc123$`)
		if !re.MatchString(lines[0]) {
			t.Errorf("line %q does not match %s", lines[0], re)
		}
	})
}

// TestAccessLogJSON checks a user format with escape=json, header
// variables and the Ingress variables; a request without X-Request-ID is
// logged with the id sent upstream.
func TestAccessLogJSON(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var sentID string
		var mu sync.Mutex
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			sentID = r.Header.Get("X-Request-Id")
			mu.Unlock()
			w.Header().Set("X-Upstream", "u1")
			w.WriteHeader(http.StatusCreated)
		}))
		format := `{"ns":"$namespace","ing":"$ingress_name","svc":"$service_name","port":"$service_port","path":"$location_path",` +
			`"host":"$host","uri":"$uri","args":"$args","method":"$request_method","status":$status,"ua":"$http_user_agent",` +
			`"up":"$upstream_http_x_upstream","id":"$req_id","user":"$remote_user","scheme":"$scheme"}`
		addr, p, out := startLoggingProxy(t, e, accessLogModel(ep, model.AccessLog{Format: format, Escape: model.EscapeJSON}))
		c := newClient(t)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/a/b?x=1", strings.NewReader("body"))
		req.Host = "Shop.test:80"
		req.Header.Set("User-Agent", "a\"b\\c")
		if r := do(t, c, req); r.status != 201 {
			t.Fatalf("POST: %d", r.status)
		}
		_ = p.FlushAccessLog()
		lines := out.lines()
		if len(lines) != 1 {
			t.Fatalf("want one line, got %q", lines)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
			t.Fatalf("line %q is not JSON: %v", lines[0], err)
		}
		mu.Lock()
		id := sentID
		mu.Unlock()
		want := map[string]any{"ns": "default", "ing": "shop", "svc": "web", "port": "80", "path": "/", "host": "shop.test",
			"uri": "/a/b", "args": "x=1", "method": "POST", "status": float64(201), "ua": "a\"b\\c", "up": "u1", "id": id, "user": "", "scheme": "http"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %#v, want %#v (line %s)", k, got[k], v, lines[0])
			}
		}
		if id == "" {
			t.Error("no X-Request-ID sent upstream")
		}
	})
}

// TestAccessLogStatuses checks that answers the proxy gives itself (no
// endpoints, upstream refused) are logged with their status.
func TestAccessLogStatuses(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		m := accessLogModel(closedPort(t), model.AccessLog{Format: "$status $upstream_status $proxy_upstream_name"})
		addr, p, out := startLoggingProxy(t, e, m)
		c := newClient(t)
		if r := get(t, c, "http://"+addr+"/", "shop.test"); r.status != 502 {
			t.Fatalf("refused upstream: %d", r.status)
		}
		_ = p.FlushAccessLog()
		if lines := out.lines(); len(lines) != 1 || lines[0] != "502 - default-web-80" {
			t.Errorf("lines %q, want [\"502 - default-web-80\"]", lines)
		}
	})
}

// TestAccessLogWebSocket: an upgraded connection works through the
// logging wrapper and is logged with 101 once it ends.
func TestAccessLogWebSocket(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		m := accessLogModel(echoBackend(t, "ws"), model.AccessLog{Format: "$status $request_method $request_uri"})
		addr, p, out := startLoggingProxy(t, e, m)
		ws, resp := dialWS(t, "ws://"+addr+"/chat", "shop.test")
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %d", resp.StatusCode)
		}
		roundTrip(t, ws, "hello")
		_ = ws.Close()
		if !waitFor(5*time.Second, func() bool { _ = p.FlushAccessLog(); return len(out.lines()) == 1 }) {
			t.Fatalf("lines %q, want one", out.lines())
		}
		if l := out.lines()[0]; l != "101 GET /chat" {
			t.Errorf("line %q, want \"101 GET /chat\"", l)
		}
	})
}

// TestAccessLogRefused: a head over large-client-header-buffers is
// answered 414 before routing, and logged.
func TestAccessLogRefused(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		addr, p, out := startLoggingProxy(t, e, accessLogModel(echoBackend(t, "a"), model.AccessLog{Format: "$status $proxy_upstream_name"}))
		if r := rawGet(t, addr, "shop.test", "/"+strings.Repeat("a", 9<<10)); r.status != 414 {
			t.Fatalf("9k URI: %d", r.status)
		}
		// The line is written once the answer has gone out: the client
		// may read the answer before it is.
		waitFor(5*time.Second, func() bool { _ = p.FlushAccessLog(); return len(out.lines()) > 0 })
		if lines := out.lines(); len(lines) != 1 || lines[0] != "414 " {
			t.Errorf("lines %q, want [\"414 \"]", lines)
		}
	})
}
