package proxy

import (
	"crypto/tls"
	"net/http"
	"time"

	"golang.org/x/net/http2"
)

// HTTP/2 on the TLS listeners (h2server.go). The streams limit is
// http2-max-concurrent-streams, taken from the generation current when a
// connection starts, and every connection's frames pass a guard that
// closes it, with GOAWAY ENHANCE_YOUR_CALM, on floods: stream resets
// faster than --http2-max-resets (rapid reset, CVE-2023-44487) and header
// blocks in more than --http2-max-continuations CONTINUATION frames or
// larger than twice the head limit (CONTINUATION flood, CVE-2024-27316).
// The guard counts on the bytes read, before any frame is parsed.

// defaultHTTP2Streams is http2-max-concurrent-streams' default.
const defaultHTTP2Streams = 128

// HTTP/2 frame types and flags the guard reads.
const (
	h2FrameHeaders      = 0x1
	h2FrameRSTStream    = 0x3
	h2FrameContinuation = 0x9
	h2FlagEndHeaders    = 0x4
	h2FrameHeaderLen    = 9
)

// configureHTTP2 makes srv serve HTTP/2, negotiated by ALPN, with
// Strait's server; its graceful shutdown sends GOAWAY to every HTTP/2
// connection. h2c is not served.
func (p *Proxy) configureHTTP2(srv *http.Server) {
	reg := &h2Conns{}
	srv.RegisterOnShutdown(reg.stopAll)
	srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"h2": func(hs *http.Server, c *tls.Conn, h http.Handler) { p.serveH2(hs, c, h, reg) },
	}
}

// h2Guard reads an HTTP/2 connection's frame headers as the server reads
// them: after the 24-byte preface, each frame's 9-byte header (24-bit
// length, type, flags, stream id) and its payload, which is passed over.
type h2Guard struct {
	*tls.Conn
	stats *stats
	// Limits: resets per second (and burst), CONTINUATION frames per
	// header block, bytes per continued header block.
	maxResets float64
	maxConts  int
	maxBlock  int

	skip    int // preface or payload bytes still to pass
	hdr     [h2FrameHeaderLen]byte
	nh      int
	conts   int // CONTINUATION frames of the current header block
	block   int // bytes of the current header block
	tokens  float64
	refill  time.Time
	refused error
}

func (p *Proxy) guardH2(c *tls.Conn, g *generation) *h2Guard {
	maxResets := float64(p.clientLimits.HTTP2MaxResets)
	return &h2Guard{Conn: c, stats: &p.stats,
		maxResets: maxResets, maxConts: p.clientLimits.HTTP2MaxContinuations,
		maxBlock: max(2*g.limits.head, 16<<10),
		skip:     len(http2.ClientPreface), tokens: maxResets, refill: time.Now()}
}

// Read passes the bytes read on, unless they complete a frame over a
// limit: then the connection fails with ENHANCE_YOUR_CALM, which the
// server answers with GOAWAY before it closes the connection.
func (g *h2Guard) Read(b []byte) (int, error) {
	if g.refused != nil {
		return 0, g.refused
	}
	n, err := g.Conn.Read(b)
	if l := g.scan(b[:n]); l != numLimits {
		g.stats.limitHit(l)
		g.refused = http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
		return 0, g.refused
	}
	return n, err
}

// scan follows the frames in b; it returns the limit a frame broke, or
// numLimits.
func (g *h2Guard) scan(b []byte) Limit {
	for len(b) > 0 {
		if g.skip > 0 {
			k := min(g.skip, len(b))
			g.skip -= k
			b = b[k:]
			continue
		}
		k := copy(g.hdr[g.nh:], b)
		g.nh += k
		b = b[k:]
		if g.nh < h2FrameHeaderLen {
			break
		}
		g.nh = 0
		length := int(g.hdr[0])<<16 | int(g.hdr[1])<<8 | int(g.hdr[2])
		g.skip = length
		if l := g.frame(g.hdr[3], g.hdr[4], length); l != numLimits {
			return l
		}
	}
	return numLimits
}

func (g *h2Guard) frame(typ, flags byte, length int) Limit {
	switch typ {
	case h2FrameHeaders:
		g.conts, g.block = 0, length
	case h2FrameContinuation:
		g.conts++
		g.block += length
		if g.conts > g.maxConts || g.block > g.maxBlock {
			return LimitH2Continuation
		}
		if flags&h2FlagEndHeaders != 0 {
			g.conts, g.block = 0, 0
		}
	case h2FrameRSTStream:
		// A token bucket: maxResets at once, refilled at maxResets a
		// second.
		now := time.Now()
		g.tokens = min(g.maxResets, g.tokens+now.Sub(g.refill).Seconds()*g.maxResets)
		g.refill = now
		if g.tokens--; g.tokens < 0 {
			return LimitH2RapidReset
		}
	}
	return numLimits
}
