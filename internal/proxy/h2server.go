package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Strait's HTTP/2 server (RFC 9113), for the TLS listeners. Profiles of
// golang.org/x/net/http2's server under load showed a quarter of the CPU
// in its machinery rather than in HTTP/2: a goroutine per stream started
// cold (stack growth), and every frame a message between the reader, the
// connection's serving goroutine and the stream's handler (channels and
// select). Here the connection's goroutine reads frames and acts on them
// itself, under one mutex; a stream's handler runs on a reused goroutine
// and writes its frames into the connection's output directly, under the
// same mutex; one writer goroutine at a time hands the output to TLS, so
// that frames of many streams leave in one record and one system call, as
// nginx sends them. Frames are read and written by x/net's Framer and
// header blocks coded by its hpack package, which validate what they
// parse. The handler is the same http.Handler as for HTTP/1.

// HTTP/2 sizes Strait announces and uses.
const (
	// h2StreamWindow is each stream's receive window: request body bytes
	// a client may send before the handler reads them.
	h2StreamWindow = 256 << 10
	// h2ConnWindow is the connection's receive window.
	h2ConnWindow = 1 << 20
	// h2InitialWindow is the protocol's initial window, for both ends.
	h2InitialWindow = 65535
	// h2MaxWindow is the largest flow-control window the protocol allows.
	h2MaxWindow = 1<<31 - 1
	// h2DefaultFrame is the frame size every peer accepts.
	h2DefaultFrame = 16384
	// h2BodyChunk is how many response bytes a stream gathers before it
	// frames them; a smaller response leaves with its headers.
	h2BodyChunk = 16 << 10
	// h2OutMax bounds the bytes a connection holds unwritten; writers
	// wait beyond it.
	h2OutMax = 256 << 10
	// h2PrefaceTimeout bounds the wait for the client's preface.
	h2PrefaceTimeout = 10 * time.Second
	// h2CloseWait bounds how long a closing connection waits for its
	// last frames to be written, and for the client to close after them.
	h2CloseWait = time.Second
	// h2WorkerIdle is how long a stream goroutine waits for its next
	// stream before it ends.
	h2WorkerIdle = 30 * time.Second
)

// errH2Closed is what a stream's reads and writes return once its
// connection is gone.
var errH2Closed = errors.New("http2: connection closed")

// errH2Reset is what a stream's reads and writes return once the stream
// was reset.
var errH2Reset = errors.New("http2: stream reset")

// h2conn is one HTTP/2 connection.
type h2conn struct {
	p     *Proxy
	hs    *http.Server
	h     http.Handler
	tc    *tls.Conn
	guard *h2Guard // the connection as read, and as ConnState knows it
	// ctx carries the connection's values (server, addresses, request
	// counter), without its cancellation: each stream's context is
	// cancelled by the connection itself, which spares every stream a
	// registration with the parent.
	ctx      context.Context
	tlsState *tls.ConnectionState // shared by the connection's requests
	remote   string
	br       *bufio.Reader // the connection's reads, for the Framer and the preface
	fr       *http2.Framer // read by serve only; written under mu
	streams  uint32        // SETTINGS_MAX_CONCURRENT_STREAMS
	maxList  uint32        // SETTINGS_MAX_HEADER_LIST_SIZE

	mu   sync.Mutex
	cond sync.Cond // writers wait on it: window, output room, resets, deadlines
	out  []byte    // frames not yet handed to TLS
	outp *[]byte   // out's pooled buffer
	busy bool      // a writer goroutine is running
	// closing: once out is written, the connection closes its side.
	closing bool
	werr    error // the first write error; every later write fails with it
	henc    *hpack.Encoder
	hbuf    bytes.Buffer
	open    map[uint32]*h2stream
	maxID   uint32 // the highest stream the client opened
	goAway  bool   // GOAWAY sent: no new streams
	running int    // handlers not yet returned, reset streams' included
	// Flow control. sendWindow is the connection's window for DATA to
	// the client; peerWindow the client's initial stream window;
	// recvWindow what the client may still send on the connection, and
	// recvUnacked what was consumed and not yet given back.
	sendWindow  int64
	peerWindow  int64
	peerFrame   int
	recvWindow  int64
	recvUnacked int64
	// date is the Date header of the current second.
	date    []string
	dateSec int64

	stateMu sync.Mutex
	idle    bool // what ConnState was last told
	ended   bool // the connection is closed: ConnState is told no more
}

// serveH2 serves one HTTP/2 connection until it ends. net/http calls it
// (TLSNextProto) once the TLS handshake chose h2.
func (p *Proxy) serveH2(hs *http.Server, tc *tls.Conn, h http.Handler, reg *h2Conns) {
	g := p.gen.Load()
	ctx := context.Background()
	if bc, ok := h.(interface{ BaseContext() context.Context }); ok {
		ctx = bc.BaseContext()
	}
	st := tc.ConnectionState()
	c := &h2conn{p: p, hs: hs, h: h, tc: tc, guard: p.guardH2(tc, g),
		ctx: context.WithoutCancel(ctx), tlsState: &st, remote: tc.RemoteAddr().String(),
		streams: g.h2Streams, maxList: headerListLimit(hs),
		open: map[uint32]*h2stream{}, sendWindow: h2InitialWindow, peerWindow: h2InitialWindow,
		peerFrame: h2DefaultFrame, recvWindow: h2ConnWindow, idle: false}
	c.cond.L = &c.mu
	c.br = bufio.NewReaderSize(c.guard, 16<<10)
	c.fr = http2.NewFramer(h2Out{c}, c.br)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = c.maxList
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(h2DefaultFrame) // SETTINGS_MAX_FRAME_SIZE is not raised
	c.henc = hpack.NewEncoder(&c.hbuf)
	if !reg.add(c) {
		_ = tc.Close() // the server is shutting down
		return
	}
	defer reg.remove(c)
	c.serve()
}

// headerListLimit is SETTINGS_MAX_HEADER_LIST_SIZE: the server's header
// limit (net/http's default when it sets none), plus HPACK's 32 bytes of
// accounting for some fields. The guard bounds the encoded block well
// below it; the decoded list is larger when fields repeat indexed ones.
func headerListLimit(hs *http.Server) uint32 {
	n := hs.MaxHeaderBytes
	if n <= 0 {
		n = http.DefaultMaxHeaderBytes
	}
	return uint32(n + 32*10)
}

// h2Out is the Framer's writer: it appends to the connection's output.
// Its callers hold c.mu and call c.kick when their frames are in.
type h2Out struct{ c *h2conn }

func (o h2Out) Write(b []byte) (int, error) {
	c := o.c
	if c.outp == nil {
		c.outp = c.p.h2Bufs.Get().(*[]byte)
		c.out = (*c.outp)[:0]
	}
	c.out = append(c.out, b...)
	return len(b), nil
}

// kick starts the writer goroutine for what is queued. mu is held.
func (c *h2conn) kick() {
	if !c.busy && (len(c.out) > 0 || c.closing) {
		c.busy = true
		go c.flush()
	}
}

// flush writes the output, again and again until nothing is queued.
func (c *h2conn) flush() {
	// A new goroutine runs before those already runnable; yielding once
	// lets the streams whose upstream answered meanwhile add their frames
	// first, so that one record carries them all.
	runtime.Gosched()
	c.mu.Lock()
	for len(c.out) > 0 && c.werr == nil {
		b, bp := c.out, c.outp
		c.out, c.outp = nil, nil
		c.mu.Unlock()
		_, err := c.tc.Write(b)
		*bp = b[:0] // a grown buffer goes back grown
		c.p.h2Bufs.Put(bp)
		c.mu.Lock()
		if err != nil && c.werr == nil {
			c.werr = err
		}
		c.cond.Broadcast() // room for waiting writers
	}
	c.busy = false
	closing := c.closing
	c.cond.Broadcast()
	c.mu.Unlock()
	if closing {
		// Close our side once the last frames are out (a GOAWAY among
		// them), and give the client a moment to close its own: closing
		// with its frames unread would reset the connection and could
		// destroy the responses it has not read yet.
		_ = c.tc.CloseWrite()
		_ = c.tc.SetReadDeadline(time.Now().Add(h2CloseWait))
	}
}

// serve reads the client's frames and acts on them until the connection
// ends.
func (c *h2conn) serve() {
	defer c.teardown()
	c.mu.Lock()
	_ = c.fr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: c.streams},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: c.maxList})
	_ = c.fr.WriteWindowUpdate(0, h2ConnWindow-h2InitialWindow)
	c.kick()
	c.mu.Unlock()
	c.setIdle(true)

	_ = c.tc.SetReadDeadline(time.Now().Add(h2PrefaceTimeout))
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c.br, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	first := true
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			if c.readError(err) {
				continue
			}
			return
		}
		if first {
			// The preface ends with the client's SETTINGS.
			if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
				c.fail(http2.ErrCodeProtocol)
				return
			}
			first = false
			_ = c.tc.SetReadDeadline(time.Time{})
		}
		if err := c.process(f); err != nil {
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				c.fail(http2.ErrCode(ce))
			}
			return
		}
	}
}

// readError handles a frame that could not be read. It reports whether
// the connection goes on.
func (c *h2conn) readError(err error) bool {
	var se http2.StreamError
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &se):
		// A malformed header block or frame of one stream: the stream
		// fails, the connection goes on (its HPACK state is intact).
		c.mu.Lock()
		if se.StreamID > c.maxID && se.StreamID%2 == 1 {
			c.maxID = se.StreamID
		}
		if st := c.open[se.StreamID]; st != nil {
			c.resetLocked(st, se.Code)
		} else {
			_ = c.fr.WriteRSTStream(se.StreamID, se.Code)
			c.kick()
		}
		c.mu.Unlock()
		c.updateIdle()
		return true
	case errors.As(err, &ce):
		if http2.ErrCode(ce) == http2.ErrCodeEnhanceYourCalm {
			// The frame guard's refusal, counted there.
			c.fail(http2.ErrCodeEnhanceYourCalm)
		} else {
			c.fail(http2.ErrCode(ce))
		}
	case errors.Is(err, http2.ErrFrameTooLarge):
		c.fail(http2.ErrCodeFrameSize)
	}
	return false
}

// fail ends the connection with GOAWAY code.
func (c *h2conn) fail(code http2.ErrCode) {
	c.mu.Lock()
	if !c.goAway {
		c.goAway = true
		_ = c.fr.WriteGoAway(c.maxID, code, nil)
	}
	c.closing = true
	c.kick()
	c.mu.Unlock()
}

// teardown ends what is left once the reading stops: the last frames are
// written (for a moment at most), every stream is cancelled and the
// connection closed.
func (c *h2conn) teardown() {
	c.stateMu.Lock()
	c.ended = true // net/http reports the close itself
	c.stateMu.Unlock()
	c.mu.Lock()
	c.closing = true
	c.kick()
	if c.busy {
		t := time.AfterFunc(h2CloseWait, func() { _ = c.tc.Close() })
		for c.busy {
			c.cond.Wait()
		}
		t.Stop()
	}
	if c.werr == nil {
		c.werr = errH2Closed
	}
	streams := make([]*h2stream, 0, len(c.open))
	for _, st := range c.open {
		streams = append(streams, st)
	}
	for _, st := range streams {
		st.gone = true
		delete(c.open, st.id)
		st.bodyCond.Broadcast()
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	for _, st := range streams {
		st.cancel()
	}
	_ = c.tc.Close()
}

// process acts on one frame; an error ends the connection (a
// ConnectionError with its GOAWAY).
func (c *h2conn) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		return c.onHeaders(f)
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			c.mu.Lock()
			_ = c.fr.WritePing(true, f.Data)
			c.kick()
			c.mu.Unlock()
		}
	case *http2.RSTStreamFrame:
		return c.onReset(f)
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			// A stream cannot depend on itself (RFC 9113, 5.3.1).
			c.mu.Lock()
			_ = c.fr.WriteRSTStream(f.StreamID, http2.ErrCodeProtocol)
			c.kick()
			c.mu.Unlock()
		}
	case *http2.GoAwayFrame:
		// The client opens no more streams: finish those open, then
		// close.
		c.mu.Lock()
		c.goAwayLocked(http2.ErrCodeNo)
		c.mu.Unlock()
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	// Other frame types are extensions: ignored (RFC 9113, 5.5).
	return nil
}

// goAwayLocked starts a graceful end: GOAWAY names the last stream
// served, and the connection closes once the open streams are done.
func (c *h2conn) goAwayLocked(code http2.ErrCode) {
	if c.goAway {
		return
	}
	c.goAway = true
	_ = c.fr.WriteGoAway(c.maxID, code, nil)
	if len(c.open) == 0 {
		c.closing = true
	}
	c.kick()
}

// GracefulStop sends GOAWAY; the connection closes once its streams end.
func (c *h2conn) GracefulStop() {
	c.mu.Lock()
	c.goAwayLocked(http2.ErrCodeNo)
	c.mu.Unlock()
}

func (c *h2conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			// A change of the initial window moves every open stream's
			// window by the difference (RFC 9113, 6.9.2).
			delta := int64(s.Val) - c.peerWindow
			c.peerWindow = int64(s.Val)
			for _, st := range c.open {
				st.sendWindow += delta
				if st.sendWindow > h2MaxWindow {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
		case http2.SettingMaxFrameSize:
			c.peerFrame = int(s.Val)
		case http2.SettingHeaderTableSize:
			c.henc.SetMaxDynamicTableSizeLimit(s.Val)
		}
		return nil
	})
	if err != nil {
		return err
	}
	_ = c.fr.WriteSettingsAck()
	c.kick()
	c.cond.Broadcast()
	return nil
}

func (c *h2conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.StreamID == 0 {
		c.sendWindow += int64(f.Increment)
		if c.sendWindow > h2MaxWindow {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
	} else if st := c.open[f.StreamID]; st != nil {
		st.sendWindow += int64(f.Increment)
		if st.sendWindow > h2MaxWindow {
			c.resetLocked(st, http2.ErrCodeFlowControl)
		}
	} else if f.StreamID > c.maxID {
		return http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream
	}
	c.cond.Broadcast()
	return nil
}

func (c *h2conn) onReset(f *http2.RSTStreamFrame) error {
	c.mu.Lock()
	if f.StreamID > c.maxID {
		c.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream
	}
	st := c.open[f.StreamID]
	if st != nil {
		st.gone = true
		c.closeLocked(st)
	}
	c.mu.Unlock()
	if st != nil {
		st.cancel()
		c.updateIdle()
	}
	return nil
}

// resetLocked ends st with RST_STREAM code.
func (c *h2conn) resetLocked(st *h2stream, code http2.ErrCode) {
	if !st.gone {
		_ = c.fr.WriteRSTStream(st.id, code)
		c.kick()
	}
	st.gone = true
	c.closeLocked(st)
	// The handler learns it from its context; cancelling takes no lock
	// of ours, so it may run here.
	st.cancel()
}

// closeLocked takes st out of the open streams and wakes whoever waits
// on it.
func (c *h2conn) closeLocked(st *h2stream) {
	if c.open[st.id] == st {
		delete(c.open, st.id)
	}
	if n := len(st.body); n > 0 {
		// Body bytes nobody will read: the connection's window gets them
		// back.
		c.consumedLocked(nil, int64(n))
	}
	st.body, st.bodyBase = nil, nil
	if c.goAway && len(c.open) == 0 {
		c.closing = true
		c.kick()
	}
	st.bodyCond.Broadcast()
	c.cond.Broadcast()
}

// onData takes a DATA frame: its bytes count against both receive
// windows and go to the stream's body.
func (c *h2conn) onData(f *http2.DataFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := int64(f.Length) // padding included
	if n > c.recvWindow {
		return http2.ConnectionError(http2.ErrCodeFlowControl)
	}
	c.recvWindow -= n
	st := c.open[f.StreamID]
	if st == nil || st.remoteDone || st.gone {
		// Nobody reads these bytes: the connection's window is given
		// back at once.
		c.consumedLocked(nil, n)
		if st == nil && f.StreamID > c.maxID {
			return http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream
		}
		if st != nil {
			c.resetLocked(st, http2.ErrCodeStreamClosed)
		} else {
			_ = c.fr.WriteRSTStream(f.StreamID, http2.ErrCodeStreamClosed)
		}
		c.kick()
		return nil
	}
	if st.bodyClosed {
		// The handler wants no more of the body.
		c.consumedLocked(nil, n)
		st.remoteDone = st.remoteDone || f.StreamEnded()
		return nil
	}
	if n > st.recvWindow {
		c.consumedLocked(nil, n)
		c.resetLocked(st, http2.ErrCodeFlowControl)
		return nil
	}
	st.recvWindow -= n
	data := f.Data()
	if pad := n - int64(len(data)); pad > 0 {
		c.consumedLocked(st, pad)
	}
	st.recvd += int64(len(data))
	if st.declLen >= 0 && (st.recvd > st.declLen || f.StreamEnded() && st.recvd != st.declLen) {
		// The body disagrees with its Content-Length: a malformed
		// request (RFC 9113, 8.1.1).
		c.consumedLocked(nil, int64(len(data)))
		c.resetLocked(st, http2.ErrCodeProtocol)
		return nil
	}
	st.appendBody(data)
	if f.StreamEnded() {
		st.remoteDone = true
	}
	st.bodyCond.Broadcast()
	return nil
}

// consumedLocked gives n received bytes back to the client's windows,
// the connection's and, unless st is nil, the stream's; WINDOW_UPDATE
// goes out once half a window is due, so that a body read in small
// pieces costs few frames.
func (c *h2conn) consumedLocked(st *h2stream, n int64) {
	c.recvUnacked += n
	if c.recvUnacked >= h2ConnWindow/2 {
		_ = c.fr.WriteWindowUpdate(0, uint32(c.recvUnacked))
		c.recvWindow += c.recvUnacked
		c.recvUnacked = 0
		c.kick()
	}
	if st == nil || st.remoteDone || st.gone {
		return
	}
	st.recvUnacked += n
	if st.recvUnacked >= h2StreamWindow/2 {
		_ = c.fr.WriteWindowUpdate(st.id, uint32(st.recvUnacked))
		st.recvWindow += st.recvUnacked
		st.recvUnacked = 0
		c.kick()
	}
}

// onHeaders takes a header block: a new stream's request, or the
// trailers of an open one.
func (c *h2conn) onHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	c.mu.Lock()
	if st := c.open[id]; st != nil {
		defer c.mu.Unlock()
		return c.trailersLocked(st, f)
	}
	if id <= c.maxID {
		c.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	c.maxID = id
	if c.goAway {
		// Past the last stream GOAWAY named: ignored (RFC 9113, 6.8).
		c.mu.Unlock()
		return nil
	}
	if len(c.open) >= int(c.streams) {
		c.p.stats.limitHit(LimitH2Streams)
		_ = c.fr.WriteRSTStream(id, http2.ErrCodeRefusedStream)
		c.kick()
		c.mu.Unlock()
		return nil
	}
	if c.running >= 4*int(c.streams) {
		// Handlers of streams the client reset are still running: a
		// client resetting streams as fast as it opens them must not
		// pile up work behind the streams limit.
		c.p.stats.limitHit(LimitH2RapidReset)
		c.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
	}
	c.mu.Unlock()

	st := c.newStream(id)
	if code := st.request(f); code != http2.ErrCodeNo {
		st.cancel()
		c.mu.Lock()
		_ = c.fr.WriteRSTStream(id, code)
		c.kick()
		c.mu.Unlock()
		return nil
	}
	c.mu.Lock()
	st.sendWindow = c.peerWindow
	c.open[id] = st
	c.running++
	truncated := f.Truncated
	c.mu.Unlock()
	c.updateIdle()
	if truncated {
		// The header list passed SETTINGS_MAX_HEADER_LIST_SIZE: 431, as
		// for an HTTP/1 head too large.
		go c.refuse(st, http.StatusRequestHeaderFieldsTooLarge)
		return nil
	}
	c.p.runH2(st)
	return nil
}

// trailersLocked takes the trailers of an open stream's request.
func (c *h2conn) trailersLocked(st *h2stream, f *http2.MetaHeadersFrame) error {
	if st.remoteDone {
		c.resetLocked(st, http2.ErrCodeStreamClosed)
		return nil
	}
	if !f.StreamEnded() || len(f.PseudoFields()) > 0 {
		c.resetLocked(st, http2.ErrCodeProtocol)
		return nil
	}
	if st.declLen >= 0 && st.recvd != st.declLen {
		c.resetLocked(st, http2.ErrCodeProtocol)
		return nil
	}
	if tr := st.req.Trailer; tr != nil {
		// Only the trailers the request announced (as net/http).
		for _, hf := range f.RegularFields() {
			k := http.CanonicalHeaderKey(hf.Name)
			if _, ok := tr[k]; ok {
				tr[k] = append(tr[k], hf.Value)
			}
		}
	}
	st.remoteDone = true
	st.bodyCond.Broadcast()
	return nil
}

// setIdle reports the connection's state to the server's ConnState hook,
// which runs keep-alive's idle timer: idle while no stream is open.
func (c *h2conn) setIdle(idle bool) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	c.reportLocked(idle)
}

// updateIdle reports the state after streams opened or closed. stateMu
// orders the reports: the count is read under it.
func (c *h2conn) updateIdle() {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	c.mu.Lock()
	idle := len(c.open) == 0
	c.mu.Unlock()
	c.reportLocked(idle)
}

// reportLocked tells ConnState a change of state; stateMu is held.
func (c *h2conn) reportLocked(idle bool) {
	if c.idle == idle || c.ended || c.hs.ConnState == nil {
		c.idle = idle
		return
	}
	c.idle = idle
	s := http.StateActive
	if idle {
		s = http.StateIdle
	}
	c.hs.ConnState(c.guard, s)
}

// dateLocked returns the Date header of the current second.
func (c *h2conn) dateLocked() []string {
	now := time.Now()
	if s := now.Unix(); s != c.dateSec || c.date == nil {
		c.dateSec = s
		c.date = []string{now.UTC().Format(http.TimeFormat)}
	}
	return c.date
}

// h2Conns are an http.Server's HTTP/2 connections, for its graceful
// shutdown.
type h2Conns struct {
	mu       sync.Mutex
	conns    map[*h2conn]struct{}
	shutdown bool
}

func (r *h2Conns) add(c *h2conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shutdown {
		return false
	}
	if r.conns == nil {
		r.conns = map[*h2conn]struct{}{}
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *h2Conns) remove(c *h2conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
}

// stopAll sends every connection GOAWAY; each closes once its streams
// end.
func (r *h2Conns) stopAll() {
	r.mu.Lock()
	r.shutdown = true
	conns := make([]*h2conn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	for _, c := range conns {
		c.GracefulStop()
	}
}

// statusText is the :status value of code.
func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 204:
		return "204"
	case 301:
		return "301"
	case 302:
		return "302"
	case 304:
		return "304"
	case 400:
		return "400"
	case 404:
		return "404"
	case 500:
		return "500"
	case 502:
		return "502"
	case 503:
		return "503"
	}
	return strconv.Itoa(code)
}

// connKey is the connection net/http's ConnState hook knows c by: the
// *tls.Conn under an h2Guard.
func connKey(c net.Conn) net.Conn {
	if g, ok := c.(*h2Guard); ok {
		return g.Conn
	}
	return c
}
