package proxy_test

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestRewriteTarget checks ingress-nginx's rewrite-target and regex-mode
// matching on both plain-HTTP engines: capture groups in the target, the
// query kept, X-Forwarded-Prefix only when a rewrite happened, case-
// insensitive prefix-anchored regex matching tried longest path first, and
// the default backend for paths no regex matches.
func TestRewriteTarget(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		ep := echoBackend(t, "web")
		rw := model.Route{Name: "rw", PathType: model.PathPrefix, Path: "/something(/|$)(.*)", Action: toBackend("web"),
			Policy: model.Policy{Rewrite: &model.Rewrite{Target: "/$2", ForwardedPrefix: "/something"}}}
		plain := model.Route{Name: "plain", PathType: model.PathExact, Path: "/exact", Action: toBackend("web")}
		vh := vhost("regex.test", status(http.StatusNotFound), rw, plain)
		vh.Regex = true
		m := &model.Model{Hosts: []*model.VirtualHost{vh}, CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)}}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)

		cases := []struct {
			path, wantURI, wantPrefix string
			wantStatus                int
		}{
			{"/something/new/x?a=1&b=%2F", "/new/x?a=1&b=%2F", "/something", 200},
			{"/something", "/", "/something", 200},
			{"/SOMETHING/Case", "/Case", "/something", 200},
			// Regex mode: Exact becomes a prefix regex, as in ingress-nginx.
			{"/exact/and/more", "/exact/and/more", "", 200},
			{"/EXACT", "/EXACT", "", 200},
			{"/other", "", "", 404},
		}
		for _, tc := range cases {
			r := get(t, c, h.url(tc.path), "regex.test")
			if r.status != tc.wantStatus {
				t.Errorf("%s: status %d, want %d", tc.path, r.status, tc.wantStatus)
				continue
			}
			if tc.wantStatus != 200 {
				continue
			}
			got := decodeEcho(t, r)
			if got.URI != tc.wantURI {
				t.Errorf("%s: upstream URI %q, want %q", tc.path, got.URI, tc.wantURI)
			}
			if p := first(got.Headers["X-Forwarded-Prefix"]); p != tc.wantPrefix {
				t.Errorf("%s: X-Forwarded-Prefix %q, want %q", tc.path, p, tc.wantPrefix)
			}
		}
	})
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
