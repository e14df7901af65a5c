package proxy_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/proxy"
)

// dialWS opens a WebSocket through the proxy with the given Host.
func dialWS(t *testing.T, url, host string) (*websocket.Conn, *http.Response) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: host}}
	hdr := http.Header{"Host": {host}, "Sec-WebSocket-Protocol": {"chat"}}
	ws, resp, err := d.Dial(url, hdr)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s (Host %s): %v (status %d)", url, host, err, status)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws, resp
}

// roundTrip sends msg and expects it back.
func roundTrip(t *testing.T, ws *websocket.Conn, msg string) {
	t.Helper()
	_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, got, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read echo of %q: %v", msg, err)
	}
	if mt != websocket.TextMessage || string(got) != msg {
		t.Fatalf("echo of %q = type %d %q", msg, mt, got)
	}
}

func TestWebSocketEcho(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, singleHost("ws.test", "ws", echoBackend(t, "ws")), true)
		for _, url := range []string{"ws://" + h.addr + "/chat", "wss://" + h.tlsAddr + "/chat"} {
			ws, resp := dialWS(t, url, "ws.test")
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Errorf("%s: handshake status %d", url, resp.StatusCode)
			}
			if got := resp.Header.Get(echo.BackendHeader); got != "ws" {
				t.Errorf("%s: 101 from %q; upstream response headers not relayed", url, got)
			}
			if got := ws.Subprotocol(); got != "chat" {
				t.Errorf("%s: subprotocol %q, want chat", url, got)
			}
			roundTrip(t, ws, "hello")
			big := strings.Repeat("x", 200_000)
			roundTrip(t, ws, big)
			_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := ws.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2, 255}); err != nil {
				t.Fatal(err)
			}
			if mt, got, err := ws.ReadMessage(); err != nil || mt != websocket.BinaryMessage || string(got) != "\x00\x01\x02\xff" {
				t.Errorf("%s: binary echo = %d %q %v", url, mt, got, err)
			}
		}
	})
}

func TestWebSocketUpgradeRefused(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Refused", "yes")
			_, _ = io.WriteString(w, "no websockets here")
		}))
		h := startProxy(t, eng, testTimeouts, singleHost("plain.test", "plain", ep), false)
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		ws, resp, err := d.Dial("ws://"+h.addr+"/", http.Header{"Host": {"plain.test"}})
		if err == nil {
			_ = ws.Close()
			t.Fatal("handshake succeeded against an upstream that refused the upgrade")
		}
		if resp == nil {
			t.Fatalf("no response: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(body) != "no websockets here" || resp.Header.Get("X-Refused") != "yes" {
			t.Errorf("refused upgrade relayed as %d %q (X-Refused %q), want the upstream's 200", resp.StatusCode, body, resp.Header.Get("X-Refused"))
		}
		if n := h.p.Tunnels(); n != 0 {
			t.Errorf("Tunnels() = %d after a refused upgrade", n)
		}
	})
}

func TestWebSocketSurvivesApplyAndCloseTunnels(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		ep := echoBackend(t, "ws")
		base := singleHost("ws.test", "ws", ep)
		h := startProxy(t, eng, testTimeouts, base, false)
		ws, _ := dialWS(t, "ws://"+h.addr+"/", "ws.test")
		roundTrip(t, ws, "before")
		if !waitFor(2*time.Second, func() bool { return h.p.Tunnels() == 1 }) {
			t.Fatalf("Tunnels() = %d, want 1", h.p.Tunnels())
		}

		other := echoBackend(t, "other")
		for i := 0; i < 50; i++ {
			m := base
			if i%2 == 0 {
				// Even a model that drops the tunnel's backend and host
				// leaves the tunnel alone.
				m = singleHost("other.test", "other", other)
			}
			h.p.Apply(m)
			roundTrip(t, ws, fmt.Sprintf("during %d", i))
		}
		h.p.Apply(base)
		roundTrip(t, ws, "after")
		if n := h.p.Tunnels(); n != 1 {
			t.Errorf("Tunnels() = %d after 50 Apply calls, want 1", n)
		}

		done := make(chan struct{})
		go func() { h.p.CloseTunnels(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("CloseTunnels did not return")
		}
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, msg, err := ws.ReadMessage(); err == nil {
			t.Errorf("read after CloseTunnels returned %q, want an error", msg)
		} else if strings.Contains(err.Error(), "timeout") {
			t.Errorf("read after CloseTunnels timed out instead of failing: %v", err)
		}
		if n := h.p.Tunnels(); n != 0 {
			t.Errorf("Tunnels() = %d after CloseTunnels, want 0", n)
		}
	})
}

func TestWebSocketReadTimeout(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, proxy.Timeouts{Read: 300 * time.Millisecond}, singleHost("ws.test", "ws", echoBackend(t, "ws")), false)

		t.Run("active tunnel stays open", func(t *testing.T) {
			// Traffic every 100ms both ways: never idle for 300ms.
			ws, _ := dialWS(t, "ws://"+h.addr+"/", "ws.test")
			start := time.Now()
			for i := 0; i < 12; i++ {
				_ = ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if err := ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprint(i))); err != nil {
					t.Fatalf("message %d after %v: write: %v", i, time.Since(start), err)
				}
				_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
				if _, _, err := ws.ReadMessage(); err != nil {
					t.Fatalf("message %d after %v: read: %v; the tunnel was closed although it was never idle for 300ms", i, time.Since(start), err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
		t.Run("idle tunnel closes", func(t *testing.T) {
			ws, _ := dialWS(t, "ws://"+h.addr+"/", "ws.test")
			roundTrip(t, ws, "hi")
			start := time.Now()
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err := ws.ReadMessage()
			if err == nil || strings.Contains(err.Error(), "timeout") {
				t.Fatalf("idle tunnel: read returned %v, want the proxy to close it", err)
			}
			if d := time.Since(start); d > 2500*time.Millisecond {
				t.Errorf("idle tunnel closed after %v, want about the 300ms read timeout (at most the 1s deadline slack more)", d)
			}
		})
	})
}

// TestWebSocketGoingAway: at shutdown a WebSocket keeps running until
// shortly before the deadline, then the client receives a close frame with
// status 1001 at a frame boundary: every message before it arrives whole,
// whatever the frame sizes.
func TestWebSocketGoingAway(t *testing.T) {
	up := websocket.Upgrader{}
	_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		// Frames of every length encoding: 7-bit, 16-bit and 64-bit.
		sizes := []int{1, 125, 126, 4000, 65535, 65536, 200_000}
		for i := 0; ; i++ {
			msg := strings.Repeat(string(rune('a'+i%26)), sizes[i%len(sizes)])
			if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				return
			}
		}
	}))
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, singleHost("ws.test", "ws", ep), true)
		for _, url := range []string{"ws://" + h.addr + "/", "wss://" + h.tlsAddr + "/"} {
			ws, _ := dialWS(t, url, "ws.test")
			// The 101 reaches the client just before the tunnel is
			// registered.
			if !waitFor(2*time.Second, func() bool { return h.p.Tunnels() == 1 }) {
				t.Fatalf("%s: Tunnels() = %d, want 1", url, h.p.Tunnels())
			}
			var got int
			start := time.Now()
			deadline := start.Add(1500 * time.Millisecond)
			drained := make(chan time.Time, 1)
			go func() { h.p.DrainTunnels(deadline); drained <- time.Now() }()
			var closeErr *websocket.CloseError
			for {
				_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, msg, err := ws.ReadMessage()
				if err != nil {
					if !errors.As(err, &closeErr) {
						t.Fatalf("%s: after %d messages: %v, want a close frame", url, got, err)
					}
					break
				}
				if len(msg) == 0 || strings.Trim(string(msg), string(msg[:1])) != "" {
					t.Fatalf("%s: message %d corrupted", url, got)
				}
				got++
			}
			closedAt := time.Since(start)
			if closeErr.Code != websocket.CloseGoingAway {
				t.Errorf("%s: close code %d, want 1001 (going away)", url, closeErr.Code)
			}
			if got < 10 {
				t.Errorf("%s: %d messages before the close, want the tunnel to run until shortly before the deadline", url, got)
			}
			select {
			case at := <-drained:
				// The client reads the close frame after the messages
				// queued before it, so only the proxy's own time is
				// bounded: the deadline plus scheduling slack.
				t.Logf("%s: %d whole messages, close frame read after %v, DrainTunnels returned after %v", url, got, closedAt.Round(time.Millisecond), at.Sub(start).Round(time.Millisecond))
				if at.After(deadline.Add(time.Second)) {
					t.Errorf("%s: DrainTunnels returned %v after its deadline", url, at.Sub(deadline))
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: DrainTunnels did not return", url)
			}
			if n := h.p.Tunnels(); n != 0 {
				t.Errorf("%s: Tunnels() = %d after DrainTunnels", url, n)
			}
		}
	})
}
