package proxy_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestClientBodyTimeout: a client that stops sending its body for longer
// than client-body-timeout loses the connection, and the backend never
// gets a complete request; a body that keeps coming is not cut.
func TestClientBodyTimeout(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var complete atomic.Int32
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if b, err := io.ReadAll(r.Body); err == nil && len(b) == 10 {
				complete.Add(1)
			}
		}))
		m := singleHost("b.test", "web", ep)
		m.Client.BodyTimeoutSeconds = 1
		h := startProxy(t, e, testTimeouts, m, false)

		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		if _, err := io.WriteString(c, "POST /x HTTP/1.1\r\nHost: b.test\r\nContent-Length: 10\r\n\r\nabc"); err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(c) // until the proxy closes
		if took := time.Since(start); took < 900*time.Millisecond || took > 5*time.Second {
			t.Errorf("stalled body: connection ended after %v, want about 1 s", took)
		}
		if !waitFor(2*time.Second, func() bool { return h.p.LimitHits(proxy.LimitBodyTimeout) == 1 }) {
			t.Errorf("body_timeout counted %d times, want 1", h.p.LimitHits(proxy.LimitBodyTimeout))
		}

		// Ten bytes, one every 300 ms: slower overall than the timeout,
		// but never silent for that long.
		c2, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		_ = c2.SetDeadline(time.Now().Add(15 * time.Second))
		if _, err := io.WriteString(c2, "POST /x HTTP/1.1\r\nHost: b.test\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		for range 10 {
			time.Sleep(300 * time.Millisecond)
			if _, err := io.WriteString(c2, "x"); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := io.ReadAll(c2)
		if !strings.HasPrefix(string(b), "HTTP/1.1 200") || complete.Load() != 1 {
			t.Errorf("trickled body: got %q, complete requests %d; want 200 and one", firstLine(b), complete.Load())
		}
		if n := h.p.LimitHits(proxy.LimitBodyTimeout); n != 1 {
			t.Errorf("after a trickled body, body_timeout counted %d times, want 1", n)
		}
	})
}

// TestClientHeaderTimeout: on the plain-HTTP engine a head must arrive
// within client-header-timeout of its first byte, while an idle
// keep-alive connection waits for keep-alive instead.
func TestClientHeaderTimeout(t *testing.T) {
	t.Parallel()
	m := singleHost("h.test", "web", echoBackend(t, "web"))
	m.Client.HeaderTimeoutSeconds = 1
	h := startProxy(t, engineH1, testTimeouts, m, false)

	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: h.te"); err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(c)
	if took := time.Since(start); took < 900*time.Millisecond || took > 5*time.Second {
		t.Errorf("stalled head: connection ended after %v, want about 1 s", took)
	}
	if n := h.p.LimitHits(proxy.LimitHeaderTimeout); n != 1 {
		t.Errorf("header_timeout counted %d times, want 1", n)
	}

	// A kept-alive connection idle for longer than the header timeout is
	// still open for the next request.
	c2, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_ = c2.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for i := range 2 {
		if i == 1 {
			time.Sleep(1500 * time.Millisecond)
		}
		if _, err := io.WriteString(c2, "GET / HTTP/1.1\r\nHost: h.test\r\n\r\n"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		n, err := c2.Read(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
			t.Fatalf("request %d on a kept-alive connection: %q, %v", i+1, buf[:n], err)
		}
	}
	if n := h.p.LimitHits(proxy.LimitHeaderTimeout); n != 1 {
		t.Errorf("after an idle keep-alive wait, header_timeout counted %d times, want 1", n)
	}
}

// TestBodySizeCounted: proxy-body-size refusals, by Content-Length and of
// a chunked body that grows past the limit, are counted as body_size.
func TestBodySizeCounted(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		r := prefixRoute("/", "web")
		r.Policy.MaxBodyBytes = 10
		m := &model.Model{Hosts: []*model.VirtualHost{vhost("b.test", status(404), r)}, CatchAll: catchAll404(),
			Backends: []model.Backend{backend("web", echoBackend(t, "web"))}}
		h := startProxy(t, e, testTimeouts, m, false)
		if res := raw(t, h.addr, "POST", "POST / HTTP/1.1\r\nHost: b.test\r\nContent-Length: 11\r\nConnection: close\r\n\r\n01234567890"); res.status != 413 {
			t.Errorf("11 bytes over a limit of 10: %d, want 413", res.status)
		}
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: b.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n")
		_, _ = io.ReadAll(c)
		if !waitFor(2*time.Second, func() bool { return h.p.LimitHits(proxy.LimitBodySize) == 2 }) {
			t.Errorf("body_size counted %d times, want 2", h.p.LimitHits(proxy.LimitBodySize))
		}
	})
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\r\n")
	return s
}
