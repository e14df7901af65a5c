package proxy_test

import (
	"io"
	"log/slog"
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
			ep := benchBackend(b)
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
			benchH1(b, p, accessLogModel(ep, model.AccessLog{}), "GET /cart HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: bench\r\n\r\n")
		})
	}
}
