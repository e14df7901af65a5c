package proxy

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// bytesConn is a net.Conn reading from a byte slice, for the fuzzer.
type bytesConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *bytesConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func (c *bytesConn) SetReadDeadline(time.Time) error { return nil }

// FuzzProxyHeader feeds arbitrary bytes to the PROXY protocol reader: it
// must never panic, an accepted header names a TCP address (or none), and
// the bytes after the header are kept whole.
//
//	go test ./internal/proxy -run XXX -fuzz FuzzProxyHeader -fuzztime 20s
func FuzzProxyHeader(f *testing.F) {
	v2 := append([]byte("\r\n\r\n\x00\r\nQUIT\n"), 0x21, 0x11, 0, 12, 198, 51, 100, 9, 10, 0, 0, 1, 0x9c, 0x40, 0, 80)
	for _, s := range [][]byte{
		[]byte("PROXY TCP4 203.0.113.7 10.0.0.1 51000 80\r\nGET / HTTP/1.1\r\n\r\n"),
		[]byte("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"),
		[]byte("PROXY UNKNOWN\r\nrest"),
		[]byte("PROXY TCP4 1.2.3.4\r\n"),
		append(v2, "GET /"...),
		append([]byte("\r\n\r\n\x00\r\nQUIT\n"), 0x20, 0, 0, 0),
		[]byte("GET / HTTP/1.1\r\n\r\n"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bc := &bytesConn{r: bytes.NewReader(data)}
		remote, rest, err := readProxyHeader(bc)
		if err != nil {
			return
		}
		if remote != nil {
			if _, ok := remote.(*net.TCPAddr); !ok {
				t.Fatalf("remote %T", remote)
			}
		}
		// What was read past the header, then what is still unread, is
		// the end of the input.
		unread := data[len(data)-bc.r.Len():]
		if !bytes.HasSuffix(data, append(append([]byte{}, rest...), unread...)) {
			t.Fatalf("rest %q and unread %q are not the end of the input", rest, unread)
		}
	})
}
