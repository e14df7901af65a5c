package lua

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/plugin"
)

// BenchmarkScript measures the phases of one request through a Lua
// plugin alone, without the network: a module with no phase functions,
// and a minimal one setting a request header in rewrite. Run with
//
//	go test ./internal/plugin/lua -run XXX -bench Script -benchmem
func BenchmarkScript(b *testing.B) {
	for _, c := range []struct{ name, code string }{
		{"empty", `return {}`},
		{"minimal", `return { rewrite = function() ngx.req.set_header("X-Plugin", "1") end }`},
		{"all-phases", `return {
  rewrite = function() ngx.ctx.t = ngx.now() end,
  access = function() if ngx.var.http_x_block then return ngx.exit(403) end end,
  header_filter = function() ngx.header["X-Served"] = "1" end,
  log = function() end }`},
	} {
		b.Run(c.name, func(b *testing.B) {
			rt := New(Options{Budget: 5 * time.Second})
			p := rt.Script("bench", c.code, nil)
			r := httptest.NewRequest("GET", "/cart", nil)
			resp := http.Header{}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				call := plugin.Call{Request: r, ClientIP: "10.0.0.1", Scheme: "http", Port: "80", ResponseHeader: resp}
				head := plugin.Head{Status: 200, Header: resp}
				if _, err := p.Rewrite(&call); err != nil {
					b.Fatal(err)
				}
				if _, err := p.Access(&call); err != nil {
					b.Fatal(err)
				}
				if err := p.HeaderFilter(&call, &head); err != nil {
					b.Fatal(err)
				}
				p.Log(&call, &head)
			}
		})
	}
}
