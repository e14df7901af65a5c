package proxy_test

import (
	"crypto/tls"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/echo"
)

var requestIDShape = regexp.MustCompile(`^[0-9a-f]{32}$`)

// one returns the single value of header k the backend received, failing
// when there are none or several.
func one(t *testing.T, e echo.Echo, k string) string {
	t.Helper()
	v := e.Headers[k]
	if len(v) != 1 {
		t.Errorf("backend got %s = %q, want exactly one value", k, v)
		return ""
	}
	return v[0]
}

func checkHeaders(t *testing.T, e echo.Echo, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got := one(t, e, k); got != w {
			t.Errorf("backend got %s = %q, want %q", k, got, w)
		}
	}
}

func TestUpstreamRequestHeaders(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, singleHost("echo.example.com", "echo", echoBackend(t, "echo")), false)
		port := strconv.Itoa(h.port)

		// Written by hand so that every header, hop-by-hop ones included,
		// reaches the proxy exactly as given.
		r := raw(t, h.addr, http.MethodGet, "GET /h/a%2Fb?a=1&b=%2F&c=x%20y&d=%E2%82%AC&e=a+b&f=&g HTTP/1.1\r\n"+
			"Host: Echo.Example.com:8080\r\n"+
			"Connection: keep-alive, X-Secret, x-other-secret\r\n"+
			"X-Secret: s1\r\n"+
			"X-Other-Secret: s2\r\n"+
			"Keep-Alive: timeout=5\r\n"+
			"TE: trailers\r\n"+
			"Proxy-Connection: keep-alive\r\n"+
			"Proxy: http://evil.example:3128\r\n"+
			"X_Under: u\r\n"+
			"X.Dotted: d\r\n"+
			"My_Header: v\r\n"+
			"X-Forwarded-For: 203.0.113.7, 198.51.100.1\r\n"+
			"X-Real-IP: 203.0.113.7\r\n"+
			"X-Forwarded-Proto: https\r\n"+
			"X-Forwarded-Port: 9999\r\n"+
			"X-Custom: one\r\n"+
			"X-Custom: two\r\n"+
			"User-Agent: test-agent\r\n"+
			"Accept: */*\r\n"+
			"\r\n")
		if r.status != http.StatusOK {
			t.Fatalf("status %d, body %q", r.status, r.body)
		}
		e := decodeEcho(t, r)

		if e.URI != "/h/a%2Fb?a=1&b=%2F&c=x%20y&d=%E2%82%AC&e=a+b&f=&g" {
			t.Errorf("backend got URI %q, want the client's unchanged", e.URI)
		}
		if e.Query != "a=1&b=%2F&c=x%20y&d=%E2%82%AC&e=a+b&f=&g" {
			t.Errorf("backend got query %q", e.Query)
		}
		if e.Host != "Echo.Example.com:8080" {
			t.Errorf("backend got Host %q, want the client's Echo.Example.com:8080", e.Host)
		}
		if e.Proto != "HTTP/1.1" {
			t.Errorf("backend got %s", e.Proto)
		}
		checkHeaders(t, e, map[string]string{
			"X-Real-Ip":                "127.0.0.1",
			"X-Forwarded-For":          "127.0.0.1",
			"X-Original-Forwarded-For": "203.0.113.7, 198.51.100.1",
			"X-Forwarded-Host":         "Echo.Example.com:8080",
			"X-Forwarded-Port":         port,
			"X-Forwarded-Proto":        "http",
			"X-Forwarded-Scheme":       "http",
			"X-Scheme":                 "http",
			"User-Agent":               "test-agent",
			"Accept":                   "*/*",
		})
		if got := e.Headers["X-Custom"]; strings.Join(got, "|") != "one|two" {
			t.Errorf("backend got X-Custom = %q, want [one two]", got)
		}
		if id := one(t, e, "X-Request-Id"); !requestIDShape.MatchString(id) {
			t.Errorf("generated X-Request-ID = %q, want 32 lowercase hex digits", id)
		}
		for _, k := range []string{"Connection", "Keep-Alive", "Te", "Proxy-Connection", "Proxy", "X-Secret", "X-Other-Secret", "Upgrade", "Transfer-Encoding"} {
			if v, ok := e.Headers[k]; ok {
				t.Errorf("hop-by-hop %s passed upstream: %q", k, v)
			}
		}
		for k, v := range e.Headers {
			if strings.ContainsAny(k, "_.") {
				t.Errorf("header with an underscore or dot passed upstream: %s: %q", k, v)
			}
		}
	})
}

func TestLongUnderscoreHeaderDropped(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		// The underscore rule holds whatever the length of the name; the
		// names here are longer than 32 bytes.
		h := startProxy(t, eng, testTimeouts, singleHost("u.test", "echo", echoBackend(t, "echo")), false)
		e := decodeEcho(t, raw(t, h.addr, http.MethodGet, "GET / HTTP/1.1\r\nHost: u.test\r\n"+
			"X_Rather_Long_Header_Name_With_Underscores: v\r\n"+
			"X-Rather-Long-Header-Name-Without-Underscores: kept\r\n"+
			"Connection: close\r\n\r\n"))
		for k, v := range e.Headers {
			if strings.Contains(k, "_") {
				t.Errorf("header with an underscore passed upstream: %s: %q", k, v)
			}
		}
		checkHeaders(t, e, map[string]string{"X-Rather-Long-Header-Name-Without-Underscores": "kept"})
	})
}

func TestRequestIDPassedThrough(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, singleHost("id.test", "echo", echoBackend(t, "echo")), false)
		c := newClient(t)
		req, _ := http.NewRequest(http.MethodGet, h.url("/"), nil)
		req.Host = "id.test"
		req.Header.Set("X-Request-ID", "client-chosen-id-42")
		e := decodeEcho(t, do(t, c, req))
		checkHeaders(t, e, map[string]string{"X-Request-Id": "client-chosen-id-42"})

		// Without one, each request gets a fresh id.
		seen := map[string]bool{}
		for i := 0; i < 20; i++ {
			e := decodeEcho(t, get(t, c, h.url("/"), "id.test"))
			id := one(t, e, "X-Request-Id")
			if !requestIDShape.MatchString(id) || seen[id] {
				t.Fatalf("request %d: X-Request-ID %q, want a new 32-hex-digit id (seen %d)", i, id, len(seen))
			}
			seen[id] = true
		}
	})
}

func TestUpstreamRequestHeadersOverTLS(t *testing.T) {
	t.Parallel()
	h := startProxy(t, engineNetHTTP, testTimeouts, singleHost("tls.example.com", "echo", echoBackend(t, "echo")), true)
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, ServerName: "tls.example.com"},
			ForceAttemptHTTP2: h2,
		}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		c := &http.Client{Transport: tr}
		req, _ := http.NewRequest(http.MethodGet, "https://"+h.tlsAddr+"/p?q=%2F", nil)
		req.Host = "tls.example.com"
		req.Header.Set("X-Forwarded-For", "192.0.2.1")
		r := do(t, c, req)
		tr.CloseIdleConnections()
		if want := map[bool]int{false: 1, true: 2}[h2]; r.status != http.StatusOK || !strings.HasPrefix(r.proto, "HTTP/"+strconv.Itoa(want)) {
			t.Fatalf("h2=%v: status %d over %s", h2, r.status, r.proto)
		}
		e := decodeEcho(t, r)
		checkHeaders(t, e, map[string]string{
			"X-Forwarded-Proto":        "https",
			"X-Forwarded-Scheme":       "https",
			"X-Scheme":                 "https",
			"X-Forwarded-Port":         "443",
			"X-Forwarded-Host":         "tls.example.com",
			"X-Real-Ip":                "127.0.0.1",
			"X-Forwarded-For":          "127.0.0.1",
			"X-Original-Forwarded-For": "192.0.2.1",
		})
		if e.Host != "tls.example.com" || e.URI != "/p?q=%2F" || e.Proto != "HTTP/1.1" {
			t.Errorf("h2=%v: backend got Host %q URI %q over %s", h2, e.Host, e.URI, e.Proto)
		}
		if v, ok := e.Headers["Te"]; ok {
			t.Errorf("h2=%v: TE passed upstream: %q", h2, v)
		}
	}
}

func TestResponseHopByHopHeaders(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		// Hand-written, so that the hop-by-hop headers reach the proxy as
		// given.
		_, ep := startRawBackend(t, 0, 0, "HTTP/1.1 200 OK\r\n"+
			"Content-Length: 2\r\n"+
			"Connection: X-Hop\r\n"+
			"X-Hop: secret\r\n"+
			"Keep-Alive: timeout=5\r\n"+
			"X-Accel-Redirect: /internal\r\n"+
			"X-Kept: yes\r\n"+
			"\r\nok")
		h := startProxy(t, eng, testTimeouts, singleHost("hop.test", "b", ep), false)
		r := get(t, newClient(t), h.url("/"), "hop.test")
		if r.status != http.StatusOK || string(r.body) != "ok" {
			t.Fatalf("got %d %q", r.status, r.body)
		}
		for _, k := range []string{"X-Hop", "Keep-Alive", "X-Accel-Redirect"} {
			if v := r.header.Values(k); len(v) != 0 {
				t.Errorf("response header %s passed to the client: %q", k, v)
			}
		}
		if r.header.Get("X-Kept") != "yes" {
			t.Errorf("X-Kept = %q, want yes", r.header.Get("X-Kept"))
		}
	})
}
