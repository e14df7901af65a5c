package annotations

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Run one at a time, e.g.
//
//	go test ./internal/annotations -run XXX -fuzz FuzzParseURLTemplate -fuzztime 30s

func FuzzParseURLTemplate(f *testing.F) {
	for _, s := range []string{"http://auth/verify", "https://$host/oauth2/auth", "https://${host}/start?rd=$escaped_request_uri",
		"$scheme://$http_host/a?u=$request_uri&m=$request_method&a=$args&ip=$remote_addr", "http://[::1]:1/", "http://x$request_uri",
		"/rel", "http://a/${host", "http://a/$", "http://user@a/", "ftp://a/", "http://a/\r\n", "http://$host.svc/", "HTTP://A/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tpl, err := ParseURLTemplate(s)
		if err != nil {
			if tpl.Parts != nil {
				t.Errorf("ParseURLTemplate(%q) = %v with error %v", s, tpl, err)
			}
			return
		}
		// Canonical form round-trips.
		again, err := ParseURLTemplate(tpl.String())
		if err != nil || again.String() != tpl.String() {
			t.Fatalf("ParseURLTemplate(%q) = %q, which re-parses as %q, %v", s, tpl, again, err)
		}
		for _, p := range tpl.Parts {
			if (p.Var == "") == (p.Text == "") {
				t.Fatalf("ParseURLTemplate(%q): part %#v must be text or variable", s, p)
			}
		}
		// Whatever hostile values the client controls, the expansion is
		// an absolute http(s) URL without user information whose host
		// comes only from the template or the Host header.
		for _, hostile := range []string{"/@evil.example/", "evil.example#", "?x", "%2F", "a b"} {
			out := tpl.Expand(func(v TemplateVar) string {
				switch v {
				case VarScheme:
					return "http"
				case VarHost, VarHTTPHost:
					return "h.example"
				}
				return hostile
			})
			if strings.ContainsAny(out, "\r\n") {
				t.Fatalf("ParseURLTemplate(%q) expands to %q", s, out)
			}
			u, err := url.Parse(out)
			if err != nil {
				continue // the proxy answers 500 for it
			}
			if u.User != nil || strings.Contains(u.Host, "evil") {
				t.Errorf("ParseURLTemplate(%q): client value %q moves the URL to %q", s, hostile, out)
			}
		}
	})
}

func FuzzParseHeaderList(f *testing.F) {
	for _, s := range []string{"X-Auth-User", "x-a, x-b ,,x-a", "X_Team", "", ",", "X A", "X:A", "a,b;c", "Ä"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hs, err := ParseHeaderList(s)
		if err != nil {
			if hs != nil {
				t.Errorf("ParseHeaderList(%q) = %q with error %v", s, hs, err)
			}
			return
		}
		if len(hs) == 0 {
			t.Fatalf("ParseHeaderList(%q) = no names and no error", s)
		}
		seen := map[string]bool{}
		for _, h := range hs {
			if h == "" || h != http.CanonicalHeaderKey(h) || seen[h] {
				t.Errorf("ParseHeaderList(%q): name %q is empty, not canonical or repeated", s, h)
			}
			seen[h] = true
			for _, c := range h {
				if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
					t.Fatalf("ParseHeaderList(%q): name %q contains %q", s, h, c)
				}
			}
		}
		again, err := ParseHeaderList(strings.Join(hs, ","))
		if err != nil || strings.Join(again, ",") != strings.Join(hs, ",") {
			t.Errorf("ParseHeaderList(%q) = %q, which re-parses as %q, %v", s, hs, again, err)
		}
	})
}
