package proxy

import (
	"io"
	"sync"
	"time"
)

// Go's HTTP/2 server flushes its buffered frames whenever its queue runs
// empty, which under load is once or twice per response, each flush a TLS
// record and a system call of its own. A coalescer sits under it and
// writes from one goroutine at a time: frames written while the previous
// write is still in the kernel go out together in the next, as nginx
// sends the frames of many streams in one write. A write to an idle
// connection starts at once, so nothing waits for a timer.

// coalesceMax bounds the bytes a connection holds unwritten; the server's
// writes wait beyond it.
const coalesceMax = 256 << 10

// coalesceCloseWait bounds how long closing a connection waits for its
// last frames (a GOAWAY) to be written.
const coalesceCloseWait = time.Second

// coalescer gathers writes to w and writes them from its own goroutine.
type coalescer struct {
	w    io.Writer
	bufs *sync.Pool // of *[]byte

	mu      sync.Mutex
	drained sync.Cond // a write finished, or failed
	buf     []byte    // written, not yet handed to w
	busy    bool      // a goroutine is writing
	err     error     // w's first error: every later write fails with it
}

func newCoalescer(w io.Writer, bufs *sync.Pool) *coalescer {
	c := &coalescer{w: w, bufs: bufs}
	c.drained.L = &c.mu
	return c
}

// Write queues p and returns; an error w returned earlier is returned
// instead.
func (c *coalescer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && len(c.buf) >= coalesceMax {
		c.drained.Wait()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.buf == nil {
		c.buf = (*c.bufs.Get().(*[]byte))[:0]
	}
	c.buf = append(c.buf, p...)
	if !c.busy {
		c.busy = true
		go c.flush()
	}
	return len(p), nil
}

// flush writes what is queued, again and again until nothing is.
func (c *coalescer) flush() {
	c.mu.Lock()
	for len(c.buf) > 0 && c.err == nil {
		b := c.buf
		c.buf = nil
		c.mu.Unlock()
		_, err := c.w.Write(b)
		// An idle connection keeps no buffer.
		b = b[:0]
		c.bufs.Put(&b)
		c.mu.Lock()
		if err != nil {
			c.err = err
		}
		c.drained.Broadcast()
	}
	c.busy = false
	c.drained.Broadcast()
	c.mu.Unlock()
}

// wait returns once everything queued is written or failed, or after d.
func (c *coalescer) wait(d time.Duration) {
	done := make(chan struct{})
	go func() {
		c.mu.Lock()
		for c.busy {
			c.drained.Wait()
		}
		c.mu.Unlock()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		// Closing the connection fails the write in progress, which
		// ends the waiting goroutine.
	}
}
