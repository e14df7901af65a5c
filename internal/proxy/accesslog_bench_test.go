package proxy_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// BenchmarkH1AccessLog measures a keep-alive GET through the HTTP/1 engine
// with the access log (to io.Discard) and the request metrics off and on:
// run with
//
//	go test ./internal/proxy -run XXX -bench H1AccessLog -benchmem
func BenchmarkH1AccessLog(b *testing.B) {
	for _, c := range []struct {
		name         string
		log, metrics bool
	}{{"off", false, false}, {"log", true, false}, {"metrics", false, true}, {"log+metrics", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			bs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })}
			bl, _ := net.Listen("tcp", "127.0.0.1:0")
			go func() { _ = bs.Serve(bl) }()
			defer bs.Close()
			tcp := bl.Addr().(*net.TCPAddr)
			opts := proxy.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if c.log {
				opts.AccessLog = io.Discard
			}
			if c.metrics {
				opts.Requests = metrics.NewRequests(metrics.RequestOptions{PerHost: true})
			}
			p, err := proxy.New(opts)
			if err != nil {
				b.Fatal(err)
			}
			m := accessLogModel(model.Endpoint{Host: "127.0.0.1", Port: int32(tcp.Port)}, model.AccessLog{})
			// One connection for the whole run: nginx's default of 1000
			// requests per connection would end it.
			m.Client.KeepAliveRequests = 1 << 30
			p.Apply(m)
			ln, _ := proxy.Listen("127.0.0.1:0")
			srv := p.H1Server(ln)
			go func() { _ = srv.Serve() }()
			defer srv.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			reqLine := []byte("GET /cart HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: bench\r\n\r\n")
			buf := make([]byte, 4096)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Write(reqLine); err != nil {
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
		})
	}
}
