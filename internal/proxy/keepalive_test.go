package proxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// keepAliveConn sends requests on one client connection.
type keepAliveConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAliveConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &keepAliveConn{t: t, c: c, br: bufio.NewReader(c)}
}

// get sends a keep-alive GET and reports whether the response closes the
// connection.
func (k *keepAliveConn) get(host string) (status int, closes bool) {
	k.t.Helper()
	if _, err := io.WriteString(k.c, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		k.t.Fatal(err)
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		k.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Close
}

// closed reports whether the proxy closed the connection within d.
func (k *keepAliveConn) closed(d time.Duration) bool {
	_ = k.c.SetReadDeadline(time.Now().Add(d))
	_, err := k.br.ReadByte()
	return err == io.EOF
}

// TestClientKeepAlive checks keep-alive-requests (the Nth response says
// Connection: close and the connection ends), keep-alive 0 (every
// response closes) and a short keep-alive (an idle connection is closed
// after it), on both engines.
func TestClientKeepAlive(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		m := singleHost("ka.test", "web", echoBackend(t, "a"))
		m.Client = model.Client{KeepAliveRequests: 3}
		h := startProxy(t, e, testTimeouts, m, false)
		k := dialKeepAlive(t, h.addr)
		for i := 1; i <= 3; i++ {
			if st, closes := k.get("ka.test"); st != 200 || closes != (i == 3) {
				t.Errorf("keep-alive-requests 3, request %d: %d, Connection: close %v", i, st, closes)
			}
		}
		if !k.closed(2 * time.Second) {
			t.Error("keep-alive-requests 3: connection still open after the third response")
		}

		m.Client = model.Client{KeepAliveOff: true}
		h.p.Apply(m)
		k = dialKeepAlive(t, h.addr)
		if st, closes := k.get("ka.test"); st != 200 || !closes || !k.closed(2*time.Second) {
			t.Errorf("keep-alive 0: %d, Connection: close %v", st, closes)
		}

		m.Client = model.Client{KeepAliveSeconds: 1}
		h.p.Apply(m)
		k = dialKeepAlive(t, h.addr)
		if st, closes := k.get("ka.test"); st != 200 || closes {
			t.Errorf("keep-alive 1: %d, Connection: close %v", st, closes)
		}
		if k.closed(300 * time.Millisecond) {
			t.Error("keep-alive 1: closed well before 1 s")
		}
		if !k.closed(3 * time.Second) {
			t.Error("keep-alive 1: idle connection still open after 3 s")
		}
	})
}

// TestUpstreamKeepAliveSettings: by default upstream connections are reused;
// upstream-keepalive-connections 0 sends Connection: close and opens one
// connection per request; upstream-keepalive-requests 2 reuses each
// connection for two requests.
func TestUpstreamKeepAliveSettings(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var closeAsked atomic.Int64
		cl, ep := countingBackend(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			if r.Close {
				closeAsked.Add(1)
			}
		}))
		m := singleHost("up.test", "web", ep)
		h := startProxy(t, e, testTimeouts, m, false)
		c := newClient(t)
		run := func(n int) (conns, closes int64) {
			t.Helper()
			a0, c0 := cl.accepted.Load(), closeAsked.Load()
			for i := 0; i < n; i++ {
				if r := get(t, c, h.url("/"), "up.test"); r.status != 200 {
					t.Fatalf("GET: %d", r.status)
				}
			}
			return cl.accepted.Load() - a0, closeAsked.Load() - c0
		}
		if conns, closes := run(4); conns != 1 || closes != 0 {
			t.Errorf("default: %d upstream connections, %d Connection: close; want 1, 0", conns, closes)
		}
		m.Upstream = model.Upstream{KeepAliveOff: true}
		h.p.Apply(m)
		if conns, closes := run(3); conns != 3 || closes != 3 {
			t.Errorf("upstream-keepalive-connections 0: %d connections, %d Connection: close; want 3, 3", conns, closes)
		}
		m.Upstream = model.Upstream{KeepAliveRequests: 2}
		h.p.Apply(m)
		if conns, closes := run(4); conns != 2 || closes != 0 {
			t.Errorf("upstream-keepalive-requests 2: %d connections, %d Connection: close; want 2, 0", conns, closes)
		}
	})
}
