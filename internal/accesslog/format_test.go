package accesslog

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		format string
		err    string
	}{
		{DefaultFormat, ""},
		{`${remote_addr}x $http_x_forwarded_for $upstream_http_content_type`, ""},
		{"$bogus", "unknown variable $bogus"},
		{"a $ b", "$ without a variable name"},
		{"${remote_addr", "unterminated ${"},
		{"${remote-addr}", `invalid variable name "remote-addr"`},
		{"$http_", "unknown variable $http_"},
		{"  ", "empty format"},
	} {
		_, err := Parse(tc.format, EscapeDefault)
		if got := ""; err != nil {
			got = err.Error()
			if got != tc.err {
				t.Errorf("Parse(%q) = %q, want %q", tc.format, got, tc.err)
			}
		} else if tc.err != "" {
			t.Errorf("Parse(%q) succeeded, want %q", tc.format, tc.err)
		}
	}
}

type headers map[string]string

func (h headers) RequestHeader(n string) string  { return h[n] }
func (h headers) ResponseHeader(n string) string { return h["up:"+n] }

func TestAppend(t *testing.T) {
	start := time.Date(2026, 11, 29, 2, 12, 9, 0, time.UTC)
	e := &Entry{
		Start: start, End: start.Add(1234 * time.Millisecond), RemoteAddr: "10.0.0.1", Method: "GET", URI: "/a?b=c", Proto: "HTTP/1.1",
		Host: "Shop.Test:8080", Scheme: "https", Authorization: "Basic YWxpY2U6cHc=", Status: 200, BodyBytes: 5, HeadBytes: 100,
		RequestLength: 77, Route: &Route{UpstreamName: "ns-svc-80", Namespace: "ns", IngressName: "ing", ServiceName: "svc", ServicePort: "80", LocationPath: "/"},
		UpstreamAddr: "10.1.1.1:8080", UpstreamStatus: 201, UpstreamLength: 5, UpstreamTime: 7 * time.Millisecond, ReqID: "id1",
		Headers: headers{"User-Agent": "ua \"q\"\n", "up:Content-Type": "text/plain"},
	}
	for _, tc := range []struct {
		format string
		esc    Escape
		want   string
	}{
		{DefaultFormat, EscapeDefault, `10.0.0.1 - alice [29/Nov/2026:02:12:10 +0000] "GET /a?b=c HTTP/1.1" 200 5 "-" "ua \x22q\x22\x0A" 77 1.234 [ns-svc-80] [] 10.1.1.1:8080 5 0.007 201 id1`},
		{`{"ua":"$http_user_agent","ref":"$http_referer","t":"$time_iso8601","ms":$msec}`, EscapeJSON, `{"ua":"ua \"q\"\n","ref":"","t":"2026-11-29T02:12:10+00:00","ms":1795918330.234}`},
		{`$host $scheme $uri $args $request_uri $bytes_sent $upstream_http_content_type $namespace/$ingress_name/$service_name:$service_port$location_path`, EscapeNone,
			`shop.test https /a b=c /a?b=c 105 text/plain ns/ing/svc:80/`},
	} {
		tmpl, err := Parse(tc.format, tc.esc)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(tmpl.Append(nil, e)); got != tc.want+"\n" {
			t.Errorf("%s:\n got %s\nwant %s", tc.format, got, tc.want)
		}
	}
	// A request that matched no route and reached no upstream.
	tmpl, _ := Parse(DefaultFormat, EscapeDefault)
	bare := &Entry{Start: start, End: start, RemoteAddr: "10.0.0.1", Method: "GET", URI: "/", Proto: "HTTP/1.0", Status: 404, ReqID: "x"}
	want := `10.0.0.1 - - [29/Nov/2026:02:12:09 +0000] "GET / HTTP/1.0" 404 0 "-" "-" 0 0.000 [] [] - - - - x` + "\n"
	if got := string(tmpl.Append(nil, bare)); got != want {
		t.Errorf("bare entry:\n got %s\nwant %s", got, want)
	}
}

// TestAppendAllocs: rendering into a buffer with room allocates nothing,
// which keeps the HTTP/1 engine's per-request cost flat.
func TestAppendAllocs(t *testing.T) {
	tmpl, _ := Parse(DefaultFormat+` $http_x_a $host`, EscapeDefault)
	now := time.Now()
	e := &Entry{Start: now, End: now, RemoteAddr: "10.0.0.1", Method: "GET", URI: "/", Proto: "HTTP/1.1", Host: "h", Authorization: "Basic YWxpY2U6cHc=",
		Status: 200, Route: &Route{UpstreamName: "a-b-80"}, UpstreamAddr: "1.2.3.4:80", ReqID: "id", Headers: headers{"X-A": "v"}}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = tmpl.Append(buf[:0], e) }); n != 0 {
		t.Errorf("Append allocates %v times per line", n)
	}
	if !strings.Contains(string(buf), "alice") {
		t.Errorf("line %q", buf)
	}
}

// BenchmarkAppend measures rendering one default-format line.
func BenchmarkAppend(b *testing.B) {
	tmpl, _ := Parse(DefaultFormat, EscapeDefault)
	now := time.Now()
	e := &Entry{Start: now, End: now, RemoteAddr: "10.0.0.1", Method: "GET", URI: "/cart?id=1", Proto: "HTTP/1.1", Host: "shop.test",
		Status: 200, BodyBytes: 512, RequestLength: 300, Route: &Route{ServiceNamespace: "default", ServiceName: "web", ServicePort: "80"},
		UpstreamAddr: "10.1.1.1:8080", UpstreamStatus: 200, UpstreamLength: 512, ReqID: "0123456789abcdef0123456789abcdef",
		Headers: headers{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)", "Referer": "https://shop.test/"}}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = tmpl.Append(buf[:0], e)
	}
}

// BenchmarkWriter measures queueing one line from parallel connections.
func BenchmarkWriter(b *testing.B) {
	w := NewWriter(io.Discard)
	line := []byte(strings.Repeat("x", 200) + "\n")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.WriteLine(line)
		}
	})
}
