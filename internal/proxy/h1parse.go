package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
)

// The HTTP/1.1 engine parses message heads itself, into slices of one
// reused buffer per connection, so that a request costs no header maps and
// few allocations. The parser is strict where leniency enables request
// smuggling: obsolete line folding, whitespace before a colon, conflicting
// Content-Length values, and Content-Length together with
// Transfer-Encoding are all rejected.

// maxHeadBytes bounds a message head by default: request line and headers
// together, ingress-nginx's large-client-header-buffers of 4 × 8k. A head's
// limit field overrides it (large-client-header-buffers for requests,
// proxy-buffer-size for responses).
const maxHeadBytes = 32 * 1024

// Errors that end a client connection with a status.
var (
	errHeadTooLarge   = errors.New("message head too large")
	errBadRequest     = errors.New("malformed request")
	errNotImplemented = errors.New("unsupported transfer coding")
	errVersion        = errors.New("unsupported HTTP version")
	errBadResponse    = errors.New("malformed upstream response")
)

// field is one header line, as slices of the head buffer.
type field struct {
	name, value []byte
}

// head is a parsed request or response head. Its slices point into buf,
// which is reused from message to message.
type head struct {
	buf    []byte
	fields []field

	// Request line, or status line for responses.
	method, uri []byte
	minor       int // HTTP/1.<minor>
	status      int
	reason      []byte

	// Framing and connection management, from the headers.
	contentLength int64 // -1 when absent
	chunked       bool
	close         bool // Connection: close, or HTTP/1.0 without keep-alive
	keepAlive     bool // Connection: keep-alive (matters for HTTP/1.0)
	upgrade       []byte
	connUpgrade   bool     // Connection lists "upgrade"
	connTokens    [][]byte // other Connection tokens: hop-by-hop names
	expect100     bool
	host          []byte
	hostCount     int
	// Request framing headers as received, checked once the whole head
	// is read (parseRequest): how many Content-Length and
	// Transfer-Encoding lines, and whether the Content-Length value and
	// the coding were acceptable.
	clCount, teCount int
	clBad, teBad     bool

	// limit is the largest head accepted; 0 means maxHeadBytes. reset
	// keeps it.
	limit int
}

func (h *head) reset() {
	h.buf = h.buf[:0]
	h.fields = h.fields[:0]
	h.method, h.uri, h.reason, h.upgrade, h.host = nil, nil, nil, nil, nil
	h.connTokens = h.connTokens[:0]
	h.minor, h.status, h.hostCount, h.clCount, h.teCount = 0, 0, 0, 0, 0
	h.clBad, h.teBad = false, false
	h.contentLength = -1
	h.chunked, h.close, h.keepAlive, h.expect100, h.connUpgrade = false, false, false, false, false
}

// readHead copies one message head (up to and including the empty line)
// from br into h.buf. Leading empty lines are skipped, as RFC 9112 allows
// between pipelined requests. Heads larger than br's buffer are gathered
// across several fills, up to h.limit.
func readHead(br *bufio.Reader, h *head) error {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return err
		}
		if b[0] != '\r' && b[0] != '\n' {
			break
		}
		_, _ = br.Discard(1)
	}
	h.buf = h.buf[:0]
	searched := 0
	limit := h.limit
	if limit <= 0 {
		limit = maxHeadBytes
	}
	for {
		buf, _ := br.Peek(br.Buffered())
		if len(h.buf) > 0 {
			// The end marker may straddle the previous fill and this one.
			tail := h.buf[max(0, len(h.buf)-2):]
			var probe [6]byte
			n := copy(probe[:], tail)
			n += copy(probe[n:], buf[:min(len(buf), 3)])
			if e := headEnd(probe[:n], 0); e > len(tail) {
				k := e - len(tail)
				h.buf = append(h.buf, buf[:k]...)
				_, _ = br.Discard(k)
				return nil
			}
		}
		if end := headEnd(buf, searched); end > 0 {
			if len(h.buf)+end > limit {
				return errHeadTooLarge
			}
			h.buf = append(h.buf, buf[:end]...)
			_, _ = br.Discard(end)
			return nil
		}
		if len(h.buf)+len(buf) >= limit {
			return errHeadTooLarge
		}
		if len(buf) == br.Size() {
			// The reader is full: move what it holds aside and go on.
			h.buf = append(h.buf, buf...)
			_, _ = br.Discard(len(buf))
			searched = 0
			buf = nil
		} else if len(buf) > 2 {
			searched = len(buf) - 2
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return err
		}
	}
}

// headEnd returns the length of the head in b (through its empty line), or
// 0 when b holds no complete head. Bare LF line ends are accepted.
func headEnd(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		i2 := bytes.IndexByte(b[i:], '\n')
		if i2 < 0 {
			return 0
		}
		i += i2
		// b[i] is '\n'; the head ends when the next line is empty.
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return 0
}

// nextLine splits off one line, without its CRLF or LF.
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// parseRequest parses h.buf as a request head.
func parseRequest(h *head) error {
	line, rest := nextLine(h.buf)
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errBadRequest
	}
	h.method = line[:sp1]
	line = line[sp1+1:]
	sp2 := bytes.IndexByte(line, ' ')
	if sp2 <= 0 {
		return errBadRequest
	}
	h.uri = line[:sp2]
	proto := line[sp2+1:]
	if len(proto) != 8 || string(proto[:5]) != "HTTP/" || proto[6] != '.' ||
		proto[5] < '0' || proto[5] > '9' || proto[7] < '0' || proto[7] > '9' {
		return errBadRequest
	}
	switch {
	case proto[5] >= '2':
		// HTTP/2.0 and later on an HTTP/1 connection: 505, as nginx.
		return errVersion
	case proto[5] == '0':
		return errBadRequest
	case proto[7] == '0':
		h.minor = 0
		h.close = true
	default:
		// HTTP/1.x from 1.1 on is spoken as 1.1 (RFC 9110 section 6.2).
		h.minor = 1
	}
	for _, c := range h.method {
		if !isTokenChar(c) {
			return errBadRequest
		}
	}
	query := false
	for i, c := range h.uri {
		switch {
		case c <= ' ' || c == 0x7f:
			return errBadRequest
		case c == '?':
			query = true
		case c == '%' && !query:
			// A malformed escape in the path: nginx refuses it.
			if i+2 >= len(h.uri) || !isHex(h.uri[i+1]) || !isHex(h.uri[i+2]) {
				return errBadRequest
			}
		}
	}
	if err := parseFields(h, rest, true); err != nil {
		return err
	}
	if h.hostCount > 1 || (h.minor == 1 && h.hostCount != 1) || (h.hostCount == 1 && !validHost(h.host)) {
		return errBadRequest
	}
	if err := h.checkFraming(); err != nil {
		return err
	}
	if h.keepAlive && h.minor == 0 {
		h.close = false
	}
	return nil
}

// checkFraming decides a request's body framing once all its headers are
// known, refusing every ambiguity as nginx does: a repeated
// Content-Length or Transfer-Encoding, a malformed length, and
// Transfer-Encoding with Content-Length or in HTTP/1.0 are 400; a coding
// other than "chunked" is 501.
func (h *head) checkFraming() error {
	if h.clCount > 1 || h.teCount > 1 || h.clBad {
		return errBadRequest
	}
	if h.teCount == 0 {
		return nil
	}
	if h.minor == 0 {
		return errBadRequest
	}
	if h.teBad {
		return errNotImplemented
	}
	if h.clCount > 0 {
		return errBadRequest
	}
	h.chunked = true
	return nil
}

// parseResponse parses h.buf as a response head.
func parseResponse(h *head) error {
	line, rest := nextLine(h.buf)
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return errBadResponse
	}
	switch line[7] {
	case '1':
		h.minor = 1
	case '0':
		h.minor = 0
		h.close = true
	default:
		return errBadResponse
	}
	code := line[9:12]
	if code[0] < '1' || code[0] > '5' || code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9' {
		return errBadResponse
	}
	h.status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	if len(line) > 12 {
		if line[12] != ' ' {
			return errBadResponse
		}
		h.reason = line[13:]
	}
	if err := parseFields(h, rest, false); err != nil {
		return errBadResponse
	}
	if h.keepAlive && h.minor == 0 {
		h.close = false
	}
	return nil
}

// parseFields parses header lines and records what framing and connection
// management need.
func parseFields(h *head, b []byte, request bool) error {
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errBadRequest // obsolete line folding
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return errBadRequest
		}
		name := line[:colon]
		for _, c := range name {
			if !isTokenChar(c) {
				return errBadRequest
			}
		}
		value := trimOWS(line[colon+1:])
		for _, c := range value {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return errBadRequest
			}
		}
		h.fields = append(h.fields, field{name, value})
		if err := h.special(name, value, request); err != nil {
			return err
		}
	}
	return nil
}

// special records the headers that decide framing and connection reuse.
func (h *head) special(name, value []byte, request bool) error {
	switch len(name) {
	case 4:
		if request && equalFold(name, "host") {
			h.host = value
			h.hostCount++
		}
	case 6:
		if request && equalFold(name, "expect") && equalFold(value, "100-continue") {
			h.expect100 = true
		}
	case 7:
		if equalFold(name, "upgrade") {
			h.upgrade = value
		}
	case 10:
		if equalFold(name, "connection") {
			forEachToken(value, func(tok []byte) {
				switch {
				case equalFold(tok, "close"):
					h.close = true
				case equalFold(tok, "keep-alive"):
					h.keepAlive = true
				case equalFold(tok, "upgrade"):
					h.connUpgrade = true
				default:
					h.connTokens = append(h.connTokens, tok)
				}
			})
		}
	case 14:
		if equalFold(name, "content-length") {
			n, ok := parseContentLength(value)
			if request {
				h.clCount++
				h.clBad = h.clBad || !ok
				h.contentLength = n
				return nil
			}
			if !ok || (h.contentLength >= 0 && h.contentLength != n) {
				return errBadRequest
			}
			h.contentLength = n
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			if request {
				h.teCount++
				h.teBad = !equalFold(value, "chunked")
				return nil
			}
			if h.chunked || !equalFold(value, "chunked") {
				// Only a single "chunked" is understood; anything else
				// could be framed differently by the upstream.
				return errNotImplemented
			}
			h.chunked = true
		}
	}
	if h.chunked && h.contentLength >= 0 {
		return errBadRequest
	}
	return nil
}

func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func forEachToken(v []byte, f func([]byte)) {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		var tok []byte
		if i < 0 {
			tok, v = v, nil
		} else {
			tok, v = v[:i], v[i+1:]
		}
		if tok = trimOWS(tok); len(tok) > 0 {
			f(tok)
		}
	}
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold compares ASCII case-insensitively; s must be lower case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	return tokenTable[c]
}

var tokenTable = charTable("!#$%&'*+-.^_`|~")

// charTable marks ASCII letters, digits and the given punctuation.
func charTable(punct string) (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range punct {
		t[c] = true
	}
	return t
}

// appendInt appends n in decimal.
func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// value returns the first value of the named header (name in lower case),
// as a string, or "".
func (h *head) value(name string) string {
	for i := range h.fields {
		if equalFold(h.fields[i].name, name) {
			return string(h.fields[i].value)
		}
	}
	return ""
}

// validHost reports whether a Host value (or the authority of an
// absolute-form target) is a host name or address with an optional port:
// RFC 3986 reg-name, IP-literal and port characters only, and no ".."
// (nginx refuses that as well, as it would walk up a path built from the
// host).
func validHost(h []byte) bool {
	if len(h) == 0 || bytes.Contains(h, []byte("..")) {
		return false
	}
	for _, c := range h {
		if !hostTable[c] {
			return false
		}
	}
	return true
}

var hostTable = charTable("-._~%!$&'()*+,;=:[]")
