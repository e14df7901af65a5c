package proxy_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// headerValues returns the values of name in h, whatever the case of the
// keys (the echo backend reports names as the engines sent them).
func headerValues(h map[string][]string, name string) []string {
	var out []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			out = append(out, v...)
		}
	}
	return out
}

// TestGlobalHeaders checks the ConfigMap header keys on every engine:
// proxy-set-headers replace or remove the client's headers upstream,
// add-headers replace or remove the upstream's on every response (the
// proxy's own answers too), hide-headers strip upstream headers,
// server-tokens sends Server: strait, enable-underscores-in-headers passes
// names with "_".
func TestGlobalHeaders(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var mu sync.Mutex
		var seenH http.Header
		seen := func() http.Header { mu.Lock(); defer mu.Unlock(); return seenH }
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seenH = r.Header.Clone()
			mu.Unlock()
			w.Header().Set("X-Powered-By", "php")
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
			w.Header().Set("X-Up", "upstream")
			w.Header().Set("X-Keep", "1")
			w.Header().Set("Server", "backend")
		}))
		m := singleHost("app.test", "web", ep)
		m.Hosts[0].Routes = []model.Route{prefixRoute("/", "web"), exactRoute("/gone", "web")}
		m.Hosts[0].Routes[1].Action = status(http.StatusNotFound)
		m.Headers = model.Headers{
			Upstream: []model.Header{{Name: "X-Custom", Value: "set"}, {Name: "X-Drop", Value: ""},
				{Name: "X-Start", Value: "t=${msec}", Parts: []model.HeaderPart{{Text: "t="}, {Var: model.VarMsec}}},
				{Name: "X-Who", Value: "$scheme://$host $remote_addr", Parts: []model.HeaderPart{{Var: model.VarScheme}, {Text: "://"}, {Var: model.VarHost}, {Text: " "}, {Var: model.VarRemoteAddr}}}},
			Response:     []model.Header{{Name: "X-Frame-Options", Value: "DENY"}, {Name: "X-Up", Value: ""}},
			Hide:         []string{"x-powered-by"},
			ServerTokens: true,
			Underscores:  true,
			InvalidNames: true,
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		req, _ := http.NewRequest(http.MethodGet, h.url("/x"), nil)
		req.Host = "App.Test:80"
		req.Header.Set("X-Custom", "client")
		req.Header.Set("X-Drop", "client")
		req.Header["My_Header"] = []string{"u"}
		req.Header["X.Dotted"] = []string{"d"}
		res := do(t, c, req)
		if res.status != 200 {
			t.Fatalf("status %d", res.status)
		}
		if v := headerValues(seen(), "X-Custom"); len(v) != 1 || v[0] != "set" {
			t.Errorf("upstream X-Custom %q, want only the ConfigMap's", v)
		}
		if v := headerValues(seen(), "X-Who"); len(v) != 1 || v[0] != "http://app.test 127.0.0.1" {
			t.Errorf("upstream X-Who %q, want [http://app.test 127.0.0.1]", v)
		}
		if v := headerValues(seen(), "X-Start"); len(v) != 1 || !regexp.MustCompile(`^t=[0-9]{10,}\.[0-9]{3}$`).MatchString(v[0]) {
			t.Errorf("upstream X-Start %q, want t=<seconds>.<milliseconds>", v)
		}
		if v := headerValues(seen(), "X-Drop"); len(v) != 0 {
			t.Errorf("upstream X-Drop %q, want none (empty value removes)", v)
		}
		if v := headerValues(seen(), "My_Header"); len(v) != 1 || v[0] != "u" {
			t.Errorf("upstream My_Header %q, want passed with underscores enabled", v)
		}
		if v := headerValues(seen(), "X.Dotted"); len(v) != 1 || v[0] != "d" {
			t.Errorf("upstream X.Dotted %q, want passed with ignore-invalid-headers false", v)
		}
		if v := headerValues(seen(), "X-Request-Id"); len(v) != 1 || len(v[0]) != 32 {
			t.Errorf("X-Request-ID %q, want a generated one", v)
		}
		if v := res.header.Values("X-Frame-Options"); len(v) != 1 || v[0] != "DENY" {
			t.Errorf("X-Frame-Options %q, want only DENY", v)
		}
		for _, k := range []string{"X-Up", "X-Powered-By"} {
			if v := res.header.Values(k); len(v) != 0 {
				t.Errorf("%s %q, want removed", k, v)
			}
		}
		if res.header.Get("X-Keep") != "1" || res.header.Get("Server") != "strait" {
			t.Errorf("X-Keep %q, Server %q; want 1, strait", res.header.Get("X-Keep"), res.header.Get("Server"))
		}
		res = get(t, c, h.url("/gone"), "app.test")
		if res.status != 404 || res.header.Get("X-Frame-Options") != "DENY" || res.header.Get("Server") != "strait" {
			t.Errorf("Strait's own 404: %d, X-Frame-Options %q, Server %q", res.status, res.header.Get("X-Frame-Options"), res.header.Get("Server"))
		}
	})
}

// TestGlobalHeaderDefaults checks ingress-nginx's defaults and
// generate-request-id false: names with "_" dropped, no Server header, and
// without generation only the client's X-Request-ID goes upstream.
func TestGlobalHeaderDefaults(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var mu sync.Mutex
		var seenH http.Header
		seen := func() http.Header { mu.Lock(); defer mu.Unlock(); return seenH }
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seenH = r.Header.Clone()
			mu.Unlock()
			w.Header().Set("Server", "backend")
		}))
		m := singleHost("app.test", "web", ep)
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		req, _ := http.NewRequest(http.MethodGet, h.url("/x"), nil)
		req.Host = "app.test"
		req.Header["My_Header"] = []string{"u"}
		res := do(t, c, req)
		if v := headerValues(seen(), "My_Header"); len(v) != 0 {
			t.Errorf("upstream My_Header %q, want dropped by default", v)
		}
		if v := res.header.Values("Server"); len(v) != 0 {
			t.Errorf("Server %q, want none", v)
		}

		m.Headers = model.Headers{NoRequestIDGeneration: true}
		h.p.Apply(m)
		get(t, c, h.url("/x"), "app.test")
		if v := headerValues(seen(), "X-Request-Id"); len(v) != 0 {
			t.Errorf("X-Request-ID %q, want none with generate-request-id false", v)
		}
		req, _ = http.NewRequest(http.MethodGet, h.url("/x"), nil)
		req.Host = "app.test"
		req.Header.Set("X-Request-ID", "abc")
		do(t, c, req)
		if v := headerValues(seen(), "X-Request-Id"); len(v) != 1 || v[0] != "abc" {
			t.Errorf("X-Request-ID %q, want the client's", v)
		}
	})
}

// TestCustomHeaders checks custom-headers on every engine: the route's
// headers replace the upstream's and add-headers' of the same name, an
// empty value removes the header, and other routes keep add-headers.
func TestCustomHeaders(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Frame-Options", "ALLOW")
			w.Header().Set("X-Gone", "upstream")
		}))
		m := singleHost("app.test", "web", ep)
		custom := prefixRoute("/custom", "web")
		custom.Policy.ResponseHeaders = []model.Header{{Name: "X-Frame-Options", Value: "DENY"}, {Name: "X-Gone", Value: ""}}
		m.Hosts[0].Routes = []model.Route{custom, prefixRoute("/", "web")}
		m.Headers = model.Headers{Response: []model.Header{{Name: "X-Frame-Options", Value: "SAMEORIGIN"}, {Name: "X-Global", Value: "1"}}}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		res := get(t, c, h.url("/custom/x"), "app.test")
		if v := res.header.Values("X-Frame-Options"); res.status != 200 || len(v) != 1 || v[0] != "DENY" {
			t.Errorf("custom route: %d, X-Frame-Options %q, want [DENY]", res.status, v)
		}
		if v := res.header.Values("X-Gone"); len(v) != 0 {
			t.Errorf("custom route: X-Gone %q, want removed", v)
		}
		if res.header.Get("X-Global") != "1" {
			t.Errorf("custom route: X-Global %q, want add-headers kept", res.header.Get("X-Global"))
		}
		res = get(t, c, h.url("/other"), "app.test")
		if v := res.header.Values("X-Frame-Options"); len(v) != 1 || v[0] != "SAMEORIGIN" || res.header.Get("X-Gone") != "upstream" {
			t.Errorf("other route: X-Frame-Options %q, X-Gone %q", v, res.header.Get("X-Gone"))
		}
	})
}
