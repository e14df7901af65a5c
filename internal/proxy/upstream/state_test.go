package upstream

import (
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// States shows an ejected endpoint with the time its ejection ends, the
// failures of one still in service, and the breaker's slots in use; an
// ejection whose time has passed shows as ended.
func TestStates(t *testing.T) {
	r, b, clk := outlierRegistry(t, DefaultOutlier(), 3, nil)
	eps := b.Endpoints()
	fail(b, eps[0], 5)
	fail(b, eps[1], 2)
	if !b.Acquire(nil, time.Second) {
		t.Fatal("no breaker slot")
	}
	defer b.Release()
	st := r.States()
	if len(st) != 1 || st[0].Name != "ns/web:80" || st[0].InFlight != 1 || st[0].Pending != 0 {
		t.Fatalf("States() = %+v", st)
	}
	got := st[0].Endpoints
	until := time.Unix(0, clk.now).Add(30 * time.Second)
	if len(got) != 3 || got[0].Addr != "10.0.0.1:8080" || !got[0].EjectedUntil.Equal(until) {
		t.Fatalf("ejected endpoint: %+v, want ejected until %v", got, until)
	}
	if got[1].Failures != 2 || !got[1].EjectedUntil.IsZero() || got[2].Failures != 0 {
		t.Fatalf("endpoints in service: %+v", got[1:])
	}
	clk.advance(30 * time.Second)
	if e := r.States()[0].Endpoints[0]; !e.EjectedUntil.IsZero() {
		t.Fatalf("after the ejection time: %+v, want in service", e)
	}
}

// An AUTO_HTTP backend shows, for each address, the worse of its plain
// and TLS views.
func TestStatesAutoHTTP(t *testing.T) {
	r := NewRegistry(time.Second)
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	r.fh.clock = func() int64 { return clk.now }
	mb := endpointsBackend(2, nil)
	mb[0].Protocol = model.ProtocolAutoHTTP
	b := r.Update(mb)["ns/web:80"]
	s := b.ForTLS()
	fail(s, s.Endpoints()[1], 5)
	got := r.States()[0].Endpoints
	if got[0].Addr != "10.0.0.1:8080" || !got[0].EjectedUntil.IsZero() || got[1].EjectedUntil.IsZero() {
		t.Fatalf("States() endpoints = %+v, want the second ejected by its TLS twin", got)
	}
}
