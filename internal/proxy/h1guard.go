package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
)

// net/http reads some requests that nginx refuses, and reads them its own
// way: Content-Length together with Transfer-Encoding (the coding wins),
// obsolete line folding, repeated equal Content-Length values,
// Transfer-Encoding in HTTP/1.0 (ignored). A guardConn puts the HTTP/1
// engine's parser in front of net/http on HTTP/1 connections (TLS, and
// connections the engine handed over), so that both engines accept the
// same requests and frame them the same way.
//
// The guard reads the client's bytes, checks every request head with
// parseRequest and follows the body framing to the next head. What it
// passes on is a canonical copy: heads re-serialised with CRLF line ends,
// chunked bodies re-framed without extensions or trailers. A refused head
// is replaced by one that net/http answers with the same status (400, 501
// or 505), after which the connection ends; malformed chunked framing ends
// the body with errBadChunk, which the handler answers with 400.

// guardHeadLimit bounds a head the guard reads: net/http's own limit
// (maxServerHeaderBytes) plus its slack. A larger head is refused.
const guardHeadLimit = maxServerHeaderBytes + 4096

// Heads that net/http answers with a given status, in place of a refused
// one.
var (
	guardBadRequest     = []byte("BAD\r\n\r\n")
	guardNotImplemented = []byte("POST / HTTP/1.1\r\nHost: refused\r\nTransfer-Encoding: refused\r\n\r\n")
	guardBadVersion     = []byte("GET / HTTP/2.0\r\nHost: refused\r\n\r\n")
)

type guardState int

const (
	guardHead      guardState = iota // before a request head
	guardBody                        // left Content-Length bytes to pass
	guardChunkSize                   // before a chunk-size line
	guardChunkData                   // left chunk data bytes to pass
	guardChunkEnd                    // before the CRLF after chunk data
	guardTrailer                     // in the trailer section
	guardPass                        // after an upgrade request: unchecked
	guardDone                        // after a refusal: end of stream
)

// guardConn is a client connection whose reads are checked as HTTP/1
// requests.
type guardConn struct {
	net.Conn
	br    *bufio.Reader
	out   []byte // checked bytes not read yet
	state guardState
	left  int64
	h     head
	err   error // returned once out is drained in guardDone
	stats *stats
}

// newGuardConn guards c, reading from src (c itself, or a reader that
// replays bytes already read from it), and counts refusals in st.
func newGuardConn(c net.Conn, src io.Reader, st *stats) *guardConn {
	g := &guardConn{Conn: c, br: bufio.NewReaderSize(src, 4096), stats: st}
	g.h.contentLength = -1
	return g
}

// Read returns checked bytes, reading and checking more as needed.
func (g *guardConn) Read(p []byte) (int, error) {
	for len(g.out) == 0 {
		switch g.state {
		case guardDone:
			return 0, g.err
		case guardPass:
			return g.br.Read(p)
		}
		if err := g.step(); err != nil {
			return 0, err
		}
	}
	n := copy(p, g.out)
	g.out = g.out[n:]
	return n, nil
}

// step reads and checks the next piece of the stream, leaving what may be
// passed on in g.out. Errors from the connection are returned with the
// state unchanged, so that a read interrupted by a deadline resumes.
func (g *guardConn) step() error {
	switch g.state {
	case guardHead:
		g.h.reset()
		g.h.limit = guardHeadLimit
		err := readHead(g.br, &g.h)
		if err == errHeadTooLarge {
			g.refuse(errBadRequest)
			return nil
		}
		if err != nil {
			return err
		}
		if err := parseRequest(&g.h); err != nil {
			g.refuse(err)
			return nil
		}
		g.out = canonicalHead(g.out[:0], &g.h)
		switch {
		case g.h.connUpgrade && len(g.h.upgrade) > 0 && g.h.minor == 1:
			// Once switched, the stream is no longer HTTP/1. The
			// handler closes the connection when the upstream declines
			// (see upgradeAsked).
			g.state = guardPass
		case g.h.chunked:
			g.state = guardChunkSize
		case g.h.contentLength > 0:
			g.state, g.left = guardBody, g.h.contentLength
		}
	case guardBody, guardChunkData:
		if g.br.Buffered() == 0 {
			if _, err := g.br.Peek(1); err != nil {
				return err
			}
		}
		n := int(min(int64(g.br.Buffered()), g.left))
		b, _ := g.br.Peek(n)
		g.out = append(g.out[:0], b...)
		_, _ = g.br.Discard(n)
		if g.left -= int64(n); g.left == 0 {
			if g.state == guardBody {
				g.state = guardHead
			} else {
				g.state = guardChunkEnd
			}
		}
	case guardChunkSize:
		l, err := g.line()
		if err != nil {
			return err
		}
		n, ok := parseChunkSize(l)
		if !ok {
			return g.badChunk()
		}
		if n == 0 {
			// The last chunk goes out once the trailers are checked:
			// net/http ends the body at it. left counts trailer lines.
			g.state, g.left = guardTrailer, 0
			return nil
		}
		g.out = append(strconv.AppendInt(g.out[:0], n, 16), '\r', '\n')
		g.state, g.left = guardChunkData, n
	case guardChunkEnd:
		l, err := g.line()
		if err != nil {
			return err
		}
		if len(l) != 0 {
			return g.badChunk()
		}
		g.out = append(g.out[:0], '\r', '\n')
		g.state = guardChunkSize
	case guardTrailer:
		l, err := g.line()
		if err != nil {
			return err
		}
		if len(l) == 0 {
			g.out = append(g.out[:0], "0\r\n\r\n"...)
			g.state = guardHead
		} else if g.left++; g.left > maxTrailers || !validField(l) {
			return g.badChunk()
		}
	}
	return nil
}

// line returns the next line without its line end and consumes it; when
// no complete line is buffered yet it reads more and consumes nothing.
func (g *guardConn) line() ([]byte, error) {
	for {
		buf, _ := g.br.Peek(g.br.Buffered())
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			l := buf[:i]
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
			// The line stays valid until the next read; callers use it
			// before that.
			_, _ = g.br.Discard(i + 1)
			return l, nil
		}
		if len(buf) >= maxChunkLine {
			return nil, g.badChunk()
		}
		if _, err := g.br.Peek(len(buf) + 1); err != nil {
			return nil, unexpectedEOF(err)
		}
	}
}

// refuse replaces a refused head with one net/http answers with the same
// status, then ends the stream.
func (g *guardConn) refuse(err error) {
	g.stats.limitHit(LimitMalformed)
	switch err {
	case errNotImplemented:
		g.out = guardNotImplemented
	case errVersion:
		g.out = guardBadVersion
	default:
		g.out = guardBadRequest
	}
	g.state, g.err = guardDone, io.EOF
}

// badChunk ends the stream inside a chunked body.
func (g *guardConn) badChunk() error {
	g.out = nil
	g.state, g.err = guardDone, errBadChunk
	return errBadChunk
}

// canonicalHead writes h as a head with CRLF line ends and single spaces.
func canonicalHead(b []byte, h *head) []byte {
	b = append(b, h.method...)
	b = append(b, ' ')
	b = append(b, h.uri...)
	b = append(b, " HTTP/1."...)
	b = append(b, byte('0'+h.minor))
	b = append(b, '\r', '\n')
	for _, f := range h.fields {
		b = append(b, f.name...)
		b = append(b, ':', ' ')
		b = append(b, f.value...)
		b = append(b, '\r', '\n')
	}
	return append(b, '\r', '\n')
}

// NetConn returns the guarded connection, so that what wraps a client
// connection (connection limits, TLS) can be found under the guard.
func (g *guardConn) NetConn() net.Conn { return g.Conn }
