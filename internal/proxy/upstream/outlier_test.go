package upstream

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// fakeClock is a registry clock the tests move by hand.
type fakeClock struct{ now int64 }

func (c *fakeClock) advance(d time.Duration) { c.now += int64(d) }

// outlierRegistry returns a registry with a fake clock and one backend of
// n endpoints balanced by bal (nil: round robin).
func outlierRegistry(t *testing.T, o Outlier, n int, bal *model.Balance) (*Registry, *Backend, *fakeClock) {
	t.Helper()
	r := NewRegistry(time.Second)
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	r.fh.clock = func() int64 { return clk.now }
	r.SetOutlier(o)
	return r, r.Update(endpointsBackend(n, bal))["ns/web:80"], clk
}

func endpointsBackend(n int, bal *model.Balance) []model.Backend {
	b := model.Backend{Name: "ns/web:80", Balance: bal}
	for i := range n {
		b.Endpoints = append(b.Endpoints, model.Endpoint{Host: "10.0.0." + strconv.Itoa(i+1), Port: 8080})
	}
	return []model.Backend{b}
}

// fail reports k failures of e and returns the ejection time the last
// one caused.
func fail(b *Backend, e *Endpoint, k int) time.Duration {
	var d time.Duration
	for range k {
		d = b.Failure(e)
	}
	return d
}

// picks counts the endpoints n round-robin picks reach, by address.
func picks(b *Backend, n int) map[string]int {
	out := map[string]int{}
	for range n {
		out[b.Pick().Addr]++
	}
	return out
}

// An endpoint is ejected on its fifth failure in a row (a success starts
// the count again), no balancer pick reaches it while it is out, the
// others share its load evenly, and it returns after the ejection time on
// probation: one failure ejects it again, for longer each time, up to the
// cap; time in service brings the multiplier down again.
func TestOutlierEjectionTiming(t *testing.T) {
	r, b, clk := outlierRegistry(t, DefaultOutlier(), 4, nil)
	bad := b.Endpoints()[1]
	if d := fail(b, bad, 4); d != 0 {
		t.Fatalf("ejected after 4 failures, for %v", d)
	}
	b.Success(bad)
	if d := fail(b, bad, 4); d != 0 {
		t.Fatalf("a success did not reset the count: ejected for %v", d)
	}
	if d := b.Failure(bad); d != 30*time.Second {
		t.Fatalf("fifth failure in a row: ejection for %v, want 30s", d)
	}
	if got := r.Ejected(); got != 1 || r.Ejections() != 1 {
		t.Fatalf("Ejected() = %d, Ejections() = %d; want 1, 1", got, r.Ejections())
	}
	got := picks(b, 300)
	if got[bad.Addr] != 0 {
		t.Errorf("the ejected endpoint got %d of 300 picks", got[bad.Addr])
	}
	for _, e := range b.Endpoints() {
		if e != bad && got[e.Addr] != 100 {
			t.Errorf("%s got %d of 300 picks, want 100 (the ejected one's share spread evenly)", e.Addr, got[e.Addr])
		}
	}
	clk.advance(30*time.Second - time.Millisecond)
	if got := picks(b, 30); got[bad.Addr] != 0 {
		t.Errorf("picked %d times before its ejection ended", got[bad.Addr])
	}
	clk.advance(time.Millisecond)
	if got := picks(b, 40); got[bad.Addr] != 10 {
		t.Errorf("after the ejection: %d of 40 picks, want 10", got[bad.Addr])
	}
	if r.Ejected() != 0 {
		t.Errorf("Ejected() = %d after the ejection ended", r.Ejected())
	}
	// Probation: the first failure ejects again, and the ejections grow
	// by the base time up to the 300 s cap.
	want := []time.Duration{60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300}
	for i, w := range want {
		d := b.Failure(bad)
		if d != w*time.Second {
			t.Fatalf("ejection %d: %v, want %v", i+2, d, w*time.Second)
		}
		clk.advance(d)
		picks(b, 4) // meets the endpoint, which lifts its ejection
	}
	// Ten base times in service bring the multiplier down by ten: the
	// next ejection after probation lasts (10-10+1)*30 s.
	b.Success(bad)
	clk.advance(300 * time.Second)
	if d := fail(b, bad, 5); d != 30*time.Second {
		t.Errorf("after 300 s in service: ejection for %v, want 30s", d)
	}
	if r.Ejections() != uint64(2+len(want)) {
		t.Errorf("Ejections() = %d, want %d", r.Ejections(), 2+len(want))
	}
}

// At most MaxEjectionPercent of the endpoints are out at once, at least
// one may always be, and the last one in service never is.
func TestOutlierEjectionCap(t *testing.T) {
	for _, tc := range []struct {
		endpoints, percent, want int
	}{
		{4, 50, 2},
		{3, 50, 1},
		{2, 50, 1},
		{1, 50, 0},
		{10, 10, 1},
		{10, 1, 1}, // at least one
		{3, 100, 2},
		{2, 100, 1}, // never the last
	} {
		o := DefaultOutlier()
		o.MaxEjectionPercent = tc.percent
		r, b, _ := outlierRegistry(t, o, tc.endpoints, nil)
		for _, e := range b.Endpoints() {
			fail(b, e, 5)
		}
		if got := r.Ejected(); got != tc.want {
			t.Errorf("%d endpoints, %d%%: %d ejected, want %d", tc.endpoints, tc.percent, got, tc.want)
		}
	}
}

// Ejection state is kept by address across endpoint-set updates; when an
// update leaves only ejected endpoints, they are picked anyway.
func TestOutlierEjectionSurvivesUpdates(t *testing.T) {
	r, b, clk := outlierRegistry(t, DefaultOutlier(), 3, nil)
	bad := b.Endpoints()[2]
	fail(b, bad, 5)
	bs := endpointsBackend(4, nil)
	if b2 := r.Update(bs)["ns/web:80"]; b2 != b {
		t.Fatal("the update replaced the backend")
	}
	if got := picks(b, 60); got[bad.Addr] != 0 || len(got) != 3 {
		t.Errorf("after the update: picks %v, want the three endpoints in service only", got)
	}
	if r.Ejected() != 1 {
		t.Errorf("Ejected() = %d after the update, want 1", r.Ejected())
	}
	// Only the ejected endpoint left: it serves.
	r.SetEndpoints("ns/web:80", []model.Endpoint{{Host: "10.0.0.3", Port: 8080}})
	if e := b.Pick(); e == nil || e.Addr != bad.Addr {
		t.Errorf("only the ejected endpoint left: Pick() = %v", e)
	}
	// Back to two: the ejection still holds until its time ends.
	r.SetEndpoints("ns/web:80", []model.Endpoint{{Host: "10.0.0.1", Port: 8080}, {Host: "10.0.0.3", Port: 8080}})
	if got := picks(b, 10); got[bad.Addr] != 0 {
		t.Errorf("ejected endpoint picked %d times after coming back in an update", got[bad.Addr])
	}
	clk.advance(30 * time.Second)
	if got := picks(b, 10); got[bad.Addr] != 5 {
		t.Errorf("after the ejection: %d of 10 picks, want 5", got[bad.Addr])
	}
}

// Hashing takes the next endpoint on the ring while a key's own is
// ejected, and returns to it afterwards; EWMA and retries skip ejected
// endpoints; persistent affinity no longer finds an ejected endpoint by
// its key, so the client is re-pinned.
func TestOutlierEjectionBalancers(t *testing.T) {
	hash := &model.Balance{Algorithm: model.AlgorithmHash, HashBy: &model.HashBy{Expr: "$request_uri"}}
	_, b, clk := outlierRegistry(t, DefaultOutlier(), 5, hash)
	h := keyHash(7)
	owner := b.PickHash(h, nil)
	fail(b, owner, 5)
	next := b.PickHash(h, nil)
	if next == owner || next == nil {
		t.Fatalf("hash: key still maps to its ejected endpoint (%v)", next)
	}
	if again := b.PickHash(h, []*Endpoint{next}); again == owner || again == next {
		t.Errorf("hash retry: %v, want a third endpoint", again)
	}
	if e := b.PickSubset(h, 2, nil); e == owner {
		t.Error("subset hashing picked the ejected endpoint")
	}
	if e := b.PickByKey(owner.Key()); e != nil {
		t.Errorf("PickByKey found the ejected endpoint %s", e.Addr)
	}
	for range 50 {
		if e := b.PickExcept([]*Endpoint{next}); e == owner || e == next {
			t.Fatalf("PickExcept returned %s", e.Addr)
		}
	}
	clk.advance(30 * time.Second)
	if back := b.PickHash(h, nil); back != owner {
		t.Errorf("after the ejection the key maps to %v, want its own endpoint", back.Addr)
	}
	if b.PickByKey(owner.Key()) != owner {
		t.Error("PickByKey does not find the endpoint after its ejection")
	}

	_, e, _ := outlierRegistry(t, DefaultOutlier(), 3, &model.Balance{Algorithm: model.AlgorithmEWMA})
	slow := e.Endpoints()[0]
	fail(e, slow, 5)
	for range 200 {
		if e.Pick() == slow {
			t.Fatal("EWMA picked the ejected endpoint")
		}
	}
	// Every untried endpoint ejected: a retry still gets one.
	if got := e.PickExcept(e.Endpoints()[1:]); got != slow {
		t.Errorf("PickExcept with only an ejected endpoint untried = %v, want it", got)
	}
}

// A zero ConsecutiveFailures turns ejection off.
func TestOutlierDisabled(t *testing.T) {
	r, b, _ := outlierRegistry(t, Outlier{}, 3, nil)
	if d := fail(b, b.Endpoints()[0], 100); d != 0 || r.Ejected() != 0 {
		t.Errorf("disabled: ejected for %v, %d endpoints out", d, r.Ejected())
	}
}

// Picks, reports and endpoint-set updates may run at once (run with
// -race).
func TestOutlierConcurrent(t *testing.T) {
	o := DefaultOutlier()
	o.ConsecutiveFailures = 2
	r, b, _ := outlierRegistry(t, o, 6, nil)
	r.fh.clock = nil // real time: ejections outlast the test
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			r.SetEndpoints("ns/web:80", endpointsBackend(4+i%3, nil)[0].Endpoints)
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				e := b.Pick()
				if (i+g)%3 == 0 {
					b.Success(e)
				} else {
					b.Failure(e)
				}
				if n := len(b.Endpoints()); int(b.ejected.Load()) > n {
					t.Errorf("%d ejections among %d endpoints", b.ejected.Load(), n)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-done
	// The cap applies when an endpoint is ejected: an update that
	// shrinks the set may leave more than half of it out, up to half of
	// the largest set (6).
	if n := r.Ejected(); n > 3 || n == 0 {
		t.Errorf("%d of %d endpoints ejected, want 1 to 3", n, len(b.Endpoints()))
	}
}

// Concurrent round-robin picks share one cursor, so the cursor values one
// pick draws need not cover every endpoint; a pick must still find the
// endpoint in service rather than fall back to an ejected one.
func TestOutlierConcurrentPicksSkipEjected(t *testing.T) {
	o := DefaultOutlier()
	o.MaxEjectionPercent = 100
	_, b, _ := outlierRegistry(t, o, 3, nil)
	eps := b.Endpoints()
	for _, e := range eps[1:] {
		if d := fail(b, e, o.ConsecutiveFailures); d == 0 {
			t.Fatalf("%s was not ejected", e.Addr)
		}
	}
	good := eps[0]
	var wg sync.WaitGroup
	bad := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20000 {
				if e := b.Pick(); e != good {
					bad <- e.Addr
					return
				}
			}
		}()
	}
	wg.Wait()
	close(bad)
	for addr := range bad {
		t.Errorf("a concurrent pick returned ejected endpoint %s", addr)
	}
}
