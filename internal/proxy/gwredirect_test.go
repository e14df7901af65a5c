package proxy

import (
	"net/http/httptest"
	"testing"

	"github.com/straitgw/strait/internal/model"
)

// TestGatewayRedirectLocation: the port of a Location is the filter's,
// else the well-known port of the scheme it sets, else the listener's
// (never the Host header's), and is left out when it is the scheme's;
// the host is the filter's or the request's; paths change as asked and
// the query stays.
func TestGatewayRedirectLocation(t *testing.T) {
	http80 := &model.Listener{Port: 80}
	http8080 := &model.Listener{Port: 8080}
	https443 := &model.Listener{Port: 443, TLS: true}
	rd := func(scheme string, port int32) *model.GatewayRedirect {
		return &model.GatewayRedirect{Scheme: scheme, Hostname: "example.org", Port: port, Status: 302}
	}
	prefix := model.PathMatch{Type: "PathPrefix", Value: "/original-prefix"}
	for _, c := range []struct {
		l      *model.Listener
		host   string
		target string
		rd     *model.GatewayRedirect
		want   string
	}{
		{http80, "gw:80", "/p", rd("", 0), "http://example.org/p"},
		{http80, "gw", "/p", rd("", 80), "http://example.org/p"},
		{http80, "gw", "/p", rd("", 8080), "http://example.org:8080/p"},
		{http80, "gw", "/p", rd("https", 0), "https://example.org/p"},
		{http80, "gw", "/p", rd("https", 443), "https://example.org/p"},
		{http80, "gw", "/p", rd("https", 8443), "https://example.org:8443/p"},
		{http8080, "gw:8080", "/p", rd("", 0), "http://example.org:8080/p"},
		{http8080, "gw:8080", "/p", rd("", 80), "http://example.org/p"},
		{http8080, "gw:8080", "/p", rd("https", 0), "https://example.org/p"},
		{https443, "example.org", "/p", rd("", 0), "https://example.org/p"},
		{https443, "example.org", "/p", rd("", 443), "https://example.org/p"},
		{https443, "example.org", "/p", rd("", 8443), "https://example.org:8443/p"},
		{https443, "example.org", "/p", rd("http", 0), "http://example.org/p"},
		{https443, "example.org", "/p", rd("http", 80), "http://example.org/p"},
		{https443, "example.org", "/p", rd("http", 8080), "http://example.org:8080/p"},
		// The request's host, without the port the client wrote.
		{http8080, "a.test:31000", "/p?q=1", &model.GatewayRedirect{Status: 302}, "http://a.test:8080/p?q=1"},
		{http80, "[::1]:80", "/p", &model.GatewayRedirect{Status: 302}, "http://[::1]/p"},
		{http80, "a.test", "/original-prefix/lemon?x=y", &model.GatewayRedirect{Status: 302,
			Path: &model.PathModifier{Type: model.ReplacePrefixMatch, Value: "/replacement-prefix"}}, "http://a.test/replacement-prefix/lemon?x=y"},
		{http80, "a.test", "/original-prefix", &model.GatewayRedirect{Status: 302,
			Path: &model.PathModifier{Type: model.ReplacePrefixMatch, Value: "/replacement-prefix"}}, "http://a.test/replacement-prefix"},
		{http80, "a.test", "/original-prefix/path/original", &model.GatewayRedirect{Status: 302,
			Path: &model.PathModifier{Type: model.ReplaceFullPath, Value: "/full-path-replacement"}}, "http://a.test/full-path-replacement"},
	} {
		r := httptest.NewRequest("GET", c.target, nil)
		r.Host = c.host
		if got := gatewayRedirect(r, c.rd, r.URL.Path, prefix, c.l); got != c.want {
			t.Errorf("listener %d (tls %v), Host %s, %s, redirect %+v: %s, want %s", c.l.Port, c.l.TLS, c.host, c.target, *c.rd, got, c.want)
		}
	}
}
