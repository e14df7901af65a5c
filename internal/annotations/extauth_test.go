package annotations

import (
	"reflect"
	"testing"
)

func TestParseURLTemplate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // String() of the result; "" for an error
	}{
		{"http://auth.svc.cluster.local/verify", "http://auth.svc.cluster.local/verify"},
		{" https://auth.example:8443/oauth2/auth ", "https://auth.example:8443/oauth2/auth"},
		{"https://$host/oauth2/auth", "https://${host}/oauth2/auth"},
		{"https://${host}/oauth2/start?rd=$escaped_request_uri", "https://${host}/oauth2/start?rd=${escaped_request_uri}"},
		{"$scheme://$http_host/auth?m=$request_method&a=$args&ip=$remote_addr&u=$request_uri", "${scheme}://${http_host}/auth?m=${request_method}&a=${args}&ip=${remote_addr}&u=${request_uri}"},
		{"http://[::1]:9000/auth", "http://[::1]:9000/auth"},
		{"http://auth.example/a$request_uri", "http://auth.example/a${request_uri}"},
		// Not absolute, not http(s), no host.
		{"/auth", ""},
		{"auth.example/verify", ""},
		{"ftp://auth.example/", ""},
		{"http:///auth", ""},
		{"http://", ""},
		{"", ""},
		// Variables the client could use to move the host, or unknown.
		{"http://x$request_uri", ""},
		{"http://$remote_addr/", ""},
		{"$host://x/", ""},
		{"http://a/$uri", ""},
		{"http://a/$http_authorization", ""},
		{"http://a/${host", ""},
		{"http://a/${ho-st}", ""},
		{"http://a/$", ""},
		{"http://a/${}", ""},
		// Characters nginx configuration or headers would care about.
		{"http://a/\"; return 200", ""},
		{"http://a/x\r\nHost: b", ""},
		{"http://a/{x}", ""},
		{"http://a/x y", ""},
		{"http://user:pw@a/", ""},
		{"http://a/#frag", ""},
	} {
		got, err := ParseURLTemplate(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParseURLTemplate(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("ParseURLTemplate(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestParseHeaderList(t *testing.T) {
	got, err := ParseHeaderList(" x-auth-user, X-Auth-Email ,,x-auth-user,X_Team")
	if want := []string{"X-Auth-User", "X-Auth-Email", "X_team"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseHeaderList = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"", " , ", "X-A,X B", "X-A;X-B", "X:A", "X-Ä"} {
		if got, err := ParseHeaderList(bad); err == nil {
			t.Errorf("ParseHeaderList(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseAuthMethod(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", " POST "} {
		if _, err := parseAuthMethod(m); err != nil {
			t.Errorf("parseAuthMethod(%q): %v", m, err)
		}
	}
	for _, m := range []string{"get", "GETX", "GET;", "XGET", "PROPFIND", ""} {
		if _, err := parseAuthMethod(m); err == nil {
			t.Errorf("parseAuthMethod(%q) accepted", m)
		}
	}
}
