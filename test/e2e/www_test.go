package e2e

import (
	"testing"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestFromToWWWRedirect: from-to-www-redirect serves the other name with a
// 308 to <scheme>://<host>:<port><URI minus one trailing slash>, the port
// always written (443 over HTTPS, where the host's certificate covers the
// www name), unless an Ingress serves that name; server-alias names reach
// the host's backend (exact, wildcard and regex names); a malformed alias fails its Ingress closed.
func TestFromToWWWRedirect(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.62.1", "web")
	o := newObjects(t, c, "www")
	o.service("web")
	o.slice("web", "10.244.62.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annTLSSecret(o, "site-tls", "example.test", "www.example.test")
	annIngress(o, "site", "example.test", "/", "web", annMap("from-to-www-redirect", "true", "ssl-redirect", "false"), "site-tls")
	annIngress(o, "blog", "www.blog.test", "/", "web", annMap("from-to-www-redirect", "true"), "")
	annIngress(o, "taken", "taken.test", "/", "web", annMap("from-to-www-redirect", "true"), "")
	annIngress(o, "taken-www", "www.taken.test", "/", "web", nil, "")
	annIngress(o, "api", "api.test", "/", "web", annMap("server-alias", `api-alias.test, *.wild-alias.test, ~^api-v[0-9]+\.test$`), "")
	annIngress(o, "badalias", "bad.test", "/", "web", annMap("server-alias", "bad_name.test"), "")

	s := startStrait(t, c)
	p := port(s.http)
	for _, tc := range []struct {
		host, path     string
		code           int
		location, from string
	}{
		{"www.example.test", "/foo/", 308, "http://example.test:" + p + "/foo", ""},
		{"www.example.test", "/", 308, "http://example.test:" + p, ""},
		{"www.example.test", "/a/b?c=d", 308, "http://example.test:" + p + "/a/b?c=d", ""},
		{"example.test", "/foo", 200, "", "web"},
		{"blog.test", "/post/1/", 308, "http://www.blog.test:" + p + "/post/1", ""},
		{"www.blog.test", "/post/1", 200, "", "web"},
		{"taken.test", "/", 200, "", "web"},
		{"www.taken.test", "/", 200, "", "web"},
		{"api-alias.test", "/x", 200, "", "web"},
		{"one.wild-alias.test", "/x", 200, "", "web"},
		{"api-v2.test", "/x", 200, "", "web"},
		{"api-vx.test", "/x", 404, "", ""},
		{"bad.test", "/", 503, "", ""},
	} {
		r := s.annHTTP("GET", tc.host, tc.path, 0)
		if r.err != nil || r.code != tc.code || r.location != tc.location || r.backend != tc.from {
			t.Errorf("GET http://%s%s: got %v, want %d Location %q from %q", tc.host, tc.path, r, tc.code, tc.location, tc.from)
		}
	}
	r := annDo(s.annHTTPSClient(t), "GET", "https://www.example.test/secure/", "", 0)
	if r.err != nil || r.code != 308 || r.location != "https://example.test:443/secure" {
		t.Errorf("GET https://www.example.test/secure/: got %v, want 308 Location https://example.test:443/secure", r)
	}
	if r.peer == nil || r.peer.VerifyHostname("www.example.test") != nil || r.peer.Subject.CommonName != "example.test" {
		t.Errorf("https://www.example.test: served certificate %v, want the site's", r.peer)
	}
	annWaitWarning(t, c, "www", "taken", "WWWRedirectIgnored", "www.taken.test")
	annWaitWarning(t, c, "www", "badalias", "InvalidAnnotation", "server-alias", "bad_name.test")
	for _, name := range []string{"site", "blog", "api", "taken-www"} {
		if w := annWarnings(c, "www", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}
