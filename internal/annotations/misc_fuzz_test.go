package annotations

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/accesslog"
)

// FuzzParseLogFormat checks that any format either fails to parse or
// renders a single line, whatever the request's values hold, under every
// escape mode.
//
//	go test ./internal/annotations -run XXX -fuzz FuzzParseLogFormat -fuzztime 20s
func FuzzParseLogFormat(f *testing.F) {
	for _, s := range []string{accesslog.DefaultFormat, `{"a":"$remote_addr","t":${request_time}}`, "$", "${", "${}", "$$", "a$", "$http_", "$http_x_y",
		"$upstream_http_set_cookie", "${http_user_agent}x", "$bogus", "${remote-addr}", "plain text", "\n", "$status\n"} {
		f.Add(s, "agent\n\"x\"\\\x00\xff")
	}
	f.Fuzz(func(t *testing.T, format, value string) {
		got, err := ParseLogFormat(format)
		if err != nil {
			if got != "" {
				t.Errorf("ParseLogFormat(%q) = %q with error %v", format, got, err)
			}
			return
		}
		if got != format {
			t.Errorf("ParseLogFormat(%q) = %q, want the format unchanged", format, got)
		}
		now := time.Unix(1700000000, 0)
		e := &accesslog.Entry{Start: now, End: now, RemoteAddr: value, Method: "GET", URI: value, Proto: "HTTP/1.1", Host: value,
			Authorization: "Basic " + value, Status: 200, ReqID: value, UpstreamAddr: value, Headers: fuzzHeaders(value)}
		for _, esc := range []accesslog.Escape{accesslog.EscapeDefault, accesslog.EscapeJSON, accesslog.EscapeNone} {
			tmpl, err := accesslog.Parse(format, esc)
			if err != nil {
				t.Fatalf("ParseLogFormat accepted %q but Parse(%d) fails: %v", format, esc, err)
			}
			line := string(tmpl.Append(nil, e))
			if !strings.HasSuffix(line, "\n") {
				t.Fatalf("line %q does not end the line", line)
			}
			if esc == accesslog.EscapeNone || strings.Contains(format, "\n") {
				continue
			}
			// Escaped values never break the line.
			if strings.Count(line, "\n") != 1 {
				t.Errorf("format %q escape %d: values broke the line: %q", format, esc, line)
			}
		}
	})
}

type fuzzHeaders string

func (h fuzzHeaders) RequestHeader(string) string  { return string(h) }
func (h fuzzHeaders) ResponseHeader(string) string { return string(h) }

// FuzzParseHeaderBuffers checks large-client-header-buffers: an accepted
// value has a positive number, a size of at least 64 bytes and a product
// within 4m, and re-parses the same when written back in bytes.
//
//	go test ./internal/annotations -run XXX -fuzz FuzzParseHeaderBuffers -fuzztime 20s
func FuzzParseHeaderBuffers(f *testing.F) {
	for _, s := range []string{"4 8k", "8 16k", " 2   1m ", "4", "4 8k 1", "0 8k", "-1 8k", "4 63", "4 64", "1 4m", "2 4m", "4 lots", "9223372036854775807 1g", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hb, err := ParseHeaderBuffers(s)
		if err != nil {
			if hb != (HeaderBuffers{}) {
				t.Errorf("ParseHeaderBuffers(%q) = %+v with error %v", s, hb, err)
			}
			return
		}
		if hb.Number < 1 || hb.Size < 64 || int64(hb.Number)*hb.Size > maxHeaderBuffersTotal {
			t.Fatalf("ParseHeaderBuffers(%q) = %+v, out of bounds", s, hb)
		}
		back, err := ParseHeaderBuffers(strconv.Itoa(hb.Number) + " " + strconv.FormatInt(hb.Size, 10))
		if err != nil || back != hb {
			t.Errorf("ParseHeaderBuffers(%q) = %+v, re-parsed as %+v, %v", s, hb, back, err)
		}
	})
}

// FuzzParseNginxDuration checks nginx times: an accepted value is a
// non-negative number of seconds that re-parses the same when written as
// seconds.
//
//	go test ./internal/annotations -run XXX -fuzz FuzzParseNginxDuration -fuzztime 20s
func FuzzParseNginxDuration(f *testing.F) {
	for _, s := range []string{"1h", "60", "60s", "1m30s", "500ms", "1d", "2h30m", "", "s", "1x", "-1", "1.5h", "999999999d", "1h1h", " 5m "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNginxDuration(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseNginxDuration(%q) = %d", s, n)
		}
		if back, err := ParseNginxDuration(strconv.Itoa(n) + "s"); err != nil || back != n {
			t.Errorf("ParseNginxDuration(%q) = %d, but %ds re-parses as %d, %v", s, n, n, back, err)
		}
	})
}

// FuzzParseMirrorTarget checks mirror-target: an accepted value is an
// http or https URL without characters that could end a value or a
// directive, whose every $ starts a known variable, and which parses as a
// URL once its variables are replaced.
//
//	go test ./internal/annotations -run XXX -fuzz FuzzParseMirrorTarget -fuzztime 20s
func FuzzParseMirrorTarget(f *testing.F) {
	for _, s := range []string{"https://test$request_uri", "http://m.svc:8080/copy", "http://m/$uri?$args", "ftp://x", "http://", "http://a b/",
		"http://m/$remote_addr", "http://m/$request_urix", "http://m/;rm", "http://m/$", "http://user@m/", "http://m/{x}", "http://[::1]:80/$host", "http://:$host", "http://$host:$scheme/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseMirrorTarget(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			t.Fatalf("ParseMirrorTarget(%q) = %q, not http(s)", s, v)
		}
		if strings.ContainsAny(v, " ;{}\"'\n\r\t") {
			t.Fatalf("ParseMirrorTarget(%q) = %q holds a forbidden character", s, v)
		}
		expanded := strings.NewReplacer("$request_uri", "/p?q=1", "$query_string", "q=1", "$uri", "/p", "$args", "q=1", "$host", "h.test", "$scheme", "http").Replace(v)
		if strings.Contains(expanded, "$") {
			t.Fatalf("ParseMirrorTarget(%q) = %q keeps an unknown variable", s, v)
		}
		if u, err := url.Parse(expanded); err != nil || u.Host == "" {
			t.Errorf("ParseMirrorTarget(%q) accepted, but %q is not a URL with a host: %v", s, expanded, err)
		}
	})
}
