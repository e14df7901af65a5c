package upstream

import (
	"strconv"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
)

func hashBackend(n int) []model.Backend {
	b := model.Backend{Name: "ns/web:80", Balance: &model.Balance{Algorithm: model.AlgorithmHash, HashBy: &model.HashBy{Expr: "$request_uri"}}}
	for i := range n {
		b.Endpoints = append(b.Endpoints, model.Endpoint{Host: "10.0.0." + strconv.Itoa(i+1), Port: 8080})
	}
	return []model.Backend{b}
}

func keyHash(i int) uint64 { return Hash([]byte("/item/" + strconv.Itoa(i))) }

// The ring spreads keys evenly: with 160 points per endpoint every
// endpoint gets within 25% of its fair share.
func TestRingDistribution(t *testing.T) {
	r := NewRegistry(time.Second)
	b := r.Update(hashBackend(10))["ns/web:80"]
	const keys = 100000
	count := map[string]int{}
	for i := range keys {
		count[b.PickHash(keyHash(i), nil).Addr]++
	}
	if len(count) != 10 {
		t.Fatalf("keys reached %d endpoints, want 10", len(count))
	}
	for addr, n := range count {
		if share := float64(n) / (keys / 10); share < 0.75 || share > 1.25 {
			t.Errorf("%s got %d keys, %.2f of its fair share", addr, n, share)
		}
	}
}

// Scaling moves only the keys that must move: adding an endpoint moves
// about 1/(n+1) of the keys, all to the new endpoint; removing one moves
// only the keys it had.
func TestRingMinimalRemapping(t *testing.T) {
	r := NewRegistry(time.Second)
	b := r.Update(hashBackend(10))["ns/web:80"]
	const keys = 50000
	before := make([]string, keys)
	for i := range keys {
		before[i] = b.PickHash(keyHash(i), nil).Addr
	}
	r.Update(hashBackend(11))
	moved := 0
	for i := range keys {
		now := b.PickHash(keyHash(i), nil).Addr
		if now != before[i] {
			moved++
			if now != "10.0.0.11:8080" {
				t.Fatalf("key %d moved from %s to %s, not to the new endpoint", i, before[i], now)
			}
		}
	}
	if f := float64(moved) / keys; f < 0.05 || f > 0.14 {
		t.Errorf("adding an 11th endpoint moved %.3f of the keys, want about 1/11", f)
	}
	mb := hashBackend(11)
	mb[0].Endpoints = append(mb[0].Endpoints[:3:3], mb[0].Endpoints[4:]...) // drop 10.0.0.4
	r.Update(mb)
	after11 := make([]string, keys)
	r.Update(hashBackend(11))
	for i := range keys {
		after11[i] = b.PickHash(keyHash(i), nil).Addr
	}
	r.Update(mb)
	for i := range keys {
		now := b.PickHash(keyHash(i), nil).Addr
		if after11[i] != "10.0.0.4:8080" && now != after11[i] {
			t.Fatalf("key %d on %s moved to %s when 10.0.0.4 left", i, after11[i], now)
		}
		if now == "10.0.0.4:8080" {
			t.Fatalf("key %d still maps to the removed endpoint", i)
		}
	}
}

// A retry walks the ring: the next endpoint is another one, the same for
// the same key.
func TestRingRetryAndSubset(t *testing.T) {
	r := NewRegistry(time.Second)
	b := r.Update(hashBackend(5))["ns/web:80"]
	h := keyHash(7)
	first := b.PickHash(h, nil)
	second := b.PickHash(h, []*Endpoint{first})
	if second == nil || second == first || b.PickHash(h, []*Endpoint{first}) != second {
		t.Fatalf("retry got %v after %v", second, first)
	}
	all := []*Endpoint{}
	for range 5 {
		all = append(all, b.PickHash(h, all))
	}
	if b.PickHash(h, all) != nil {
		t.Errorf("every endpoint tried, yet PickHash returned one")
	}
	seen := map[*Endpoint]bool{}
	for range 300 {
		seen[b.PickSubset(h, 2, nil)] = true
	}
	if len(seen) != 2 || !seen[first] || !seen[second] {
		t.Errorf("subset of 2 used %d endpoints, want the key's first two", len(seen))
	}
}

// Generations with unchanged endpoints keep the ring and the endpoint
// objects; endpoint updates keep each address's EWMA.
func TestBalancerStateSurvives(t *testing.T) {
	r := NewRegistry(time.Second)
	b := r.Update(hashBackend(3))["ns/web:80"]
	ring := b.ring.Load()
	ep := b.Endpoints()[0]
	ep.Observe(50 * time.Millisecond)
	r.Update(hashBackend(3))
	if b.ring.Load() != ring || b.Endpoints()[0] != ep {
		t.Errorf("an identical generation rebuilt the ring or the endpoints")
	}
	r.SetEndpoints("ns/web:80", hashBackend(4)[0].Endpoints)
	if b.ring.Load() == ring {
		t.Errorf("the ring was not rebuilt for new endpoints")
	}
	if got := b.Endpoints()[0]; got == ep || got.ewma != ep.ewma {
		t.Errorf("the EWMA of %s was not carried over", ep.Addr)
	}
	mb := hashBackend(4)
	mb[0].Balance = nil
	r.Update(mb)
	if b.ring.Load() != nil || b.Keyed() {
		t.Errorf("round robin backend kept a ring")
	}
}

// EWMA prefers the endpoint that answers faster.
func TestEWMAPrefersFaster(t *testing.T) {
	r := NewRegistry(time.Second)
	mb := hashBackend(2)
	mb[0].Balance = &model.Balance{Algorithm: model.AlgorithmEWMA}
	b := r.Update(mb)["ns/web:80"]
	slow, fast := b.Endpoints()[0], b.Endpoints()[1]
	slow.Observe(200 * time.Millisecond)
	fast.Observe(10 * time.Millisecond)
	for range 20 {
		if got := b.Pick(); got != fast {
			t.Fatalf("EWMA picked %s, want the faster %s", got.Addr, fast.Addr)
		}
	}
	// The average decays with 10 s: a 20 ms sample after 10 s weighs
	// 1-1/e.
	var e ewma
	now := time.Now()
	e.observe(now, 100*time.Millisecond)
	e.observe(now.Add(ewmaDecay), 20*time.Millisecond)
	if got, want := e.value, 0.1/2.718281828+0.02*(1-1/2.718281828); got < want-1e-6 || got > want+1e-6 {
		t.Errorf("ewma = %v, want %v", got, want)
	}
}

// Persistent keys identify endpoints and are not their addresses.
func TestPickByKey(t *testing.T) {
	r := NewRegistry(time.Second)
	b := r.Update(hashBackend(3))["ns/web:80"]
	for _, e := range b.Endpoints() {
		if got := b.PickByKey(e.Key()); got != e {
			t.Errorf("key %s of %s found %v", e.Key(), e.Addr, got)
		}
		if len(e.Key()) != 16 {
			t.Errorf("key %q is not 16 hex digits", e.Key())
		}
	}
	if b.PickByKey("0123456789abcdef") != nil {
		t.Errorf("unknown key found an endpoint")
	}
}
