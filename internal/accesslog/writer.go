package accesslog

import (
	"io"
	"sync"
	"time"
)

// flushDelay bounds how long a line waits in the buffer; flushLimit is the
// buffer size that forces a write at once.
const (
	flushDelay = 100 * time.Millisecond
	flushLimit = 64 << 10
)

// Writer collects log lines from every connection and writes them to out
// in batches: at most flushDelay after the first unwritten line, or at once
// when flushLimit bytes are waiting. A request then costs a copy under a
// mutex instead of a write system call.
type Writer struct {
	out   io.Writer
	mu    sync.Mutex
	buf   []byte
	spare []byte
	timer *time.Timer
	// wmu serialises writes to out, which happen outside mu.
	wmu sync.Mutex
}

// NewWriter returns a Writer to out (os.Stdout for the access log).
func NewWriter(out io.Writer) *Writer {
	w := &Writer{out: out, buf: make([]byte, 0, flushLimit), spare: make([]byte, 0, flushLimit)}
	w.timer = time.AfterFunc(time.Hour, func() { _ = w.Flush() })
	w.timer.Stop()
	return w
}

// WriteLine queues one complete line.
func (w *Writer) WriteLine(line []byte) {
	w.mu.Lock()
	first := len(w.buf) == 0
	w.buf = append(w.buf, line...)
	full := len(w.buf) >= flushLimit
	w.mu.Unlock()
	if full {
		_ = w.Flush()
		return
	}
	if first {
		w.timer.Reset(flushDelay)
	}
}

// Flush writes what is queued.
func (w *Writer) Flush() error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.mu.Lock()
	b := w.buf
	w.buf, w.spare = w.spare[:0], b
	w.mu.Unlock()
	if len(b) == 0 {
		return nil
	}
	_, err := w.out.Write(b)
	return err
}
