package proxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// benchBackend starts a backend answering "ok" and returns its endpoint.
func benchBackend(b *testing.B) model.Endpoint {
	b.Helper()
	bs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })}
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = bs.Serve(bl) }()
	b.Cleanup(func() { _ = bs.Close() })
	return model.Endpoint{Host: "127.0.0.1", Port: int32(bl.Addr().(*net.TCPAddr).Port)}
}

// benchH1 applies m to p and sends request, a keep-alive request whose
// backend answers "ok", b.N times over one connection through the HTTP/1
// engine.
func benchH1(b *testing.B, p *proxy.Proxy, m *model.Model, request string) {
	b.Helper()
	// One connection for the whole run: nginx's default of 1000
	// requests per connection would end it.
	m.Client.KeepAliveRequests = 1 << 30
	p.Apply(m)
	ln, err := proxy.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := p.H1Server(ln)
	go func() { _ = srv.Serve() }()
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte(request)
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		// The response is small and fixed: read until its body.
		n := 0
		for {
			k, err := br.Read(buf[n:])
			if err != nil {
				b.Fatal(err)
			}
			n += k
			if n >= 2 && string(buf[n-2:n]) == "ok" {
				break
			}
		}
	}
}
