package proxy

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

// gatedWriter records each Write and blocks the first until released.
type gatedWriter struct {
	mu     sync.Mutex
	writes [][]byte
	gate   chan struct{}
	err    error
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	if w.gate != nil {
		<-w.gate
		w.gate = nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), w.err
}

// Writes made while one is in progress go out together and in order;
// a failed write fails every later one; wait returns once all is out.
func TestCoalescerBatchesInOrder(t *testing.T) {
	bufs := &sync.Pool{New: func() any { b := make([]byte, 0, 64); return &b }}
	w := &gatedWriter{gate: make(chan struct{})}
	c := newCoalescer(w, bufs)
	_, _ = c.Write([]byte("a"))
	// The first write is held in w: these wait in the buffer.
	for _, s := range []string{"b", "c", "d"} {
		if n, err := c.Write([]byte(s)); n != 1 || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	close(w.gate)
	c.wait(5 * time.Second)
	w.mu.Lock()
	got := w.writes
	w.mu.Unlock()
	var all []byte
	for _, b := range got {
		all = append(all, b...)
	}
	if string(all) != "abcd" || len(got) > 2 {
		t.Errorf("written %q in %d writes, want \"abcd\" in at most 2", all, len(got))
	}

	w.err = errors.New("broken pipe")
	_, _ = c.Write([]byte("e"))
	c.wait(5 * time.Second)
	if _, err := c.Write([]byte("f")); err == nil {
		t.Error("a write after a failed one succeeded")
	}
}
