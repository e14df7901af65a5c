package proxy

import (
	"bufio"
	"bytes"
	"errors"
)

// errBadChunk marks malformed chunked framing.
var errBadChunk = errors.New("malformed chunked encoding")

// maxChunkLine bounds a chunk-size line with its extensions.
const maxChunkLine = 4096

// maxTrailers bounds the trailer fields after the last chunk.
const maxTrailers = 100

// chunkReader parses chunked transfer coding (RFC 9112 section 7.1)
// strictly: hexadecimal sizes without overflow, CRLF or LF line ends,
// extensions checked and skipped, and trailer fields checked and
// discarded after the last chunk.
type chunkReader struct {
	r      *bufio.Reader
	extend func() // keeps the read deadline ahead while waiting
}

// next reads a chunk-size line and returns the size; 0 means the last
// chunk, whose trailer section has then been consumed.
func (c *chunkReader) next() (int64, error) {
	line, err := c.line()
	if err != nil {
		return 0, err
	}
	n, ok := parseChunkSize(line)
	if !ok {
		return 0, errBadChunk
	}
	if n == 0 {
		// Trailer fields, up to the empty line. They are not passed on,
		// but a malformed one means the framing cannot be trusted.
		for i := 0; ; i++ {
			l, err := c.line()
			if err != nil {
				return 0, err
			}
			if len(l) == 0 {
				break
			}
			if i >= maxTrailers || !validField(l) {
				return 0, errBadChunk
			}
		}
	}
	return n, nil
}

// parseChunkSize parses a chunk-size line: hexadecimal digits, at most 15
// of them (more than 2^60 bytes is refused rather than wrapped), then
// what validChunkExt allows.
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	digits := 0
	for ; digits < len(line); digits++ {
		ch := line[digits]
		var d byte
		switch {
		case ch >= '0' && ch <= '9':
			d = ch - '0'
		case ch >= 'a' && ch <= 'f':
			d = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return n, digits > 0 && validChunkExt(line[digits:])
		}
		if digits == 15 {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, digits > 0
}

// validChunkExt checks what follows a chunk size: nothing, or optional
// whitespace and extensions after a semicolon without control
// characters. Extensions are dropped, never forwarded.
func validChunkExt(b []byte) bool {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	if len(b) == 0 {
		return true
	}
	if b[0] != ';' {
		return false
	}
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// validField checks one header or trailer line: a token name, a colon
// right after it, and a value without control characters.
func validField(l []byte) bool {
	colon := bytes.IndexByte(l, ':')
	if colon <= 0 {
		return false
	}
	for _, c := range l[:colon] {
		if !isTokenChar(c) {
			return false
		}
	}
	for _, c := range l[colon+1:] {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// endChunk consumes the CRLF after chunk data.
func (c *chunkReader) endChunk() error {
	l, err := c.line()
	if err != nil {
		return err
	}
	if len(l) != 0 {
		return errBadChunk
	}
	return nil
}

// line reads one line without its line end. The returned slice is valid
// until the next read.
func (c *chunkReader) line() ([]byte, error) {
	if c.r.Buffered() == 0 && c.extend != nil {
		c.extend()
	}
	l, err := c.r.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, errBadChunk
		}
		return nil, unexpectedEOF(err)
	}
	if len(l) > maxChunkLine {
		return nil, errBadChunk
	}
	l = l[:len(l)-1]
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l, nil
}
