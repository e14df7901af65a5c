package proxy_test

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/plugin"
	"github.com/straitgw/strait/internal/plugin/builtin"
	luaplugin "github.com/straitgw/strait/internal/plugin/lua"
	"github.com/straitgw/strait/internal/proxy"
)

// pluginProxy returns a proxy with the built-in plugins and a Lua
// runtime whose calls may run for budget, logging to the buffer.
func pluginProxy(t testing.TB, budget time.Duration) (*proxy.Proxy, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	reg, err := plugin.NewRegistry(luaplugin.New(luaplugin.Options{Log: log, Budget: budget}), builtin.List()...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Options{Log: log, Plugins: reg})
	if err != nil {
		t.Fatal(err)
	}
	return p, logs
}

func readExample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/plugins/" + name + "/main.lua")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// luaRef is a Lua plugin as translate gives it from a ConfigMap.
func luaRef(name, code string, cfg map[string]string) model.PluginRef {
	return model.PluginRef{Name: name, Config: cfg, Lua: &model.LuaScript{Source: model.ObjectRef{Kind: "ConfigMap", Namespace: "ingress", Name: "strait-plugin-" + name}, Code: code}}
}

func pluginRoute(path string, refs ...model.PluginRef) model.Route {
	r := prefixRoute(path, "default/web:80")
	r.Source = model.ObjectRef{Kind: "Ingress", Namespace: "default", Name: "web"}
	r.Policy.Plugins = refs
	return r
}

// TestPlugins runs Go and Lua plugins on every engine: the examples of
// docs/plugins.md, a failing plugin's 500, and a route without plugins
// next to them.
func TestPlugins(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Echo-Client", r.Header.Get("X-Client-Addr"))
			w.Header().Set("X-Echo-Id", r.Header.Get("X-Request-Id"))
			w.Header().Set("X-Echo-Path", r.URL.RequestURI())
			_, _ = io.WriteString(w, "backend")
		}))
		p, logs := pluginProxy(t, 5*time.Second)
		p.Apply(&model.Model{
			Hosts: []*model.VirtualHost{vhost("shop.test", status(http.StatusNotFound),
				pluginRoute("/", model.PluginRef{Name: "request-id"}, luaRef("add-header", readExample(t, "add-header"), map[string]string{"tag": "edge-1"})),
				pluginRoute("/private", luaRef("token-check", readExample(t, "token-check"), map[string]string{"md5": "5ebe2294ecd0e0f08eab7690d2a6ee69"})),
				pluginRoute("/boom", luaRef("boom", `return { access = function() error("kaput") end }`, nil)),
				pluginRoute("/late", luaRef("late", `return { header_filter = function() local x = nil; return x.y end }`, nil)),
				pluginRoute("/move", luaRef("move", `return { rewrite = function() ngx.req.set_uri("/moved") end }`, nil)),
				pluginRoute("/plain"),
				pluginRoute("/upper", luaRef("upper", `return {
  header_filter = function() ngx.header.content_length = nil end,
  body_filter = function()
    if ngx.arg[2] then ngx.arg[1] = "!" else ngx.arg[1] = string.upper(ngx.arg[1]) end
  end }`, nil)),
			)},
			CatchAll: catchAll404(),
			Backends: []model.Backend{backend("default/web:80", ep)},
			Gzip:     &model.Gzip{Level: 1, Types: []string{"*"}},
		})
		var addr string
		switch e {
		case engineH1:
			addr = serveH1(t, p)
		case engineHandoff:
			proxy.HandOffAll(p)
			addr = serveH1(t, p)
		default:
			addr = serve(t, p, false)
		}
		c := newClient(t)
		get := func(path string, hdr ...string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
			req.Host = "shop.test"
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}

		resp, body := get("/cart")
		if resp.StatusCode != 200 || body != "backend" {
			t.Fatalf("/cart: %d %q", resp.StatusCode, body)
		}
		if resp.Header.Get("X-Echo-Client") != "127.0.0.1" || resp.Header.Get("X-Served-By") != "edge-1" {
			t.Errorf("add-header: upstream saw %q, response tag %q", resp.Header.Get("X-Echo-Client"), resp.Header.Get("X-Served-By"))
		}
		if id := resp.Header.Get("X-Request-Id"); len(id) != 32 || resp.Header.Get("X-Echo-Id") != id {
			t.Errorf("request-id: response %q, upstream %q", id, resp.Header.Get("X-Echo-Id"))
		}
		if resp, _ := get("/cart", "X-Request-ID", "abc"); resp.Header.Get("X-Request-Id") != "abc" || resp.Header.Get("X-Echo-Id") != "abc" {
			t.Errorf("request-id did not keep the client's id: %v", resp.Header)
		}

		if resp, _ := get("/private"); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("token-check without a token: %d %v", resp.StatusCode, resp.Header)
		}
		if resp, _ := get("/private", "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
			t.Errorf("token-check with a wrong token: %d", resp.StatusCode)
		}
		if resp, body := get("/private", "Authorization", "bearer secret"); resp.StatusCode != 200 || body != "backend" {
			t.Errorf("token-check with the token: %d %q", resp.StatusCode, body)
		}

		if resp, body := get("/boom"); resp.StatusCode != 500 || body != "500 Internal Server Error\n" {
			t.Errorf("failing access: %d %q", resp.StatusCode, body)
		}
		if resp, body := get("/late"); resp.StatusCode != 500 || strings.Contains(body, "backend") {
			t.Errorf("failing header_filter: %d %q", resp.StatusCode, body)
		}
		if resp, _ := get("/move?x=1"); resp.Header.Get("X-Echo-Path") != "/moved?x=1" {
			t.Errorf("set_uri: upstream saw %q", resp.Header.Get("X-Echo-Path"))
		}
		// The body filter sees the body uncompressed, before gzip.
		for _, enc := range []string{"", "gzip"} {
			resp, body := get("/upper", "Accept-Encoding", enc)
			if enc == "gzip" {
				if resp.Header.Get("Content-Encoding") != "gzip" {
					t.Errorf("body_filter with gzip: not compressed: %v", resp.Header)
					continue
				}
				zr, err := gzip.NewReader(strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(zr)
				body = string(b)
			}
			if resp.StatusCode != 200 || body != "BACKEND!" {
				t.Errorf("body_filter (Accept-Encoding %q): %d %q", enc, resp.StatusCode, body)
			}
		}
		if resp, body := get("/plain"); resp.StatusCode != 200 || body != "backend" || resp.Header.Get("X-Served-By") != "" {
			t.Errorf("route without plugins: %d %q %v", resp.StatusCode, body, resp.Header)
		}
		for _, want := range []string{`plugin=boom phase=access`, `kaput`, `plugin=late phase=header_filter`} {
			if !strings.Contains(strings.Join(logs.lines(), "\n"), want) {
				t.Errorf("log lacks %q:\n%s", want, strings.Join(logs.lines(), "\n"))
			}
		}
	})
}

// cpuTime is the user and system CPU time the process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPluginOverhead measures a keep-alive GET on a route served by
// the net/http handler, without plugins and with a minimal Lua plugin
// (one request header set in rewrite) or the request-id Go plugin: run
// with
//
//	go test ./internal/proxy -run XXX -bench PluginOverhead -benchmem
func BenchmarkPluginOverhead(b *testing.B) {
	minimal := `return { rewrite = function() ngx.req.set_header("X-Plugin", "1") end }`
	for _, c := range []struct {
		name string
		refs []model.PluginRef
	}{{"none", nil}, {"lua-minimal", []model.PluginRef{luaRef("minimal", minimal, nil)}}, {"go-request-id", []model.PluginRef{{Name: "request-id"}}}} {
		b.Run(c.name, func(b *testing.B) {
			ep := benchBackend(b)
			p, _ := pluginProxy(b, 5*time.Second)
			// Every route through net/http, so that only the plugins
			// differ.
			proxy.HandOffAll(p)
			m := &model.Model{
				Hosts:    []*model.VirtualHost{vhost("shop.test", status(http.StatusNotFound), pluginRoute("/", c.refs...))},
				CatchAll: catchAll404(),
				Backends: []model.Backend{backend("default/web:80", ep)},
			}
			before := cpuTime(b)
			benchH1(b, p, m, "GET /cart HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: bench\r\n\r\n")
			// The process's CPU time: client, proxy and backend together,
			// so the difference between the cases is the plugin's.
			b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
