package proxy_test

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
)

// routingModel has one exact host with overlapping routes, a one-label
// wildcard host and a 404 catch-all. Every route goes to its own echo
// backend, named after the route, so the answering backend tells which
// route matched.
func routingModel(t *testing.T) *model.Model {
	t.Helper()
	names := []string{"exact", "exact-prefix", "foo", "foo-bar", "example-default", "wild", "root-only"}
	m := &model.Model{CatchAll: catchAll404()}
	for _, n := range names {
		m.Backends = append(m.Backends, backend(n, echoBackend(t, n)))
	}
	m.Hosts = []*model.VirtualHost{
		vhost("*.example.com", status(http.StatusNotFound), prefixRoute("/", "wild")),
		vhost("example.com", toBackend("example-default"),
			exactRoute("/exact", "exact"),
			prefixRoute("/foo/bar", "foo-bar"),
			prefixRoute("/exact", "exact-prefix"),
			prefixRoute("/foo", "foo"),
		),
		vhost("root.example.org", status(http.StatusNotFound), exactRoute("/", "root-only")),
	}
	return m
}

func TestRoutingHosts(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, routingModel(t), false)
		c := newClient(t)
		for _, tc := range []struct {
			host, want string // want "" means the catch-all 404
		}{
			{"example.com", "example-default"},
			{"EXAMPLE.com", "example-default"},
			{"Example.COM:8080", "example-default"},
			{"example.com:80", "example-default"},
			{"a.example.com", "wild"},
			{"A.Example.Com", "wild"},
			{"a.example.com:8443", "wild"},
			{"xn--bcher-kva.example.com", "wild"},
			{"a.b.example.com", ""},
			{"xexample.com", ""},
			{"example.com.evil.test", ""},
			{"unknown.test", ""},
			{"127.0.0.1", ""},
		} {
			r := get(t, c, h.url("/"), tc.host)
			if tc.want == "" {
				checkPlainError(t, "Host "+tc.host, r, http.StatusNotFound)
				continue
			}
			if r.status != http.StatusOK {
				t.Errorf("Host %s: status = %d, want 200 from %s", tc.host, r.status, tc.want)
				continue
			}
			if got := r.header.Get(echo.BackendHeader); got != tc.want {
				t.Errorf("Host %s: answered by %q, want %q", tc.host, got, tc.want)
			}
		}
	})
}

func TestRoutingPaths(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, routingModel(t), false)
		for _, tc := range []struct {
			target, want string
		}{
			// Exact before Prefix.
			{"/exact", "exact"},
			{"/exact/", "exact-prefix"},
			{"/exact/x", "exact-prefix"},
			{"/exact?q=1", "exact"},
			// Element-wise prefixes.
			{"/foo", "foo"},
			{"/foo/", "foo"},
			{"/foo/baz", "foo"},
			{"/foo/barn", "foo"},
			{"/foobar", "example-default"},
			{"/fo", "example-default"},
			// The longer prefix wins.
			{"/foo/bar", "foo-bar"},
			{"/foo/bar/", "foo-bar"},
			{"/foo/bar/baz/qux", "foo-bar"},
			// The host's default for unmatched paths.
			{"/", "example-default"},
			{"/other", "example-default"},
			// Normalised before matching.
			{"//foo/./bar", "foo-bar"},
			{"/foo//bar", "foo-bar"},
			{"/x/../foo/bar/", "foo-bar"},
			{"/foo/bar/../baz", "foo"},
			{"/%66oo/bar", "foo-bar"},
			{"/.//exact", "exact"},
		} {
			r := rawGet(t, h.addr, "example.com", tc.target)
			if r.status != http.StatusOK {
				t.Errorf("GET %s: status = %d, want 200 from %s", tc.target, r.status, tc.want)
				continue
			}
			if got := r.header.Get(echo.BackendHeader); got != tc.want {
				t.Errorf("GET %s: answered by %q, want %q", tc.target, got, tc.want)
			}
		}
	})
}

func TestRoutingRootExactAndHostDefaultStatus(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, routingModel(t), false)
		if r := rawGet(t, h.addr, "root.example.org", "/"); r.header.Get(echo.BackendHeader) != "root-only" {
			t.Errorf("GET / on root.example.org: status %d from %q, want root-only", r.status, r.header.Get(echo.BackendHeader))
		}
		// The host's default is a direct 404 for any other path.
		checkPlainError(t, "GET /x on root.example.org", rawGet(t, h.addr, "root.example.org", "/x"), http.StatusNotFound)
	})
}

func TestCatchAllNotFound(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		// A fresh proxy serves 404 for everything until the first Apply.
		h := startProxy(t, eng, testTimeouts, nil, false)
		c := newClient(t)
		r := get(t, c, h.url("/anything"), "nobody.test")
		checkPlainError(t, "empty proxy", r, http.StatusNotFound)
		if string(r.body) != "404 Not Found\n" {
			t.Errorf("body = %q, want %q", r.body, "404 Not Found\n")
		}

		// A catch-all with a default backend takes unknown hosts.
		h.p.Apply(&model.Model{
			Hosts:    []*model.VirtualHost{vhost("known.test", status(http.StatusNotFound))},
			CatchAll: *vhost(model.CatchAllHost, toBackend("default"), prefixRoute("/only", "only")),
			Backends: []model.Backend{backend("default", echoBackend(t, "default")), backend("only", echoBackend(t, "only"))},
		})
		if got := get(t, c, h.url("/x"), "nobody.test").header.Get(echo.BackendHeader); got != "default" {
			t.Errorf("unknown host: answered by %q, want the catch-all default", got)
		}
		if got := get(t, c, h.url("/only/x"), "nobody.test").header.Get(echo.BackendHeader); got != "only" {
			t.Errorf("unknown host /only/x: answered by %q, want the catch-all route", got)
		}
		// A known host never falls through to the catch-all.
		checkPlainError(t, "known host", get(t, c, h.url("/only/x"), "known.test"), http.StatusNotFound)
	})
}
