package proxy_test

import (
	"io"
	"log/slog"
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
			ep := benchBackend(b)
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
				Backends: []model.Backend{backend("default/web:80", ep)},
			}
			if c.traced {
				m.Hosts[0].Routes[0].Policy.Tracing = &model.RouteTracing{TrustIncomingSpan: true}
				m.Tracing = &model.Tracing{CollectorHost: "127.0.0.1", CollectorPort: col.port, ServiceName: "bench", Sampler: c.sampler,
					ParentBased: c.sampler == "AlwaysOn", MaxQueueSize: 2048, ScheduleDelayMillis: 100, MaxExportBatchSize: 512}
			}
			benchH1(b, p, m, "GET /cart HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: bench\r\n"+
				"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n")
		})
	}
}
