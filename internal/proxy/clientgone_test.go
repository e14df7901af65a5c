package proxy_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHalfClosedClientGetsNoMadeUpAnswer: a client that sends its request
// and shuts down its sending side while the upstream is still working
// gets the upstream's answer or a closed connection, never an answer the
// upstream did not give. (net/http treats the half-close as the client
// going away; the handler must then abort rather than return, or net/http
// completes the exchange with an empty 200.)
func TestHalfClosedClientGetsNoMadeUpAnswer(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
			_, _ = io.WriteString(w, "from the backend")
		}))
		h := startProxy(t, e, testTimeouts, singleHost("slow.test", "slow", ep), false)
		c, err := net.DialTimeout("tcp", h.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: slow.test\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("reading the answer: %v", err)
		}
		t.Logf("%s: %q", e, got)
		if len(got) > 0 && !strings.HasSuffix(string(got), "from the backend") {
			t.Fatalf("answer %q is not the backend's", got)
		}
	})
}
