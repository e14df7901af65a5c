package proxy_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/proxy"
)

// TestProxyProtocol checks use-proxy-protocol on every engine: the client
// address sent upstream (X-Real-IP, X-Forwarded-For) is the one a v1 or v2
// header names; a connection without a header gets no answer; with the
// key off, a header is not understood.
func TestProxyProtocol(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		m := singleHost("pp.test", "web", echoBackend(t, "a"))
		m.ProxyProtocol = true
		p, err := proxy.New(proxy.Options{Timeouts: testTimeouts, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		p.Apply(m)
		if e == engineHandoff {
			proxy.HandOffAll(p)
		}
		raw, err := proxy.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln := p.ProxyProtocolListener(raw)
		if e == engineNetHTTP {
			srv := p.Server(ln, false)
			go func() { _ = proxy.Serve(srv, ln) }()
			t.Cleanup(func() { _ = srv.Close() })
		} else {
			srv := p.H1Server(ln)
			go func() { _ = srv.Serve() }()
			t.Cleanup(func() { _ = srv.Close() })
		}
		addr := ln.Addr().String()
		send := func(header []byte) (int, http.Header, error) {
			t.Helper()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write(append(header, "GET / HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n"...))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			r := result{status: resp.StatusCode}
			r.body, _ = io.ReadAll(resp.Body)
			ec := decodeEcho(t, r)
			return resp.StatusCode, ec.Headers, nil
		}
		st, h, err := send([]byte("PROXY TCP4 203.0.113.7 10.0.0.1 51000 80\r\n"))
		if err != nil || st != 200 || h.Get("X-Real-Ip") != "203.0.113.7" || h.Get("X-Forwarded-For") != "203.0.113.7" {
			t.Errorf("v1: %d %v, X-Real-IP %q, X-Forwarded-For %q", st, err, h.Get("X-Real-Ip"), h.Get("X-Forwarded-For"))
		}
		v2 := append([]byte("\r\n\r\n\x00\r\nQUIT\n"), 0x21, 0x11, 0, 12, 198, 51, 100, 9, 10, 0, 0, 1)
		v2 = binary.BigEndian.AppendUint16(v2, 40000)
		v2 = binary.BigEndian.AppendUint16(v2, 80)
		st, h, err = send(v2)
		if err != nil || st != 200 || h.Get("X-Real-Ip") != "198.51.100.9" {
			t.Errorf("v2: %d %v, X-Real-IP %q", st, err, h.Get("X-Real-Ip"))
		}
		if st, _, err := send(nil); err == nil {
			t.Errorf("no header: answered %d", st)
		}
		m.ProxyProtocol = false
		p.Apply(m)
		if st, h, err := send(nil); err != nil || st != 200 || h.Get("X-Real-Ip") != "127.0.0.1" {
			t.Errorf("off: %d %v, X-Real-IP %q", st, err, h.Get("X-Real-Ip"))
		}
	})
}
