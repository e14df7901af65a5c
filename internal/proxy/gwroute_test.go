package proxy

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
)

// TestGatewayMatching: the listener of the most specific hostname takes a
// request, then the most specific route hostname within it, and its first
// matching rule wins; path prefixes match whole segments; methods,
// headers (case-insensitive names) and query parameters narrow rules.
func TestGatewayMatching(t *testing.T) {
	rule := func(name string, hosts []string, path model.PathMatch) model.GatewayRule {
		return model.GatewayRule{Route: name, Hostnames: hosts, Path: path}
	}
	prefix := func(v string) model.PathMatch { return model.PathMatch{Type: "PathPrefix", Value: v} }
	d := rule("D", []string{"a.example.com"}, prefix("/"))
	d.Method = "POST"
	d.Headers = []model.ValueMatch{{Name: "x-v", Value: "2"}}
	d.Query = []model.ValueMatch{{Name: "debug", Type: "RegularExpression", Value: "^1$"}}
	any := &model.Listener{Name: "any", Port: 80, Rules: []model.GatewayRule{
		rule("A", []string{"a.example.com"}, model.PathMatch{Type: "Exact", Value: "/exact"}),
		d,
		rule("bad-regex", []string{"a.example.com"}, model.PathMatch{Type: "RegularExpression", Value: "("}),
		rule("B", []string{"*.example.com"}, prefix("/api/")),
		rule("R", []string{"*.example.com"}, model.PathMatch{Type: "RegularExpression", Value: "/re/[0-9]+"}),
		rule("C", nil, prefix("/")),
	}}
	wild := &model.Listener{Name: "wild", Port: 80, Hostname: "*.wild.test", Rules: []model.GatewayRule{rule("E", nil, prefix("/w"))}}
	exact := &model.Listener{Name: "exact", Port: 80, Hostname: "exact.wild.test", Rules: []model.GatewayRule{rule("F", nil, prefix("/"))}}
	p := compileGatewayPort([]*model.Listener{any, wild, exact}, nil, nil, Timeouts{}, nil)

	cases := []struct {
		host, method, path, query string
		header                    http.Header
		want                      string // rule, "" for none
		listener                  string
	}{
		{"a.example.com", "GET", "/exact", "", nil, "A", "any"},
		{"A.Example.COM:8080", "GET", "/exact", "", nil, "A", "any"},
		// a.example.com has rules of its own: *.example.com's and the
		// listener-wide ones do not apply to it.
		{"a.example.com", "GET", "/api/x", "", nil, "", "any"},
		{"a.example.com", "POST", "/x", "debug=1", http.Header{"X-V": {"2"}}, "D", "any"},
		{"a.example.com", "POST", "/x", "debug=12", http.Header{"X-V": {"2"}}, "", "any"},
		{"a.example.com", "POST", "/x", "debug=1", http.Header{"X-V": {"3"}}, "", "any"},
		{"a.example.com", "GET", "/x", "debug=1", http.Header{"X-V": {"2"}}, "", "any"},
		{"b.example.com", "GET", "/api", "", nil, "B", "any"},
		{"b.example.com", "GET", "/api/x", "", nil, "B", "any"},
		{"b.example.com", "GET", "/apix", "", nil, "", "any"},
		{"deep.b.example.com", "GET", "/re/42", "", nil, "R", "any"},
		{"b.example.com", "GET", "/re/42x", "", nil, "", "any"},
		{"other.test", "GET", "/anything", "", nil, "C", "any"},
		{"example.com", "GET", "/api", "", nil, "C", "any"},
		{"x.wild.test", "GET", "/w/1", "", nil, "E", "wild"},
		{"x.wild.test", "GET", "/wx", "", nil, "", "wild"},
		{"exact.wild.test", "GET", "/w", "", nil, "F", "exact"},
	}
	for _, c := range cases {
		r, l := p.match(c.host, c.path, c.method, c.header, c.query)
		got, gotL := "", ""
		if r != nil {
			got = r.r.Route
		}
		if l != nil {
			gotL = l.Name
		}
		if got != c.want || gotL != c.listener {
			t.Errorf("%s %s%s?%s %v: rule %q on listener %q, want %q on %q", c.method, c.host, c.path, c.query, c.header, got, gotL, c.want, c.listener)
		}
	}
}

// TestGatewayPrefixSegments: a prefix matches whole path segments, with
// or without its trailing slash.
func TestGatewayPrefixSegments(t *testing.T) {
	for _, c := range []struct {
		prefix, path string
		want         bool
	}{
		{"/abc", "/abc", true}, {"/abc", "/abc/", true}, {"/abc", "/abc/def", true}, {"/abc", "/abcd", false},
		{"/abc/", "/abc", true}, {"/abc/", "/abc/def", true}, {"/abc/", "/abcd", false},
		{"/", "/anything", true}, {"/", "/", true},
	} {
		if got := prefixMatcher(c.prefix)(c.path); got != c.want {
			t.Errorf("prefix %q, path %q: %v, want %v", c.prefix, c.path, got, c.want)
		}
	}
}
