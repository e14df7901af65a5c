package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/internal/proxy/upstream"
)

// upgradeType returns the protocol an HTTP/1.1 request asks to upgrade to,
// or "" when it asks for none.
func upgradeType(r *http.Request) string {
	if r.ProtoMajor != 1 {
		return ""
	}
	up := r.Header.Get("Upgrade")
	if up == "" {
		return ""
	}
	for _, v := range r.Header["Connection"] {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return up
			}
		}
	}
	return ""
}

// upgradeAsked reports whether an HTTP/1 request lists "upgrade" in
// Connection, whatever its Upgrade header says.
func upgradeAsked(r *http.Request) bool {
	if r.ProtoMajor != 1 {
		return false
	}
	for _, v := range r.Header["Connection"] {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// tunnels tracks upgraded connections so that shutdown can close them.
type tunnels struct {
	mu    sync.Mutex
	conns map[*tunnel]struct{}
	// ended is signalled when the last tunnel ends. (A WaitGroup would
	// race: tunnels open while a drain already waits.)
	ended sync.Cond
}

type tunnel struct {
	client, backend net.Conn
	// ws marks a WebSocket: at shutdown it ends with a close frame.
	ws bool
	// goingAway asks the backend-to-client copy to end at the next frame
	// boundary with a close frame (tunnelclose.go).
	goingAway atomic.Bool
	// ended is closed when the backend-to-client copy has stopped.
	ended chan struct{}
}

func newTunnel(client, backend net.Conn, ws bool) *tunnel {
	return &tunnel{client: client, backend: backend, ws: ws, ended: make(chan struct{})}
}

func (t *tunnels) add(tn *tunnel) {
	t.mu.Lock()
	if t.conns == nil {
		t.conns = map[*tunnel]struct{}{}
	}
	t.conns[tn] = struct{}{}
	t.mu.Unlock()
}

func (t *tunnels) remove(tn *tunnel) {
	t.mu.Lock()
	delete(t.conns, tn)
	if len(t.conns) == 0 && t.ended.L != nil {
		t.ended.Broadcast()
	}
	t.mu.Unlock()
}

// wait returns once no tunnel is open.
func (t *tunnels) wait() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended.L == nil {
		t.ended.L = &t.mu
	}
	for len(t.conns) > 0 {
		t.ended.Wait()
	}
}

// count returns the number of open upgraded connections.
func (t *tunnels) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// upgrade proxies a protocol upgrade (WebSocket and the like) on its own
// upstream connection. After a 101 the two connections are spliced until
// either side closes or stays idle longer than the read timeout. The tunnel
// holds no reference to the routing generation, so swaps never touch it.
func (p *Proxy) upgrade(w http.ResponseWriter, r *http.Request, rt *route, li *listenerInfo, proto string, tg target) {
	var (
		bc  net.Conn
		err error
	)
	remote := clientIP(r.RemoteAddr)
	if tg.fo != nil {
		remote = tg.fo.client
	}
	sel := newSelection(rt.backend, r, remote)
	for tries := 0; ; tries++ {
		ep := sel.next()
		if ep == nil {
			plainError(w, http.StatusServiceUnavailable)
			return
		}
		if bc, err = ep.Dial(rt.timeouts.Connect); err == nil {
			break
		}
		p.log.Warn("connect to upstream failed", "route", rt.name, "upstream", ep.Addr, "error", err)
		p.reportFailure(rt.backend, ep)
		if tries+1 >= maxTries || tries+1 >= len(rt.backend.Endpoints()) {
			plainError(w, errorStatus(err))
			return
		}
	}
	br := bufio.NewReader(bc)
	bw := bufio.NewWriter(bc)
	_ = bc.SetDeadline(time.Now().Add(rt.timeouts.Read))
	writeRequestHead(bw, r, li, proto, tg)
	err = bw.Flush()
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(br, r)
	}
	if err != nil {
		_ = bc.Close()
		p.log.Warn("upstream upgrade failed", "route", rt.name, "error", err)
		plainError(w, errorStatus(err))
		return
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// The upstream declined; relay its answer and drop the connection.
		resp.Close = true
		p.respond(w, r, closeOnly{Conn: bc, dl: &upstream.Deadline{}}, resp, rt, bc.RemoteAddr().String())
		return
	}
	cc, cbuf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = bc.Close()
		plainError(w, http.StatusInternalServerError)
		return
	}
	_ = bc.SetDeadline(time.Time{})
	_ = cc.SetDeadline(time.Time{})
	// Relay the 101 as the upstream sent it, minus what only concerned the
	// upstream connection.
	cbuf.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	for k, vv := range resp.Header {
		if k == "Upgrade" || k == "Connection" || !skipResponseHeader(k) {
			for _, v := range vv {
				writeHeader(cbuf.Writer, k, v)
			}
		}
	}
	cbuf.WriteString("\r\n")
	if err := cbuf.Flush(); err != nil {
		_ = cc.Close()
		_ = bc.Close()
		return
	}
	tn := newTunnel(cc, bc, strings.EqualFold(proto, "websocket"))
	p.tunnels.add(tn)
	defer p.tunnels.remove(tn)
	splice(tn, cbuf.Reader, br, rt.timeouts)
}

// splice copies both ways until one side ends, then closes both. A
// WebSocket told to go away (tunnelclose.go) first sends the client a close
// frame and gives it a moment to answer before both are closed.
func splice(tn *tunnel, clientBuf, backendBuf *bufio.Reader, to Timeouts) {
	up := make(chan struct{})
	go func() {
		copyIdle(tn.backend, tn.client, clientBuf, to)
		close(up)
	}()
	go func() {
		defer close(tn.ended)
		if tn.ws {
			copyFrames(tn, backendBuf, to)
		} else {
			copyIdle(tn.client, tn.backend, backendBuf, to)
		}
	}()
	select {
	case <-up:
	case <-tn.ended:
		if tn.goingAway.Load() {
			// The close frame is out; the client's close frame (relayed to
			// the backend) and its FIN end the other direction.
			select {
			case <-up:
			case <-time.After(closeReplyWait):
			}
		}
	}
	_ = tn.client.Close()
	_ = tn.backend.Close()
	<-up
	<-tn.ended
}

// copyIdle copies from src (reading through its buffered reader first) to
// dst, ending when src stays silent for longer than the read timeout, as
// nginx's proxy_read_timeout does for upgraded connections.
func copyIdle(dst net.Conn, src net.Conn, srcBuf *bufio.Reader, to Timeouts) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var rdl, wdl upstream.Deadline
	for {
		rdl.Extend(time.Now(), to.Read, src.SetReadDeadline)
		n, err := srcBuf.Read(buf)
		if n > 0 {
			wdl.Extend(time.Now(), to.Send, dst.SetWriteDeadline)
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			if tc, ok := dst.(closeWriter); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}
