package proxy

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// upgrade proxies a protocol upgrade on a dedicated upstream connection and,
// after a 101, splices the two connections until either side ends. The
// client connection is never reused afterwards.
func (hc *h1conn) upgrade(rt *route, host, uri []byte) {
	p := hc.s.p
	var bc net.Conn
	for tries := 0; ; tries++ {
		ep := rt.backend.Pick()
		if ep == nil {
			hc.writeError(http.StatusServiceUnavailable, true, false)
			return
		}
		var err error
		if bc, err = ep.Dial(hc.to.Connect); err == nil {
			break
		}
		p.log.Warn("connect to upstream failed", "route", rt.name, "upstream", ep.Addr, "error", err)
		p.reportFailure(rt.backend, ep)
		if tries+1 >= maxTries || tries+1 >= len(rt.backend.Endpoints()) {
			hc.writeError(errorStatus(err), true, false)
			return
		}
	}
	br := bufio.NewReaderSize(bc, 4096)
	bw := bufio.NewWriterSize(bc, 4096)
	_ = bc.SetDeadline(time.Now().Add(hc.to.Read))
	hc.writeUpstreamHead(bw, host, uri, true)
	err := bw.Flush()
	if err == nil && (hc.req.contentLength > 0 || hc.req.chunked) {
		// Upgrade requests with bodies are unusual; refuse rather than
		// guess how the upstream frames them.
		_ = bc.Close()
		hc.writeError(http.StatusBadRequest, true, false)
		return
	}
	resp := &hc.resp
	if err == nil {
		for {
			resp.reset()
			if err = readHead(br, resp); err != nil {
				break
			}
			if err = parseResponse(resp); err != nil {
				break
			}
			if resp.status >= 200 || resp.status == http.StatusSwitchingProtocols {
				break
			}
		}
	}
	if err != nil {
		_ = bc.Close()
		p.log.Warn("upstream upgrade failed", "route", rt.name, "error", err)
		hc.writeError(errorStatus(err), true, false)
		return
	}
	if resp.status != http.StatusSwitchingProtocols {
		// Declined: relay the answer on the one-off connection, then close
		// the client connection as well.
		hc.req.close = true
		hc.relayOneOff(bc, br, rt)
		return
	}
	hc.logStatus(http.StatusSwitchingProtocols, 0)
	w := hc.bw
	w.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	for i := range resp.fields {
		f := &resp.fields[i]
		if !equalFold(f.name, "upgrade") && !equalFold(f.name, "connection") && skipResponseHeader(f.name) {
			continue
		}
		w.Write(f.name)
		w.WriteString(": ")
		w.Write(f.value)
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	if err := w.Flush(); err != nil {
		_ = bc.Close()
		return
	}
	_ = bc.SetDeadline(time.Time{})
	_ = hc.c.SetDeadline(time.Time{})
	tn := newTunnel(hc.c, bc, equalFold(hc.req.upgrade, "websocket"))
	p.tunnels.add(tn)
	defer p.tunnels.remove(tn)
	splice(tn, hc.br, br, hc.to)
}

// relayOneOff relays a response read from a connection that is not pooled.
func (hc *h1conn) relayOneOff(bc net.Conn, br *bufio.Reader, rt *route) {
	uc := hc.s.p.registry.Adopt(bc, br)
	hc.relay(uc, rt, bc.RemoteAddr().String())
	_ = uc.Close()
}
