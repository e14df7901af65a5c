package proxy_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/proxy"
)

// dialRaw opens a TCP connection to addr, closed when the test ends.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// answered sends a GET on c and reports whether a response head arrives
// within d.
func answered(c net.Conn, d time.Duration) bool {
	if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\nHost: h2.test\r\n\r\n"); err != nil {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "HTTP/1.1 200")
}

// TestMaxConnections: at max-worker-connections a new connection waits to
// be accepted until another closes, counted as "connections"; raising the
// cap takes effect at once. On both engines of the plain listener.
func TestMaxConnections(t *testing.T) {
	t.Parallel()
	for _, h1 := range []bool{true, false} {
		name := map[bool]string{true: "h1", false: "net-http"}[h1]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := h2Model(t)
			m.Client.MaxConnections = 2
			// No pressure sweeps in this test.
			p := limitedProxy(t, proxy.ClientLimits{PressureHeaderTimeout: time.Hour}, m)
			addr := serveLimited(t, p, h1, false)
			a, b := dialRaw(t, addr), dialRaw(t, addr)
			if !answered(a, 5*time.Second) || !answered(b, 5*time.Second) {
				t.Fatal("the first two connections were not served")
			}
			c := dialRaw(t, addr) // the kernel completes the handshake
			if answered(c, 500*time.Millisecond) {
				t.Fatal("a third connection was served over max-worker-connections 2")
			}
			_ = a.Close()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
				t.Fatalf("after a slot freed, the waiting connection got %q, %v", line, err)
			}
			if n := p.LimitHits(proxy.LimitConnections); n < 1 {
				t.Errorf("connections counted %d times, want at least 1", n)
			}
			m.Client.MaxConnections = 10
			p.Apply(m)
			for i := range 5 {
				if !answered(dialRaw(t, addr), 5*time.Second) {
					t.Fatalf("connection %d after raising the cap to 10 was not served", i)
				}
			}
		})
	}
}

// TestPressureSweep: above three quarters of max-worker-connections,
// connections that have not completed a request head within
// --pressure-header-timeout are closed and counted as "slowloris", on the
// plain and TLS listeners; a connection that sent its head stays.
func TestPressureSweep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		h1, tlsOn bool
	}{{"h1", true, false}, {"net-http", false, false}, {"tls", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := h2Model(t)
			m.Client.MaxConnections = 8
			p := limitedProxy(t, proxy.ClientLimits{PressureHeaderTimeout: 300 * time.Millisecond}, m)
			addr := serveLimited(t, p, tc.h1, tc.tlsOn)
			var good net.Conn = dialRaw(t, addr)
			if tc.tlsOn {
				good = tls.Client(good, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
			}
			if !answered(good, 5*time.Second) {
				t.Fatal("the well-behaved connection was not served")
			}
			// Six more, each sending a byte of a head: 7 of 8 open.
			var slow []net.Conn
			for range 6 {
				c := dialRaw(t, addr)
				_, _ = c.Write([]byte("G"))
				slow = append(slow, c)
			}
			for i, c := range slow {
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				start := time.Now()
				if _, err := io.ReadAll(c); err != nil {
					t.Errorf("slow connection %d not closed: %v", i, err)
				} else if took := time.Since(start); i == 0 {
					t.Logf("first slow connection closed after %v", took)
				}
			}
			if n := p.LimitHits(proxy.LimitSlowloris); n != 6 {
				t.Errorf("slowloris counted %d times, want 6", n)
			}
			if !answered(good, 5*time.Second) {
				t.Error("the well-behaved connection was closed by the sweep")
			}
		})
	}
}

// TestClientSendTimeout: a client that stops reading a large response is
// cut after --client-send-timeout, counted as "send_timeout", on the HTTP/1
// engine and on the TLS listener.
func TestClientSendTimeout(t *testing.T) {
	t.Parallel()
	big := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		buf := make([]byte, 64<<10)
		for range 1024 { // 64 MiB, more than socket buffers hold
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	for _, tc := range []struct {
		name      string
		h1, tlsOn bool
	}{{"h1", true, false}, {"tls", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, ep := backendServer(t, big)
			p := limitedProxy(t, proxy.ClientLimits{SendTimeout: 300 * time.Millisecond}, singleHost("h2.test", "big", ep))
			addr := serveLimited(t, p, tc.h1, tc.tlsOn)
			var c net.Conn = dialRaw(t, addr)
			if tc.tlsOn {
				c = tls.Client(c, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
			}
			if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: h2.test\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			// Never read.
			if !waitFor(10*time.Second, func() bool { return p.LimitHits(proxy.LimitSendTimeout) > 0 }) {
				t.Fatal("send_timeout never counted for a client that does not read")
			}
		})
	}
}

// TestEvictAtCap: at max-worker-connections, a new connection does not
// wait for the pressure sweep: the connection that has waited longest for
// its head, a fifth of --pressure-header-timeout or more, makes room.
func TestEvictAtCap(t *testing.T) {
	t.Parallel()
	m := h2Model(t)
	m.Client.MaxConnections = 4
	p := limitedProxy(t, proxy.ClientLimits{PressureHeaderTimeout: 5 * time.Second}, m)
	addr := serveLimited(t, p, true, false)
	var slow []net.Conn
	for range 4 {
		c := dialRaw(t, addr)
		_, _ = c.Write([]byte("G"))
		slow = append(slow, c)
	}
	time.Sleep(1200 * time.Millisecond) // past a fifth of 5 s
	start := time.Now()
	if !answered(dialRaw(t, addr), 3*time.Second) {
		t.Fatal("a new connection at the cap was not served before the pressure sweep")
	}
	t.Logf("new connection at the cap served after %v", time.Since(start))
	if n := p.LimitHits(proxy.LimitSlowloris); n != 1 {
		t.Errorf("slowloris counted %d times, want 1 (one slow connection evicted)", n)
	}
	_ = slow
}
