package proxy

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzParseRequest feeds arbitrary bytes to the HTTP/1 head reader and
// parser: they must never panic, and an accepted head must frame its body
// unambiguously (never both a length and chunked).
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET / HTTP/1.0\nConnection: keep-alive, Upgrade\nUpgrade: websocket\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := &head{}
		h.reset()
		br := bufio.NewReaderSize(bytes.NewReader(data), 64)
		if err := readHead(br, h); err != nil {
			return
		}
		if err := parseRequest(h); err != nil {
			return
		}
		if h.chunked && h.contentLength >= 0 {
			t.Fatalf("accepted both chunked and Content-Length: %q", data)
		}
		if h.minor == 1 && h.hostCount != 1 {
			t.Fatalf("accepted HTTP/1.1 without exactly one Host: %q", data)
		}
		cr := chunkReader{r: br}
		for i := 0; i < 16; i++ {
			n, err := cr.next()
			if err != nil || n == 0 {
				return
			}
			if n < 0 {
				t.Fatalf("negative chunk size from %q", data)
			}
			if _, err := br.Discard(int(min(n, 1<<20))); err != nil {
				return
			}
			if cr.endChunk() != nil {
				return
			}
		}
	})
}
