package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/kubetest"
)

// smuggleCase is one malformed or ambiguous request sent as raw bytes.
// "{host}" in raw is replaced by the run's virtual host.
type smuggleCase struct {
	name string
	raw  string
	// want is the status of the first response; 0 means the connection
	// must close without one.
	want int
	// to names the backend that must receive exactly one request
	// ("pub" or "adm"); "" means no backend may receive anything.
	to string
	// path is the request target that backend must receive.
	path string
	// requests is how many requests the backend must receive when more
	// than one (pipelining).
	requests int
}

// smuggleCases probe the request parser and router. Every case that
// carries a second request hides it behind an ambiguity; its path contains
// "smuggled", and no backend may ever receive such a request.
var smuggleCases = []smuggleCase{
	// A well-formed request reaches /public's backend unchanged.
	{name: "baseline", raw: "GET /public/x?q=1 HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "pub", path: "/public/x?q=1"},
	// Two well-formed pipelined requests arrive as two requests.
	{name: "pipelined", raw: "GET /public/a HTTP/1.1\r\nHost: {host}\r\n\r\nGET /public/b HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "pub", path: "/public/a", requests: 2},
	// A Content-Length body is forwarded with one Content-Length.
	{name: "post-content-length", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello", want: 200, to: "pub", path: "/public/x"},
	// A chunked body with a chunk extension and a trailer: normalised,
	// the backend receives clean chunked framing (or one Content-Length).
	{name: "post-chunked", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n", want: 200, to: "pub", path: "/public/x"},
	// CL.TE: Content-Length and Transfer-Encoding together: 400.
	{name: "cl-te", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /public/smuggled HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// TE.CL: the same headers in the other order: 400.
	{name: "te-cl", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\nGET /public/smuggled HTTP/1.1\r\nX: \r\n\r\n", want: 400},
	// Two differing Content-Length headers, a request pipelined behind
	// the shorter body: 400, nothing forwarded.
	{name: "cl-cl-differ", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nContent-Length: 57\r\n\r\nhelloGET /public/smuggled HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// Two equal Content-Length headers: 400, as nginx refuses any
	// repeated Content-Length.
	{name: "cl-cl-same", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", want: 400},
	// A list as the Content-Length value: 400.
	{name: "cl-list", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5, 5\r\n\r\nhello", want: 400},
	// A negative Content-Length: 400.
	{name: "cl-negative", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: -1\r\n\r\n", want: 400},
	// A signed Content-Length: 400.
	{name: "cl-plus", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: +5\r\n\r\nhello", want: 400},
	// A hexadecimal Content-Length: 400.
	{name: "cl-hex", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0x5\r\n\r\nhello", want: 400},
	// A Content-Length that overflows 64 bits: 400.
	{name: "cl-overflow", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 184467440737095516160\r\n\r\nhello", want: 400},
	// An empty Content-Length: 400.
	{name: "cl-empty", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: \r\n\r\n", want: 400},
	// Leading zeros are a valid number: normalised, the backend receives
	// Content-Length: 5.
	{name: "cl-leading-zeros", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 005\r\n\r\nhello", want: 200, to: "pub", path: "/public/x"},
	// A coding list ending in chunked: 501, as nginx answers an unknown
	// Transfer-Encoding.
	{name: "te-chunked-identity", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", want: 501},
	// An unknown coding that contains "chunked", with a Content-Length:
	// 501, as nginx (the coding is looked at first).
	{name: "te-xchunked", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello", want: 501},
	// Coding names are case-insensitive: normalised, forwarded as chunked
	// (or with a Content-Length).
	{name: "te-uppercase", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n", want: 200, to: "pub", path: "/public/x"},
	// Whitespace around the coding is optional whitespace: normalised,
	// forwarded as chunked.
	{name: "te-whitespace", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: \t chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n", want: 200, to: "pub", path: "/public/x"},
	// The identity coding alone: 501, as nginx answers any coding but
	// chunked.
	{name: "te-identity", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello", want: 501},
	// Chunked framing with bare LF line ends: normalised to CRLF.
	{name: "chunked-bare-lf", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", want: 200, to: "pub", path: "/public/x"},
	// A query escape is not checked, as nginx: forwarded as sent.
	{name: "query-bad-escape-kept", raw: "GET /public/q?a=%zz HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "pub", path: "/public/q?a=%zz"},
	// Two Transfer-Encoding headers: 400 (nginx: duplicate header).
	{name: "te-twice", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: 400},
	// Transfer-Encoding in an HTTP/1.0 request, a request hidden in the
	// chunked body: 400, as nginx.
	{name: "te-http10", raw: "POST /public/x HTTP/1.0\r\nHost: {host}\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /public/smuggled HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// A control character before the coding: 400.
	{name: "te-vertical-tab", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding:\x0bchunked\r\nContent-Length: 5\r\n\r\nhello", want: 400},
	// Obsolete line folding: 400.
	{name: "obs-fold", raw: "GET /public/x HTTP/1.1\r\nHost: {host}\r\nX-Folded: a\r\n b\r\n\r\n", want: 400},
	// Transfer-Encoding folded onto a continuation line: 400.
	{name: "obs-fold-te", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\nhello", want: 400},
	// Whitespace between a header name and its colon: 400.
	{name: "space-before-colon", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello", want: 400},
	// A control character in a header name: 400.
	{name: "name-control-char", raw: "GET /public/x HTTP/1.1\r\nHost: {host}\r\nX-\x01Foo: a\r\n\r\n", want: 400},
	// A separator in a header name: 400.
	{name: "name-separator", raw: "GET /public/x HTTP/1.1\r\nHost: {host}\r\nX(Foo): a\r\n\r\n", want: 400},
	// A header line without a colon: 400.
	{name: "name-no-colon", raw: "GET /public/x HTTP/1.1\r\nHost: {host}\r\nX-Foo\r\n\r\n", want: 400},
	// NUL in a header value: 400.
	{name: "value-nul", raw: "GET /public/x HTTP/1.1\r\nHost: {host}\r\nX-Foo: a\x00b\r\n\r\n", want: 400},
	// A bare CR inside a header value, hiding a second header line from
	// parsers that end lines at CR: 400.
	{name: "value-bare-cr", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nX-Foo: a\rContent-Length: 5\r\n\r\nhello", want: 400},
	// Another control character in a header value: 400.
	{name: "value-control-char", raw: "GET /public/x HTTP/1.1\r\nHost: {host}\r\nX-Foo: a\x1bb\r\n\r\n", want: 400},
	// Bare LF line ends: accepted, as nginx does; normalised, the backend
	// receives CRLF.
	{name: "bare-lf", raw: "POST /public/lf HTTP/1.1\nHost: {host}\nContent-Length: 5\n\nhello", want: 200, to: "pub", path: "/public/lf"},
	// Absolute form: the host comes from the target, the Host header is
	// replaced; normalised, the backend receives the origin form.
	{name: "absolute-form", raw: "GET http://{host}/public/abs?a=b HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n", want: 200, to: "pub", path: "/public/abs?a=b"},
	// An absolute form whose path escapes the route: normalised.
	{name: "absolute-form-dotdot", raw: "GET http://{host}/public/../admin/x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "adm", path: "/admin/x"},
	// The asterisk form: 400, for OPTIONS too, as nginx.
	{name: "asterisk-options", raw: "OPTIONS * HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// The asterisk form with another method: 400.
	{name: "asterisk-get", raw: "GET * HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// CONNECT is not proxied: 405, as nginx.
	{name: "connect", raw: "CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n", want: 405},
	// A dot-dot segment leaving /public: matched as /admin and forwarded
	// as the path that was matched.
	{name: "dotdot", raw: "GET /public/../admin/x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "adm", path: "/admin/x"},
	// An encoded dot-dot segment: decoded, then resolved like "..".
	{name: "dotdot-encoded", raw: "GET /public/%2e%2e/admin/x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "adm", path: "/admin/x"},
	// Encoded slashes around "..": decoded, then resolved.
	{name: "dotdot-encoded-slash", raw: "GET /public%2F..%2Fadmin/x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "adm", path: "/admin/x"},
	// The reverse trick: a path that matches /public only once decoded
	// must not reach /public's backend still spelling /admin.
	{name: "dotdot-into-public", raw: "GET /admin/..%2Fpublic/x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "pub", path: "/public/x"},
	// Duplicate slashes: merged before matching and forwarding.
	{name: "double-slash", raw: "GET //public//x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "pub", path: "/public/x"},
	// An encoded slash inside a segment, no dot segments: forwarded as
	// sent, as nginx does.
	{name: "encoded-slash-kept", raw: "GET /public/a%2Fb HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 200, to: "pub", path: "/public/a%2Fb"},
	// ".." above the root: 400, as nginx.
	{name: "dotdot-above-root", raw: "GET /../public/x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// An encoded NUL in the path: 400, as nginx.
	{name: "path-encoded-nul", raw: "GET /public/a%00b HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// A malformed percent escape: 400.
	{name: "path-bad-escape", raw: "GET /public/%zz HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// NUL in the request line: 400.
	{name: "request-line-nul", raw: "GET /public/x\x00 HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// Two spaces between method and target: 400 (nginx skips them).
	{name: "request-line-extra-space", raw: "GET  /public/x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// A space inside the target: 400.
	{name: "request-line-space-in-target", raw: "GET /public/a b HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// HTTP/0.9 (no version): 400; nginx would answer in HTTP/0.9.
	{name: "http09", raw: "GET /public/x\r\n\r\n", want: 400},
	// HTTP/2.0 on an HTTP/1 connection: 505.
	{name: "http20", raw: "GET /public/x HTTP/2.0\r\nHost: {host}\r\n\r\n", want: 505},
	// A lower-case protocol name: 400.
	{name: "version-lowercase", raw: "GET /public/x http/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// A method with a separator: 400.
	{name: "method-separator", raw: "G(T /public/x HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// Two Host headers: 400.
	{name: "host-twice", raw: "GET /public/x HTTP/1.1\r\nHost: {host}\r\nHost: other.test\r\n\r\n", want: 400},
	// A Host with a path in it: 400.
	{name: "host-slash", raw: "GET /public/x HTTP/1.1\r\nHost: {host}/admin\r\n\r\n", want: 400},
	// An HTTP/1.1 request without Host: 400.
	{name: "host-missing", raw: "GET /public/x HTTP/1.1\r\nX-Foo: a\r\n\r\n", want: 400},
	// A chunk size of 17 hex digits: 400.
	{name: "chunk-size-overflow", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n", want: 400},
	// A chunk size with trailing garbage: 400.
	{name: "chunk-size-garbage", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n", want: 400},
	// A control character in a chunk extension: 400.
	{name: "chunk-ext-control-char", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n", want: 400},
	// Chunk data not followed by CRLF, a request hidden after it: 400.
	{name: "chunk-missing-crlf", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\nGET /public/smuggled HTTP/1.1\r\nHost: {host}\r\n\r\n", want: 400},
	// The last chunk without the empty line that ends the body, then the
	// client goes quiet: nothing complete reaches the backend, and no
	// later bytes are taken for a request.
	{name: "chunk-missing-final-crlf", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", want: 0},
	// An invalid trailer field: 400.
	{name: "trailer-invalid", raw: "POST /public/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n", want: 400},
}

// smuggleRequest is one request the raw backend read.
type smuggleRequest struct {
	backend, method, target string
	raw                     []byte
	problems                []string
}

// smuggleRecorder collects what the raw backends read.
type smuggleRecorder struct {
	mu   sync.Mutex
	reqs []smuggleRequest
	// partial counts requests cut off before their end.
	partial int
}

func (r *smuggleRecorder) take() ([]smuggleRequest, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs, partial := r.reqs, r.partial
	r.reqs, r.partial = nil, 0
	return reqs, partial
}

// rawBackend listens on ip:8080 and reads requests with a strict parser
// of its own: every deviation from one well-formed, unambiguous HTTP/1.1
// message is recorded as a problem.
func rawBackend(t *testing.T, ip, name string, rec *smuggleRecorder) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, ok, err := readStrict(br)
					if err != nil {
						if ok {
							rec.mu.Lock()
							rec.partial++
							rec.mu.Unlock()
						}
						return
					}
					req.backend = name
					rec.mu.Lock()
					rec.reqs = append(rec.reqs, req)
					rec.mu.Unlock()
					if len(req.problems) > 0 {
						return // framing cannot be trusted
					}
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nX-Raw-Backend: %s\r\nContent-Length: 0\r\n\r\n", name)
				}
			}()
		}
	}()
}

// readStrict reads one request. started reports whether any byte of it
// arrived (an error after that is a cut-off request).
func readStrict(br *bufio.Reader) (req smuggleRequest, started bool, err error) {
	var raw bytes.Buffer
	problem := func(f string, a ...any) { req.problems = append(req.problems, fmt.Sprintf(f, a...)) }
	line := func() (string, error) {
		l, err := br.ReadString('\n')
		raw.WriteString(l)
		if err != nil {
			return "", err
		}
		if !strings.HasSuffix(l, "\r\n") {
			problem("line %q does not end in CRLF", l)
			return strings.TrimSuffix(l, "\n"), nil
		}
		l = strings.TrimSuffix(l, "\r\n")
		for _, c := range []byte(l) {
			if (c < ' ' && c != '\t') || c == 0x7f {
				problem("control character %#x in %q", c, l)
			}
		}
		return l, nil
	}
	first, err := line()
	if err != nil {
		return req, raw.Len() > 0, err
	}
	started = true
	parts := strings.Split(first, " ")
	if len(parts) != 3 || parts[2] != "HTTP/1.1" || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
		problem("request line %q", first)
	}
	if len(parts) > 1 {
		req.method, req.target = parts[0], parts[1]
	}
	var cls, tes []string
	hosts := 0
	for {
		l, err := line()
		if err != nil {
			return req, true, err
		}
		if l == "" {
			break
		}
		if l[0] == ' ' || l[0] == '\t' {
			problem("folded line %q", l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t()<>@,;\\\"/[]?={}") {
			problem("header line %q", l)
			continue
		}
		value = strings.Trim(value, " \t")
		switch strings.ToLower(name) {
		case "content-length":
			cls = append(cls, value)
		case "transfer-encoding":
			tes = append(tes, value)
		case "host":
			hosts++
		}
	}
	if hosts != 1 {
		problem("%d Host headers", hosts)
	}
	switch {
	case len(cls) > 0 && len(tes) > 0:
		problem("Content-Length %q and Transfer-Encoding %q", cls, tes)
	case len(cls) > 1:
		problem("Content-Length %q", cls)
	case len(tes) > 1 || len(tes) == 1 && tes[0] != "chunked":
		problem("Transfer-Encoding %q", tes)
	}
	if len(req.problems) > 0 {
		req.raw = raw.Bytes()
		return req, true, nil
	}
	switch {
	case len(cls) == 1:
		n, perr := strconv.ParseInt(cls[0], 10, 64)
		if perr != nil || n < 0 || cls[0] != strconv.FormatInt(n, 10) {
			problem("Content-Length %q", cls[0])
			break
		}
		if _, err := io.CopyN(&raw, br, n); err != nil {
			return req, true, err
		}
	case len(tes) == 1:
		for {
			l, err := line()
			if err != nil {
				return req, true, err
			}
			n, perr := strconv.ParseInt(l, 16, 64)
			if perr != nil || n < 0 || l != strconv.FormatInt(n, 16) {
				problem("chunk size line %q", l)
				break
			}
			if n == 0 {
				for {
					l, err := line()
					if err != nil {
						return req, true, err
					}
					if l == "" {
						break
					}
					if name, _, ok := strings.Cut(l, ":"); !ok || name == "" || strings.ContainsAny(name, " \t") {
						problem("trailer %q", l)
					}
				}
				break
			}
			if _, err := io.CopyN(&raw, br, n); err != nil {
				return req, true, err
			}
			if l, err := line(); err != nil {
				return req, true, err
			} else if l != "" {
				problem("chunk data followed by %q", l)
				break
			}
		}
	}
	req.raw = raw.Bytes()
	return req, true, nil
}

// smuggleSend writes raw on a fresh connection and returns the statuses
// of the responses read until the connection closes or stays quiet.
func smuggleSend(t *testing.T, dial func() (net.Conn, error), raw string) []int {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	// Wait long for the first response, then briefly for pipelined ones.
	var got []byte
	buf := make([]byte, 4096)
	deadline := 3 * time.Second
	for {
		_ = c.SetReadDeadline(time.Now().Add(deadline))
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
		deadline = 300 * time.Millisecond
	}
	var codes []int
	br := bufio.NewReader(bytes.NewReader(got))
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	return codes
}

// TestSmuggling sends malformed and ambiguous requests as raw bytes
// through both engines, the HTTP/1 engine on the plain port and the
// net/http handler over TLS and through a handed-over route, to raw
// backends that check every request they receive is one well-formed,
// unambiguous message with the normalised path, and that no request hidden
// behind an ambiguity arrives on its own.
func TestSmuggling(t *testing.T) {
	c := kubetest.Start(t)
	o := newObjects(t, c, "smuggle")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	rec := &smuggleRecorder{}
	rawBackend(t, "10.244.130.1", "pub", rec)
	rawBackend(t, "10.244.130.2", "adm", rec)
	o.service("pub")
	o.slice("pub", "10.244.130.1")
	o.service("adm")
	o.slice("adm", "10.244.130.2")
	// The same routes twice: plain, and with a cookie affinity that the
	// HTTP/1 engine hands over to the net/http handler.
	annIngress(o, "pub", "smuggle.test", "/public", "pub", nil, "")
	annIngress(o, "adm", "smuggle.test", "/admin", "adm", nil, "")
	full := annMap("affinity", "cookie")
	annIngress(o, "pub-full", "full.test", "/public", "pub", full, "")
	annIngress(o, "adm-full", "full.test", "/admin", "adm", full, "")
	s := startStrait(t, c)
	waitFor(t, 10*time.Second, "routes", func() bool {
		a, _ := s.get("smuggle.test", "/admin/ready")
		b, _ := s.get("full.test", "/public/ready")
		return a == 200 && b == 200
	})
	rec.take()

	// A run sends every case on its own connection. In the handoff run
	// a well-formed request goes first on the connection: the HTTP/1
	// engine hands the connection over with it, and the case itself is
	// read by the net/http side.
	type run struct {
		name   string
		host   string
		warmup bool
		dial   func() (net.Conn, error)
	}
	plain := func() (net.Conn, error) { return net.Dial("tcp", s.http) }
	runs := []run{
		{"h1", "smuggle.test", false, plain},
		{"handoff", "full.test", true, plain},
		{"tls", "smuggle.test", false, func() (net.Conn, error) {
			return tls.Dial("tcp", s.https, &tls.Config{ServerName: "smuggle.test", InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec // Strait's default certificate
		}},
	}
	const warmup = "GET /public/warmup HTTP/1.1\r\nHost: full.test\r\n\r\n"
	results := map[string][]string{}
	refused := 0 // refusals the malformed-request counter must show
	for _, rn := range runs {
		for _, tc := range smuggleCases {
			raw := strings.ReplaceAll(tc.raw, "{host}", rn.host)
			if rn.warmup {
				raw = warmup + raw
			}
			codes := smuggleSend(t, rn.dial, raw)
			time.Sleep(50 * time.Millisecond) // let a forwarded request land
			reqs, partial := rec.take()
			if rn.warmup {
				if len(codes) == 0 || codes[0] != 200 || len(reqs) == 0 || reqs[0].target != "/public/warmup" {
					t.Errorf("%s/%s: the request before the case got %v, backends %d requests", rn.name, tc.name, codes, len(reqs))
					continue
				}
				codes, reqs = codes[1:], reqs[1:]
			}
			want, to, path, n := tc.want, tc.to, tc.path, max(tc.requests, 1)
			got := 0
			if len(codes) > 0 {
				got = codes[0]
			}
			cell := fmt.Sprint(got)
			if got == 0 {
				cell = "closed"
			}
			if partial > 0 {
				cell += fmt.Sprintf(" (%d cut off)", partial)
			}
			results[tc.name] = append(results[tc.name], cell)
			if want != 200 && want != 0 {
				refused++
			}
			if got != want {
				t.Errorf("%s/%s: status %d (all %v), want %d", rn.name, tc.name, got, codes, want)
			}
			for _, r := range reqs {
				if len(r.problems) > 0 {
					t.Errorf("%s/%s: backend %s received a malformed request %q: %s", rn.name, tc.name, r.backend, r.raw, strings.Join(r.problems, "; "))
				}
				if strings.Contains(r.target, "smuggled") {
					t.Errorf("%s/%s: the hidden request reached backend %s: %q", rn.name, tc.name, r.backend, r.raw)
				}
			}
			switch {
			case to == "" && len(reqs) > 0:
				t.Errorf("%s/%s: want no request at any backend, got %d, first to %s: %q", rn.name, tc.name, len(reqs), reqs[0].backend, reqs[0].raw)
			case to != "" && len(reqs) != n:
				t.Errorf("%s/%s: backends received %d requests, want %d at %s", rn.name, tc.name, len(reqs), n, to)
			case to != "" && (reqs[0].backend != to || reqs[0].target != path):
				t.Errorf("%s/%s: backend %s received %q, want %s to receive %s", rn.name, tc.name, reqs[0].backend, reqs[0].target, to, path)
			}
		}
	}
	const metric = `strait_limit_triggered_total{limit="malformed"}`
	if got := s.metric(metric); got != float64(refused) {
		t.Errorf("%s = %v, want %d", metric, got, refused)
	}
	t.Logf("%-30s %-10s %-10s %-10s", "case", "h1", "handoff", "tls")
	for _, tc := range smuggleCases {
		r := results[tc.name]
		t.Logf("%-30s %-10s %-10s %-10s", tc.name, r[0], r[1], r[2])
	}
}
