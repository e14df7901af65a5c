package proxy

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// TestGuardConn feeds client byte streams through the guard and checks
// what net/http would read: canonical heads and chunked framing, refused
// heads replaced by one net/http answers with the same status, and
// malformed chunked bodies cut with errBadChunk.
func TestGuardConn(t *testing.T) {
	cases := []struct {
		name, in, want string
		err            error
	}{
		{name: "pipelined", in: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.0\r\n\r\n",
			want: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.0\r\n\r\n", err: io.EOF},
		{name: "bare LF and chunked re-framed", in: "POST /b HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n5;ext=1\nhello\n0\nX-T: 1\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
			want: "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", err: io.EOF},
		{name: "length with chunked", in: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
			want: string(guardBadRequest), err: io.EOF},
		{name: "second request refused", in: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
			want: "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" + string(guardBadRequest), err: io.EOF},
		{name: "unknown coding", in: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", want: string(guardNotImplemented), err: io.EOF},
		{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", want: string(guardBadVersion), err: io.EOF},
		{name: "bad chunk size", in: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n",
			want: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", err: errBadChunk},
		{name: "bad trailer holds the last chunk", in: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nBad Trailer: x\r\n\r\n",
			want: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n", err: errBadChunk},
		{name: "upgrade passes through", in: "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
			want: "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", err: io.EOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A timeout in the middle of the stream, as net/http's
			// background read causes, must not lose or repeat bytes.
			src := &interruptedReader{s: c.in, at: len(c.in) / 2, step: 7}
			g := newGuardConn(nil, src, &stats{})
			var out strings.Builder
			buf := make([]byte, 5)
			var err error
			for {
				var n int
				n, err = g.Read(buf)
				out.WriteString(string(buf[:n]))
				if errors.Is(err, os.ErrDeadlineExceeded) {
					continue
				}
				if err != nil {
					break
				}
			}
			if out.String() != c.want || !errors.Is(err, c.err) {
				t.Errorf("read %q, %v\nwant %q, %v", out.String(), err, c.want, c.err)
			}
		})
	}
}

// interruptedReader returns s at most step bytes at a time, with one
// deadline error once at offset at.
type interruptedReader struct {
	s        string
	off, at  int
	step     int
	timedOut bool
}

func (r *interruptedReader) Read(p []byte) (int, error) {
	if !r.timedOut && r.off >= r.at {
		r.timedOut = true
		return 0, os.ErrDeadlineExceeded
	}
	if r.off == len(r.s) {
		return 0, io.EOF
	}
	end := min(len(r.s), r.off+r.step, r.off+len(p))
	if !r.timedOut {
		end = min(end, max(r.at, r.off+1))
	}
	n := copy(p, r.s[r.off:end])
	r.off += n
	return n, nil
}
