package proxy_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestSSLPassthrough: a TLS connection naming a passthrough host reaches
// the backend unterminated (the client sees the backend's certificate and
// talks to it directly); other names are terminated by the proxy as
// usual, and a connection that is not TLS at all gets the TLS server's
// answer.
func TestSSLPassthrough(t *testing.T) {
	be := httptest.NewTLSServer(echo.New("inner"))
	t.Cleanup(be.Close)
	beEP := endpointOf(t, be.Listener.Addr())
	plainEP := echoBackend(t, "terminated")

	m := singleHost("term.test", "term", plainEP)
	m.Backends = append(m.Backends, backend("pass", beEP))
	m.Passthrough = []model.Passthrough{{Host: "pass.test", Backend: "pass"}}
	p, err := proxy.New(proxy.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(m)
	ln, err := proxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl := p.PassthroughListener(ln)
	srv := p.Server(pl, true)
	go func() { _ = proxy.Serve(srv, pl) }()
	t.Cleanup(func() { _ = srv.Close(); p.CloseTunnels() })
	addr := ln.Addr().String()

	get := func(sni string) (*http.Response, error) {
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{ServerName: sni, InsecureSkipVerify: true},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		return c.Get("https://" + sni + "/x")
	}
	resp, err := get("pass.test")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get(echo.BackendHeader) != "inner" || !resp.TLS.PeerCertificates[0].Equal(be.Certificate()) {
		t.Errorf("pass.test: answered by %q, certificate %v; want the backend's own", resp.Header.Get(echo.BackendHeader), resp.TLS.PeerCertificates[0].Subject)
	}
	resp, err = get("term.test")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get(echo.BackendHeader) != "terminated" || resp.TLS.PeerCertificates[0].Equal(be.Certificate()) {
		t.Errorf("term.test: answered by %q; want the proxy to terminate TLS", resp.Header.Get(echo.BackendHeader))
	}

	// Plain HTTP on the TLS port: the TLS server answers, as without
	// passthrough.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: term.test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	if len(b) < 12 || string(b[:12]) != "HTTP/1.0 400" {
		t.Errorf("plain HTTP on the TLS port: got %q, want net/http's 400", b)
	}
}
