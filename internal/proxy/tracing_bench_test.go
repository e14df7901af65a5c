package proxy_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// BenchmarkH1Tracing measures a keep-alive GET through the HTTP/1 engine
// on an untraced route, a traced route whose spans are exported to a
// local OTLP receiver, and a traced route with the AlwaysOff sampler (not
// parent-based, so the sampled traceparent sent does not override it): run
// with
//
//	go test ./internal/proxy -run XXX -bench H1Tracing -benchmem
func BenchmarkH1Tracing(b *testing.B) {
	for _, c := range []struct {
		name    string
		traced  bool
		sampler string
	}{{"off", false, ""}, {"on", true, "AlwaysOn"}, {"not-sampled", true, "AlwaysOff"}} {
		b.Run(c.name, func(b *testing.B) {
			bs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })}
			bl, _ := net.Listen("tcp", "127.0.0.1:0")
			go func() { _ = bs.Serve(bl) }()
			defer bs.Close()
			tcp := bl.Addr().(*net.TCPAddr)
			p, err := proxy.New(proxy.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			col := startCollector(b)
			r := prefixRoute("/", "default/web:80")
			r.Source = model.ObjectRef{Kind: "Ingress", Namespace: "default", Name: "shop"}
			m := &model.Model{
				Hosts:    []*model.VirtualHost{vhost("shop.test", status(http.StatusNotFound), r)},
				CatchAll: catchAll404(),
				Backends: []model.Backend{backend("default/web:80", model.Endpoint{Host: "127.0.0.1", Port: int32(tcp.Port)})},
			}
			if c.traced {
				m.Hosts[0].Routes[0].Policy.Tracing = &model.RouteTracing{TrustIncomingSpan: true}
				m.Tracing = &model.Tracing{CollectorHost: "127.0.0.1", CollectorPort: col.port, ServiceName: "bench", Sampler: c.sampler,
					ParentBased: c.sampler == "AlwaysOn", MaxQueueSize: 2048, ScheduleDelayMillis: 100, MaxExportBatchSize: 512}
			}
			m.Client.KeepAliveRequests = 1 << 30
			p.Apply(m)
			ln, _ := proxy.Listen("127.0.0.1:0")
			srv := p.H1Server(ln)
			go func() { _ = srv.Serve() }()
			defer srv.Close()
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			reqLine := []byte("GET /cart HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: bench\r\n" +
				"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n")
			buf := make([]byte, 4096)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := conn.Write(reqLine); err != nil {
					b.Fatal(err)
				}
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
