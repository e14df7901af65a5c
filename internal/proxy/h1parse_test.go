package proxy

import (
	"bufio"
	"strings"
	"testing"
)

// TestParseRequest checks the strict request-head parser: what it accepts
// and how it frames the body, and what it refuses because a lenient reading
// would let a request be smuggled past the proxy.
func TestParseRequest(t *testing.T) {
	cases := []struct {
		name    string
		raw     string
		wantErr error
		check   func(t *testing.T, h *head)
	}{
		{name: "simple", raw: "GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n", check: func(t *testing.T, h *head) {
			if string(h.method) != "GET" || string(h.uri) != "/a?b=c" || string(h.host) != "x" || h.contentLength != -1 || h.close {
				t.Errorf("parsed %+v", h)
			}
		}},
		{name: "bare LF", raw: "GET / HTTP/1.1\nHost: x\n\n"},
		{name: "HTTP/1.0 closes", raw: "GET / HTTP/1.0\r\n\r\n", check: func(t *testing.T, h *head) {
			if !h.close {
				t.Error("HTTP/1.0 without keep-alive must close")
			}
		}},
		{name: "HTTP/1.0 keep-alive", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", check: func(t *testing.T, h *head) {
			if h.close {
				t.Error("HTTP/1.0 with keep-alive must stay open")
			}
		}},
		{name: "content length", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n", check: func(t *testing.T, h *head) {
			if h.contentLength != 12 {
				t.Errorf("content length %d", h.contentLength)
			}
		}},
		// nginx refuses a repeated Content-Length even when equal.
		{name: "same content length twice", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", wantErr: errBadRequest},
		{name: "chunked", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", check: func(t *testing.T, h *head) {
			if !h.chunked {
				t.Error("not chunked")
			}
		}},
		{name: "connection tokens", raw: "GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, X-Secret\r\nUpgrade: websocket\r\n\r\n", check: func(t *testing.T, h *head) {
			if !h.connUpgrade || string(h.upgrade) != "websocket" || len(h.connTokens) != 1 || string(h.connTokens[0]) != "X-Secret" {
				t.Errorf("parsed %+v", h)
			}
		}},
		{name: "missing host", raw: "GET / HTTP/1.1\r\n\r\n", wantErr: errBadRequest},
		{name: "two hosts", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", wantErr: errBadRequest},
		{name: "conflicting content lengths", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", wantErr: errBadRequest},
		{name: "content length list", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n", wantErr: errBadRequest},
		{name: "signed content length", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n", wantErr: errBadRequest},
		{name: "length and chunked", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", wantErr: errBadRequest},
		{name: "chunked then length", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", wantErr: errBadRequest},
		{name: "gzip coding", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", wantErr: errNotImplemented},
		{name: "chunked twice", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", wantErr: errBadRequest},
		{name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", wantErr: errBadRequest},
		{name: "obsolete folding", raw: "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n", wantErr: errBadRequest},
		{name: "control char in value", raw: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", wantErr: errBadRequest},
		{name: "bad method", raw: "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", wantErr: errBadRequest},
		{name: "HTTP/2 preface", raw: "PRI * HTTP/2.0\r\n\r\n", wantErr: errVersion},
		{name: "HTTP/2.0 request", raw: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", wantErr: errVersion},
		{name: "HTTP/1.2 is 1.1", raw: "GET / HTTP/1.2\r\nHost: x\r\n\r\n", check: func(t *testing.T, h *head) {
			if h.minor != 1 || h.close {
				t.Errorf("minor %d close %v", h.minor, h.close)
			}
		}},
		{name: "lower-case protocol", raw: "GET / http/1.1\r\nHost: x\r\n\r\n", wantErr: errBadRequest},
		{name: "HTTP/0.9 version", raw: "GET / HTTP/0.9\r\nHost: x\r\n\r\n", wantErr: errBadRequest},
		{name: "two spaces after method", raw: "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", wantErr: errBadRequest},
		{name: "space in target", raw: "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", wantErr: errBadRequest},
		{name: "bad escape in path", raw: "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", wantErr: errBadRequest},
		{name: "cut escape in path", raw: "GET /a%2 HTTP/1.1\r\nHost: x\r\n\r\n", wantErr: errBadRequest},
		{name: "bad escape in query", raw: "GET /a?%zz HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "NUL in target", raw: "GET /a\x00 HTTP/1.1\r\nHost: x\r\n\r\n", wantErr: errBadRequest},
		{name: "chunked in HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", wantErr: errBadRequest},
		{name: "unknown coding with length", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\n", wantErr: errNotImplemented},
		{name: "chunked, identity", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", wantErr: errNotImplemented},
		// The fold is refused before the empty coding is looked at.
		{name: "folded coding", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", wantErr: errBadRequest},
		{name: "length after bad length", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", wantErr: errBadRequest},
		{name: "overflowing length", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1844674407370955161600\r\n\r\n", wantErr: errBadRequest},
		{name: "empty length", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", wantErr: errBadRequest},
		{name: "leading zeros", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n", check: func(t *testing.T, h *head) {
			if h.contentLength != 7 {
				t.Errorf("content length %d", h.contentLength)
			}
		}},
		{name: "bare CR in value", raw: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", wantErr: errBadRequest},
		{name: "escape in value", raw: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x1bb\r\n\r\n", wantErr: errBadRequest},
		{name: "control char in name", raw: "GET / HTTP/1.1\r\nHost: x\r\nX-\x01: a\r\n\r\n", wantErr: errBadRequest},
		{name: "empty name", raw: "GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n", wantErr: errBadRequest},
		{name: "host with slash", raw: "GET / HTTP/1.1\r\nHost: x/y\r\n\r\n", wantErr: errBadRequest},
		{name: "host with dot dot", raw: "GET / HTTP/1.1\r\nHost: x..y\r\n\r\n", wantErr: errBadRequest},
		{name: "host with space", raw: "GET / HTTP/1.1\r\nHost: x y\r\n\r\n", wantErr: errBadRequest},
		{name: "empty host", raw: "GET / HTTP/1.1\r\nHost:\r\n\r\n", wantErr: errBadRequest},
		{name: "host and port", raw: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"},
		{name: "HTTP/0.9", raw: "GET /\r\n\r\n", wantErr: errBadRequest},
		{name: "no colon", raw: "GET / HTTP/1.1\r\nHost x\r\n\r\n", wantErr: errBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &head{}
			h.reset()
			if err := readHead(bufio.NewReader(strings.NewReader(c.raw)), h); err != nil {
				t.Fatalf("readHead: %v", err)
			}
			err := parseRequest(h)
			if err != c.wantErr {
				t.Fatalf("parseRequest error %v, want %v", err, c.wantErr)
			}
			if err == nil && c.check != nil {
				c.check(t, h)
			}
		})
	}
}

// TestReadHeadAcrossFills feeds heads larger than the reader's buffer, and
// heads whose end marker straddles two reads.
func TestReadHeadAcrossFills(t *testing.T) {
	big := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 10000) + "\r\n\r\nNEXT"
	for _, size := range []int{16, 17, 18, 19, 64, 4096} {
		br := bufio.NewReaderSize(&slowReader{s: big, step: 7}, size)
		h := &head{}
		h.reset()
		if err := readHead(br, h); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if string(h.buf) != strings.TrimSuffix(big, "NEXT") {
			t.Fatalf("size %d: head of %d bytes, want %d", size, len(h.buf), len(big)-4)
		}
		rest, _ := br.Peek(4)
		if string(rest) != "NEXT" {
			t.Fatalf("size %d: left %q after the head", size, rest)
		}
	}
	huge := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", maxHeadBytes) + "\r\n\r\n"
	h := &head{}
	if err := readHead(bufio.NewReaderSize(strings.NewReader(huge), 4096), h); err != errHeadTooLarge {
		t.Fatalf("huge head: %v, want errHeadTooLarge", err)
	}
}

// slowReader returns at most step bytes per Read, like a slow client.
type slowReader struct {
	s    string
	step int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.s) == 0 {
		return 0, nil
	}
	n := min(len(p), r.step, len(r.s))
	copy(p, r.s[:n])
	r.s = r.s[n:]
	return n, nil
}

func TestChunkReader(t *testing.T) {
	ok := []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
		"A\r\n0123456789\r\n0\n\n",
	}
	for _, in := range ok {
		cr := chunkReader{r: bufio.NewReader(strings.NewReader(in))}
		total := int64(0)
		for {
			n, err := cr.next()
			if err != nil {
				t.Fatalf("%q: %v", in, err)
			}
			if n == 0 {
				break
			}
			if _, err := cr.r.Discard(int(n)); err != nil {
				t.Fatal(err)
			}
			if err := cr.endChunk(); err != nil {
				t.Fatalf("%q: %v", in, err)
			}
			total += n
		}
		if total == 0 {
			t.Errorf("%q: no data", in)
		}
	}
	bad := []string{
		"\r\nhello\r\n0\r\n\r\n",   // no size
		"x5\r\nhello\r\n0\r\n\r\n", // not hex
		"fffffffffffffffff\r\n",    // overflows
		"5\r\nhelloXX0\r\n\r\n",    // data longer than its size
		"-5\r\nhello\r\n0\r\n\r\n", // sign
		"5\r\nhel",                 // truncated
	}
	for _, in := range bad {
		cr := chunkReader{r: bufio.NewReader(strings.NewReader(in))}
		var err error
		for i := 0; i < 4 && err == nil; i++ {
			var n int64
			n, err = cr.next()
			if err != nil || n == 0 {
				break
			}
			if _, err = cr.r.Discard(int(n)); err != nil {
				break
			}
			err = cr.endChunk()
		}
		if err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

// TestParseChunkSize checks chunk-size lines: hexadecimal without
// overflow, then nothing, whitespace or extensions without control
// characters.
func TestParseChunkSize(t *testing.T) {
	for line, want := range map[string]int64{
		"0": 0, "5": 5, "1aF": 0x1af, "5;ext=1": 5, "5 ;ext": 5, "5\t": 5,
		"fffffffffffffff": 0xfffffffffffffff, "5;a=\"q\\\"x\"": 5,
	} {
		if n, ok := parseChunkSize([]byte(line)); !ok || n != want {
			t.Errorf("%q: %d, %v; want %d", line, n, ok, want)
		}
	}
	for _, line := range []string{
		"", ";ext", "x", "5x", "5 x", "-5", "0x5", "+5",
		"1000000000000000",  // 16 digits: more than 2^60
		"10000000000000005", // 17 digits
		"5;a=\x01", "5;a\rb", "5;\x7f",
	} {
		if n, ok := parseChunkSize([]byte(line)); ok {
			t.Errorf("%q accepted as %d", line, n)
		}
	}
}
