package proxy_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestMalformedRequestBodies: chunked bodies with malformed framing are
// answered 400 on every engine, and the backend never completes reading
// such a request; path tricks reach the backend as the normalised path
// the route was matched by.
func TestMalformedRequestBodies(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var served atomic.Int64
		var lastURI atomic.Value
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				http.Error(w, "body", http.StatusTeapot)
				return
			}
			served.Add(1)
			lastURI.Store(r.RequestURI)
		}))
		h := startProxy(t, e, testTimeouts, singleHost("m.test", "b", ep), false)
		head := "POST /x HTTP/1.1\r\nHost: m.test\r\nTransfer-Encoding: chunked\r\n\r\n"
		for _, body := range []string{
			"10000000000000005\r\nhello\r\n0\r\n\r\n",   // 17 hex digits
			"5x\r\nhello\r\n0\r\n\r\n",                  // garbage after the size
			"5;a=\x01\r\nhello\r\n0\r\n\r\n",            // control character in an extension
			"3\r\nhello\r\n0\r\n\r\n",                   // data longer than its size
			"5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n", // invalid trailer
		} {
			r := raw(t, h.addr, http.MethodPost, head+body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%q: status %d, want 400", body, r.status)
			}
		}
		if n := served.Load(); n != 0 {
			t.Errorf("the backend served %d malformed requests", n)
		}
		for target, want := range map[string]string{
			"/a/../b?q":      "/b?q",
			"/a/%2e%2e/b":    "/b",
			"/a%2F..%2Fb":    "/b",
			"//a//b":         "/a/b",
			"/a%2Fb":         "/a%2Fb",
			"/a/./b/":        "/a/b/",
			"/plain?x=/../y": "/plain?x=/../y",
		} {
			r := rawGet(t, h.addr, "m.test", target)
			if got, _ := lastURI.Load().(string); r.status != 200 || got != want {
				t.Errorf("%s: status %d, backend saw %q, want %q", target, r.status, got, want)
			}
		}
		for _, target := range []string{"/../a", "/a/%00", "/a/%zz", "*", "ftp://m.test/a", "http://m..test/a"} {
			if r := rawGet(t, h.addr, "m.test", target); r.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", target, r.status)
			}
		}
	})
}

// TestTLSFramingMatchesEngine: over TLS, net/http reads HTTP/1 requests
// through the engine's parser, so Content-Length with Transfer-Encoding
// is refused instead of framed by the coding, and a request hidden behind
// it never reaches the backend; HTTP/2 still works.
func TestTLSFramingMatchesEngine(t *testing.T) {
	var served atomic.Int64
	_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
	}))
	h := startProxy(t, engineH1, testTimeouts, singleHost("m.test", "b", ep), true)
	c, err := tls.Dial("tcp", h.tlsAddr, &tls.Config{ServerName: "m.test", InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec // test certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "POST /x HTTP/1.1\r\nHost: m.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: m.test\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || served.Load() != 0 {
		t.Errorf("status %d, backend served %d requests; want 400 and none", resp.StatusCode, served.Load())
	}
	if st := handshake(t, h.tlsAddr, "m.test", "h2"); st.NegotiatedProtocol != "h2" {
		t.Errorf("ALPN %q, want h2", st.NegotiatedProtocol)
	}
}
