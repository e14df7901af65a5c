package proxy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// serveGateway serves p's Gateway API listener port on a new listener and
// returns its address.
func serveGateway(t *testing.T, p *proxy.Proxy) string {
	t.Helper()
	ln, err := proxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.GatewayServer(ln, "", false)
	done := make(chan error, 1)
	go func() { done <- proxy.Serve(srv, ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return ln.Addr().String()
}

// TestGatewayRouting: a Gateway's listener routes requests by hostname and
// rule to their backends, shares them by weight, modifies request
// headers, redirects, and answers 500 for unresolved backends and 404
// where nothing matches.
func TestGatewayRouting(t *testing.T) {
	t.Parallel()
	a, b := echoBackend(t, "a"), echoBackend(t, "b")
	p := limitedProxy(t, proxy.ClientLimits{}, &model.Model{CatchAll: catchAll404()})
	addr := serveGateway(t, p)
	_, ps, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(ps)
	port := int32(n)
	weighted := func(ws ...int32) []model.WeightedAction {
		out := []model.WeightedAction{{Action: model.Action{Backend: "a"}, Weight: ws[0]}}
		if len(ws) > 1 {
			out = append(out, model.WeightedAction{Action: model.Action{Backend: "b"}, Weight: ws[1]})
		}
		return out
	}
	m := &model.Model{
		CatchAll: catchAll404(),
		Backends: []model.Backend{backend("a", a), backend("b", b)},
		Gateways: []model.Gateway{{Name: "infra/gw", Listeners: []model.Listener{{
			Name: "web", Port: port, Hostname: "*.example.com",
			Rules: []model.GatewayRule{
				{Route: "headers", Path: model.PathMatch{Type: "Exact", Value: "/headers"}, Backends: weighted(1),
					RequestHeaders: &model.HeaderChanges{Set: []model.KV{{Name: "X-Set", Value: "s"}}, Add: []model.KV{{Name: "X-Add", Value: "a"}}, Remove: []string{"X-Remove"}}},
				{Route: "redirect", Path: model.PathMatch{Type: "PathPrefix", Value: "/old"},
					Redirect: &model.GatewayRedirect{Scheme: "https", Path: &model.PathModifier{Type: model.ReplacePrefixMatch, Value: "/new"}, Status: 301}},
				{Route: "broken", Path: model.PathMatch{Type: "PathPrefix", Value: "/broken"}, Backends: []model.WeightedAction{{Action: model.Action{Status: 500}, Weight: 1}}},
				{Route: "b-only", Hostnames: []string{"b.example.com"}, Path: model.PathMatch{Type: "PathPrefix", Value: "/"}, Backends: weighted(0, 1)},
				{Route: "split", Path: model.PathMatch{Type: "PathPrefix", Value: "/"}, Backends: weighted(3, 1)},
			},
		}}}},
	}
	p.Apply(m)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	url := "http://" + addr

	counts := map[string]int{}
	for range 400 {
		r := get(t, c, url+"/any", "x.example.com")
		counts[r.header.Get(echo.BackendHeader)]++
	}
	if counts["a"] < 240 || counts["a"] > 360 || counts["a"]+counts["b"] != 400 {
		t.Errorf("weights 3:1 shared 400 requests as %v", counts)
	}
	if r := get(t, c, url+"/any", "b.example.com"); r.header.Get(echo.BackendHeader) != "b" {
		t.Errorf("b.example.com: backend %q, want b (its own hostname's rule)", r.header.Get(echo.BackendHeader))
	}

	req, _ := http.NewRequest(http.MethodGet, url+"/headers", nil)
	req.Host = "h.example.com"
	req.Header.Set("X-Set", "old")
	req.Header.Set("X-Add", "first")
	req.Header.Set("X-Remove", "gone")
	r := do(t, c, req)
	var e echo.Echo
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("/headers: %d %q", r.status, r.body)
	}
	if got := e.Headers["X-Set"]; len(got) != 1 || got[0] != "s" {
		t.Errorf("X-Set upstream %v, want [s]", got)
	}
	if got := e.Headers["X-Add"]; len(got) != 2 || got[1] != "a" {
		t.Errorf("X-Add upstream %v, want [first a]", got)
	}
	if got := e.Headers["X-Remove"]; got != nil {
		t.Errorf("X-Remove upstream %v, want none", got)
	}

	if r := get(t, c, url+"/old/page?q=1", "h.example.com"); r.status != 301 || r.header.Get("Location") != "https://h.example.com/new/page?q=1" {
		t.Errorf("redirect: %d %q", r.status, r.header.Get("Location"))
	}
	if r := get(t, c, url+"/broken", "h.example.com"); r.status != 500 {
		t.Errorf("unresolved backend: %d, want 500", r.status)
	}
	if r := get(t, c, url+"/any", "example.org"); r.status != 404 {
		t.Errorf("host no listener takes: %d, want 404", r.status)
	}
}

// TestGatewayAccessLog: requests on a Gateway listener are logged as on
// the Ingress listeners, those no rule matches included.
func TestGatewayAccessLog(t *testing.T) {
	t.Parallel()
	a := echoBackend(t, "a")
	out := &lockedBuffer{}
	p, err := proxy.New(proxy.Options{Timeouts: testTimeouts, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessLog: out})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveGateway(t, p)
	_, ps, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(ps)
	p.Apply(&model.Model{
		CatchAll: catchAll404(),
		Backends: []model.Backend{backend("a", a)},
		Gateways: []model.Gateway{{Name: "infra/gw", Listeners: []model.Listener{{
			Name: "web", Port: int32(n),
			Rules: []model.GatewayRule{{Route: "HTTPRoute infra/site rule 0 match 0", Path: model.PathMatch{Type: "PathPrefix", Value: "/app"},
				Backends: []model.WeightedAction{{Action: model.Action{Backend: "a"}, Weight: 1}}}},
		}}}},
	})
	c := &http.Client{}
	if r := get(t, c, "http://"+addr+"/app/x", "log.example.com"); r.status != 200 {
		t.Fatalf("/app/x: %d", r.status)
	}
	if r := get(t, c, "http://"+addr+"/nothing", "log.example.com"); r.status != 404 {
		t.Fatalf("/nothing: %d", r.status)
	}
	if err := p.FlushAccessLog(); err != nil {
		t.Fatal(err)
	}
	log := strings.Join(out.lines(), "\n")
	for _, want := range []string{`"GET /app/x HTTP/1.1" 200`, `"GET /nothing HTTP/1.1" 404`} {
		if !strings.Contains(log, want) {
			t.Errorf("access log lacks %q:\n%s", want, log)
		}
	}
}
