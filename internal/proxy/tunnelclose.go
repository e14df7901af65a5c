package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/straitgw/strait/internal/proxy/upstream"
)

// Shutting down upgraded connections. They get the whole grace period to
// end by themselves; shortly before it ends, WebSockets are told to go away
// with a close frame (status 1001) sent at a frame boundary, so that
// clients see a clean close and reconnect, rather than a reset.

// closeReplyWait bounds how long a WebSocket that was sent a close frame
// may take to answer with its own before both connections are closed.
const closeReplyWait = time.Second

// frameFinishWait bounds how long a WebSocket frame already under way from
// the backend may take to complete before the close frame can follow it.
const frameFinishWait = time.Second

// closeGoingAway is a server-to-client close frame: FIN and opcode 8, an
// unmasked two-byte payload with status 1001 (going away).
var closeGoingAway = [4]byte{0x88, 0x02, 0x03, 0xe9}

// wsFrames follows the frame boundaries of one direction of a WebSocket
// stream without buffering it: it counts header bytes and skips payloads.
type wsFrames struct {
	hdr     [14]byte
	hn      int    // header bytes seen
	need    int    // header length, known after its first two bytes
	payload uint64 // payload bytes still to come
}

// feed advances over b.
func (f *wsFrames) feed(b []byte) { f.until(b, false) }

// until advances over b, stopping at the first frame boundary when stop is
// set; it returns how many bytes of b it consumed.
func (f *wsFrames) until(b []byte, stop bool) int {
	total := len(b)
	for len(b) > 0 {
		if stop && f.boundary() {
			break
		}
		if f.payload > 0 {
			k := uint64(len(b))
			if k > f.payload {
				k = f.payload
			}
			f.payload -= k
			b = b[k:]
			continue
		}
		f.hdr[f.hn] = b[0]
		f.hn++
		b = b[1:]
		if f.hn == 2 {
			f.need = 2
			switch f.hdr[1] & 0x7f {
			case 126:
				f.need += 2
			case 127:
				f.need += 8
			}
			if f.hdr[1]&0x80 != 0 {
				f.need += 4 // masking key
			}
		}
		if f.hn >= 2 && f.hn == f.need {
			f.payload = f.length()
			f.hn, f.need = 0, 0
		}
	}
	return total - len(b)
}

// length decodes the payload length of the complete header in hdr.
func (f *wsFrames) length() uint64 {
	n := uint64(f.hdr[1] & 0x7f)
	switch n {
	case 126:
		return uint64(f.hdr[2])<<8 | uint64(f.hdr[3])
	case 127:
		var v uint64
		for _, c := range f.hdr[2:10] {
			v = v<<8 | uint64(c)
		}
		return v
	}
	return n
}

// boundary reports whether the stream is between two frames.
func (f *wsFrames) boundary() bool { return f.hn == 0 && f.payload == 0 }

// copyFrames copies a WebSocket's backend-to-client direction as copyIdle
// does, tracking frame boundaries; once the tunnel is told to go away it
// finishes the frame under way, sends the client a close frame and stops.
func copyFrames(tn *tunnel, backendBuf *bufio.Reader, to Timeouts) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var frames wsFrames
	var rdl, wdl upstream.Deadline
	var finishBy time.Time
	for {
		if tn.goingAway.Load() {
			if frames.boundary() {
				_ = tn.client.SetWriteDeadline(time.Now().Add(frameFinishWait))
				_, _ = tn.client.Write(closeGoingAway[:])
				return
			}
			if finishBy.IsZero() {
				finishBy = time.Now().Add(frameFinishWait)
			}
			_ = tn.backend.SetReadDeadline(finishBy)
		} else {
			rdl.Extend(time.Now(), to.Read, tn.backend.SetReadDeadline)
		}
		n, err := backendBuf.Read(buf)
		if n > 0 {
			if tn.goingAway.Load() {
				// Relay up to the end of the frame under way only; what
				// follows it is dropped for the close frame.
				n = frames.until(buf[:n], true)
			} else {
				frames.feed(buf[:n])
			}
			wdl.Extend(time.Now(), to.Send, tn.client.SetWriteDeadline)
			if _, werr := tn.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && tn.goingAway.Load() &&
				(finishBy.IsZero() || time.Now().Before(finishBy)) {
				continue // woken to go away, or again while finishing a frame
			}
			if err == io.EOF {
				if tc, ok := tn.client.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			}
			return
		}
	}
}

// goAway asks an upgraded connection to end: a WebSocket gets a close frame
// at the next frame boundary, anything else is closed at once.
func (tn *tunnel) goAway() {
	if !tn.ws {
		_ = tn.client.Close()
		_ = tn.backend.Close()
		return
	}
	tn.goingAway.Store(true)
	// Wake the copy if it is waiting for the backend.
	_ = tn.backend.SetReadDeadline(longAgo)
}

// DrainTunnels lets upgraded connections run until shortly before
// deadline, then asks each to go away (WebSockets get a close frame) and
// waits until they have ended or deadline passes, when whatever is left is
// closed. It returns at once when no upgraded connection is open.
func (p *Proxy) DrainTunnels(deadline time.Time) {
	margin := min(2*time.Second, time.Until(deadline)/5)
	goAwayAt := deadline.Add(-margin)
	t := &p.tunnels
	for t.count() > 0 && time.Now().Before(goAwayAt) {
		time.Sleep(min(50*time.Millisecond, time.Until(goAwayAt)))
	}
	t.mu.Lock()
	for tn := range t.conns {
		tn.goAway()
	}
	t.mu.Unlock()
	done := make(chan struct{})
	go func() { t.wait(); close(done) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	end := time.NewTimer(time.Until(deadline))
	defer end.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			// A copy that was between its check and its read when first
			// woken may have pushed its deadline out again.
			t.mu.Lock()
			for tn := range t.conns {
				if tn.ws {
					_ = tn.backend.SetReadDeadline(longAgo)
				}
			}
			t.mu.Unlock()
		case <-end.C:
			p.CloseTunnels()
			return
		}
	}
}
