package proxy

import (
	"bytes"
	"net/http"

	"github.com/straitgw/strait/internal/model"
)

// headerLimits are large-client-header-buffers as nginx applies them: the
// request line must fit one buffer (414 beyond), every header line must
// fit one buffer (400 beyond), and the whole head the buffers together
// (400 beyond).
type headerLimits struct {
	line int // one buffer
	head int // all buffers
}

// maxServerHeaderBytes is the net/http servers' own cap, above the largest
// large-client-header-buffers accepted (4m), so that the configured
// limits are the ones that apply.
const maxServerHeaderBytes = 5 << 20

func compileHeaderLimits(c *model.Client) headerLimits {
	l := headerLimits{line: 8 << 10, head: maxHeadBytes}
	if c.HeaderBufferBytes > 0 && c.HeaderBuffers > 0 {
		l.line = int(c.HeaderBufferBytes)
		l.head = int(c.HeaderBufferBytes) * c.HeaderBuffers
	}
	return l
}

// checkHead checks a request head read by the HTTP/1 engine: 0 when it
// fits, else the status to answer with.
func (l headerLimits) checkHead(buf []byte) int {
	if len(buf) <= l.line {
		return 0 // no line can be longer than the head
	}
	first := true
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			i = len(buf) - 1
		}
		if i+1 > l.line {
			if first {
				return http.StatusRequestURITooLong
			}
			return http.StatusBadRequest
		}
		buf, first = buf[i+1:], false
	}
	return 0
}

// tooLargeStatus is the answer to a head over the total limit: 414 when
// even the request line did not end within it.
func (l headerLimits) tooLargeStatus(buf, buffered []byte) int {
	line := bytes.IndexByte(buf, '\n')
	if line < 0 {
		if j := bytes.IndexByte(buffered, '\n'); j >= 0 {
			line = len(buf) + j
		}
	}
	if line < 0 || line+1 > l.line {
		return http.StatusRequestURITooLong
	}
	return http.StatusBadRequest
}

// checkRequest is checkHead for a request parsed by net/http, measuring
// the lines as they were sent (HTTP/1) or would be (HTTP/2).
func (l headerLimits) checkRequest(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if n > l.line {
		return http.StatusRequestURITooLong
	}
	total := n + len("Host: \r\n") + len(r.Host)
	for k, vv := range r.Header {
		for _, v := range vv {
			ln := len(k) + 2 + len(v) + 2
			if ln > l.line {
				return http.StatusBadRequest
			}
			total += ln
		}
	}
	if total+2 > l.head {
		return http.StatusBadRequest
	}
	return 0
}
