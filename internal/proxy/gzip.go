package proxy

import (
	"bufio"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/straitgw/strait/internal/model"
)

// Response compression (use-gzip) is served by the net/http handler: when
// it is on, every route hands over to it (see Apply). As nginx's gzip
// filter with gzip_proxied any, a response is compressed when the client
// accepts gzip, the response is not encoded already, its media type is in
// gzip-types and its Content-Length, when known, is at least
// gzip-min-length.

// gzipConf is the compiled use-gzip configuration.
type gzipConf struct {
	level     int
	minLength int64
	all       bool
	types     map[string]bool
	// disable are gzip-disable's User-Agent patterns.
	disable []*regexp.Regexp
}

func compileGzip(m *model.Gzip) *gzipConf {
	if m == nil {
		return nil
	}
	g := &gzipConf{level: m.Level, minLength: m.MinLength, types: map[string]bool{}}
	if g.level < gzip.BestSpeed || g.level > gzip.BestCompression {
		g.level = gzip.BestSpeed
	}
	for _, e := range m.DisableUserAgents {
		// translate compiled every entry already.
		if re, err := regexp.Compile("(?i)" + e); err == nil {
			g.disable = append(g.disable, re)
		}
	}
	for _, t := range m.Types {
		if t == "*" {
			g.all = true
		}
		g.types[t] = true
	}
	return g
}

// gzipWriters pools compressors per level.
var gzipWriters [gzip.BestCompression + 1]sync.Pool

// wrap returns w compressing when the request accepts gzip, else w.
func (gc *gzipConf) wrap(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func()) {
	if gc == nil || r.Method == http.MethodHead || !acceptsGzip(r.Header.Values("Accept-Encoding")) {
		return w, func() {}
	}
	if ua := r.UserAgent(); ua != "" {
		for _, re := range gc.disable {
			if re.MatchString(ua) {
				return w, func() {}
			}
		}
	}
	gw := &gzipWriter{ResponseWriter: w, conf: gc}
	return gw, gw.close
}

// acceptsGzip reports whether Accept-Encoding allows gzip (q not 0).
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := strings.TrimSpace(params)
			if strings.HasPrefix(q, "q=") {
				if f, err := strconv.ParseFloat(q[2:], 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// gzipWriter decides at WriteHeader whether to compress.
type gzipWriter struct {
	http.ResponseWriter
	conf    *gzipConf
	zw      *gzip.Writer
	decided bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.decided && code >= 200 {
		g.decided = true
		if g.compressible(code) {
			h := g.Header()
			h.Del("Content-Length")
			h.Set("Content-Encoding", "gzip")
			h.Add("Vary", "Accept-Encoding")
			if et := h.Get("Etag"); et != "" && !strings.HasPrefix(et, "W/") {
				h.Set("Etag", "W/"+et)
			}
			zw, _ := gzipWriters[g.conf.level].Get().(*gzip.Writer)
			if zw == nil {
				zw, _ = gzip.NewWriterLevel(g.ResponseWriter, g.conf.level)
			} else {
				zw.Reset(g.ResponseWriter)
			}
			g.zw = zw
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) compressible(code int) bool {
	if code == http.StatusNoContent || code == http.StatusNotModified {
		return false
	}
	h := g.Header()
	if h.Get("Content-Encoding") != "" {
		return false
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n < g.conf.minLength {
			return false
		}
	}
	if g.conf.all {
		return true
	}
	mt, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return g.conf.types[strings.ToLower(strings.TrimSpace(mt))]
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.decided {
		g.WriteHeader(http.StatusOK)
	}
	if g.zw == nil {
		return g.ResponseWriter.Write(b)
	}
	return g.zw.Write(b)
}

// Flush keeps streamed responses streaming: what is compressed so far
// goes out.
func (g *gzipWriter) Flush() {
	if g.zw != nil {
		_ = g.zw.Flush()
	}
	_ = http.NewResponseController(g.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// Hijack serves upgrades, which are never compressed.
func (g *gzipWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(g.ResponseWriter).Hijack()
}

// close ends the compressed stream and returns the compressor.
func (g *gzipWriter) close() {
	if g.zw == nil {
		return
	}
	_ = g.zw.Close()
	g.zw.Reset(io.Discard)
	gzipWriters[g.conf.level].Put(g.zw)
	g.zw = nil
}
