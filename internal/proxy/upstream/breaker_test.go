package upstream

import (
	"testing"
	"time"
)

// Beyond MaxRequests in flight, requests wait in a queue of MaxPending
// for a slot, which a release hands to the oldest; beyond the queue, or
// after the wait, they are refused and counted.
func TestBreaker(t *testing.T) {
	r := NewRegistry(time.Second)
	r.SetBreaker(Breaker{MaxRequests: 2, MaxPending: 1})
	b := r.Update(endpointsBackend(1, nil))["ns/web:80"]
	if !b.Acquire(nil, 0) || !b.Acquire(nil, 0) {
		t.Fatal("refused below MaxRequests")
	}
	got := make(chan bool)
	go func() { got <- b.Acquire(nil, time.Minute) }()
	// Wait until the request queues, then overflow the queue.
	for b.brk.waiting.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if b.Acquire(nil, time.Minute) {
		t.Fatal("admitted with MaxRequests in flight and the queue full")
	}
	b.Release()
	if !<-got {
		t.Fatal("the waiting request was refused after a release")
	}
	// The queued request holds the released slot: still full.
	done := make(chan struct{})
	close(done)
	if b.Acquire(done, time.Minute) {
		t.Fatal("admitted a request whose client left")
	}
	if b.Acquire(nil, time.Millisecond) {
		t.Fatal("admitted after the wait ended")
	}
	if n := r.Rejections(); n != 3 {
		t.Errorf("Rejections() = %d, want 3", n)
	}
	b.Release()
	b.Release()
	if n := b.brk.active.Load(); n != 0 {
		t.Errorf("%d in flight after every release", n)
	}

	// No queue: refused at once; no limit: never refused.
	r.SetBreaker(Breaker{MaxRequests: 1})
	if !b.Acquire(nil, time.Minute) || b.Acquire(nil, time.Minute) {
		t.Error("MaxRequests 1 without a queue: want the first admitted, the second refused")
	}
	b.Release()
	r.SetBreaker(Breaker{})
	for range 100 {
		if !b.Acquire(nil, 0) {
			t.Fatal("refused without a limit")
		}
	}
}
