package proxy

import (
	"math/rand/v2"
	"net/http"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// Gateway API RequestMirror: a copy of the request, as it is sent
// upstream (after the rule's header filters and URL rewrite), goes to one
// endpoint of each mirror backend, with the machinery of mirror-target
// (mirror.go): the body read once, up to maxMirrorBody, the answer
// discarded, the client's answer never waiting for it.

// gwMirror is a compiled model.GatewayMirror.
type gwMirror struct {
	backend *upstream.Backend
	// numerator out of denominator requests are mirrored.
	numerator, denominator int32
}

// compileMirrors leaves out mirrors whose backend is missing (translate
// guarantees it exists).
func compileMirrors(ms []model.GatewayMirror, backends map[string]*upstream.Backend) []gwMirror {
	var out []gwMirror
	for _, m := range ms {
		if b := backends[m.Backend]; b != nil && m.Numerator > 0 && m.Denominator >= m.Numerator {
			out = append(out, gwMirror{backend: b, numerator: m.Numerator, denominator: m.Denominator})
		}
	}
	return out
}

// mirrorGateway sends r's copies; host is the Host they carry.
func (p *Proxy) mirrorGateway(ms []gwMirror, r *http.Request, host string, rt *route) {
	var body []byte
	read := false
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = r.URL.RequestURI()
	}
	for i := range ms {
		m := &ms[i]
		if m.numerator < m.denominator && rand.Int32N(m.denominator) >= m.numerator {
			continue
		}
		ep := m.backend.Pick()
		if ep == nil {
			continue
		}
		if !read {
			body, read = mirrorBody(r), true
		}
		var tr http.RoundTripper = p.mirrors.Transport
		if h2 := m.backend.HTTP2(); h2 != nil {
			tr = h2
		}
		mr, cancel, err := mirrorRequest(r, "http://"+ep.Addr+uri, body, rt.timeouts.Read)
		if err != nil {
			p.log.Warn("mirror request failed", "route", rt.name, "upstream", ep.Addr, "error", err)
			continue
		}
		mr.Host = host
		p.sendMirror(tr, mr, cancel)
	}
}
