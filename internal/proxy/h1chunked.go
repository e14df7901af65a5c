package proxy

import (
	"bufio"
	"errors"
)

// errBadChunk marks malformed chunked framing.
var errBadChunk = errors.New("malformed chunked encoding")

// maxChunkLine bounds a chunk-size line with its extensions.
const maxChunkLine = 4096

// chunkReader parses chunked transfer coding (RFC 9112 section 7.1)
// strictly: hexadecimal sizes without overflow, CRLF or LF line ends,
// extensions skipped, and trailer fields read and discarded after the last
// chunk.
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
	var n int64
	digits := 0
	for _, ch := range line {
		var d byte
		switch {
		case ch >= '0' && ch <= '9':
			d = ch - '0'
		case ch >= 'a' && ch <= 'f':
			d = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			d = ch - 'A' + 10
		case ch == ';' || ch == ' ' || ch == '\t':
			goto done
		default:
			return 0, errBadChunk
		}
		if digits == 15 {
			return 0, errBadChunk // more than 2^60 bytes: refuse, never wrap
		}
		n = n<<4 | int64(d)
		digits++
	}
done:
	if digits == 0 {
		return 0, errBadChunk
	}
	if n == 0 {
		// Trailer fields, up to the empty line.
		for i := 0; ; i++ {
			l, err := c.line()
			if err != nil {
				return 0, err
			}
			if len(l) == 0 {
				break
			}
			if i > 100 {
				return 0, errBadChunk
			}
		}
	}
	return n, nil
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
