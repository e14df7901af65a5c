package proxy

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/straitgw/strait/internal/model"
)

// TestLeakyBucket checks nginx's limit_req arithmetic: a new client passes
// with excess 0, each request adds one, the excess leaks at the rate, and
// a request taking it past the burst is refused without being charged.
func TestLeakyBucket(t *testing.T) {
	z := newLimitZone()
	rl := compileLimit(&model.RateLimit{RPS: 2, Multiplier: 1})
	a := netip.MustParseAddr("192.0.2.1")
	var got []bool
	for i := 0; i < 4; i++ {
		got = append(got, z.take(a, 10, rl))
	}
	if want := []bool{true, true, true, false}; !slices.Equal(got, want) {
		t.Fatalf("burst at one instant: %v, want %v", got, want)
	}
	// Half a second leaks one request at 2 r/s.
	if !z.take(a, 10.5, rl) || z.take(a, 10.5, rl) {
		t.Errorf("after 0.5 s: want exactly one more request")
	}
	// rps and rpm together: a request refused by one is charged to
	// neither.
	both := compileLimit(&model.RateLimit{RPS: 100, RPM: 1, Multiplier: 1})
	b := netip.MustParseAddr("192.0.2.2")
	if !z.take(b, 0, both) || !z.take(b, 0, both) || z.take(b, 0, both) {
		t.Errorf("rpm 1 with burst 1: want two requests, then refusal")
	}
	if z.rps[b].excess != 1 {
		t.Errorf("rps excess %v after a refusal by rpm, want 1 (not charged)", z.rps[b].excess)
	}
}

// TestLimitBound checks that a zone never tracks more than maxLimitKeys
// clients: drained buckets go first, then an eighth at random.
func TestLimitBound(t *testing.T) {
	z := newLimitZone()
	rl := compileLimit(&model.RateLimit{RPS: 1, Multiplier: 1})
	for i := 0; i < maxLimitKeys+10; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		z.take(a, 0, rl)
		z.take(a, 0, rl) // excess 1: not drained at time 0
	}
	if n := len(z.rps); n > maxLimitKeys {
		t.Fatalf("%d keys tracked, bound %d", n, maxLimitKeys)
	}
	// Much later every bucket has drained: one new client empties it.
	z.take(netip.MustParseAddr("192.0.2.1"), 1000, rl)
	for i := 0; i < maxLimitKeys; i++ {
		z.take(netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)}), 1000, rl)
	}
	if n := len(z.rps); n > maxLimitKeys {
		t.Fatalf("%d keys tracked, bound %d", n, maxLimitKeys)
	}
}

// TestLimitZonesFollowGenerations checks that zones are kept while a
// generation uses them and forgotten when none does.
func TestLimitZonesFollowGenerations(t *testing.T) {
	mk := func(zone string) *model.Model {
		r := model.Route{Name: "r", PathType: model.PathPrefix, Path: "/", Action: model.Action{Status: 200}}
		r.Policy.Limit = &model.RateLimit{Zone: zone, RPS: 1}
		return &model.Model{Hosts: []*model.VirtualHost{{Name: "a.test", Routes: []model.Route{r}, Default: model.Action{Status: 404}}},
			CatchAll: model.VirtualHost{Name: model.CatchAllHost, Default: model.Action{Status: 404}}}
	}
	var lr limitRegistry
	g1 := compile(mk("ns/a/1"), nil, nil, hostContext{}, nil)
	lr.bind(g1)
	z1 := lr.zones["ns/a/1"]
	g2 := compile(mk("ns/a/1"), nil, nil, hostContext{}, nil)
	lr.bind(g2)
	if z1 == nil || lr.zones["ns/a/1"] != z1 {
		t.Fatalf("zone not kept across generations")
	}
	lr.bind(compile(mk("ns/a/2"), nil, nil, hostContext{}, nil))
	if len(lr.zones) != 1 || lr.zones["ns/a/1"] != nil {
		t.Errorf("zones %v, want only ns/a/2", lr.zones)
	}
}
