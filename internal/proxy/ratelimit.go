package proxy

import (
	"net/netip"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// Rate and connection limits (limit-rps, limit-rpm, limit-connections), as
// nginx's limit_req and limit_conn: per client IP (after the real-IP
// rules), in one zone per Ingress that all its routes share. Zones live in
// the Proxy's limitRegistry, keyed by the Ingress's identity, so that
// buckets survive new generations; a zone no route uses any more is
// dropped when the next generation is bound.

// maxLimitKeys bounds the client addresses one zone tracks per limit,
// about what ingress-nginx's 5 MB zones hold. A zone at the bound first
// forgets the addresses whose bucket has drained (they are
// indistinguishable from new ones), then an eighth of the others, chosen
// at random; nginx forgets the least recently used.
const maxLimitKeys = 65536

// routeLimit is a compiled model.RateLimit.
type routeLimit struct {
	key         string     // model.RateLimit.Zone
	zone        *limitZone // bound by limitRegistry.bind
	rps, rpm    float64    // requests per second; 0 for none
	burstRPS    float64    // in requests
	burstRPM    float64
	conns       int
	allow       []netip.Prefix
	reqStatus   int
	connStatus  int
	hasRequests bool
}

func compileLimit(l *model.RateLimit) *routeLimit {
	if l == nil {
		return nil
	}
	mult := l.Multiplier
	if mult < 1 {
		mult = 5
	}
	rl := &routeLimit{
		key: l.Zone, conns: l.Connections, allow: prefixes(l.Allow),
		rps: float64(l.RPS), rpm: float64(l.RPM) / 60,
		burstRPS: float64(l.RPS * mult), burstRPM: float64(l.RPM * mult),
		reqStatus: l.RequestStatus, connStatus: l.ConnectionStatus,
	}
	rl.hasRequests = l.RPS > 0 || l.RPM > 0
	if rl.reqStatus == 0 {
		rl.reqStatus = 503
	}
	if rl.connStatus == 0 {
		rl.connStatus = 503
	}
	return rl
}

// admit applies the limits to a request from ip. It returns 0 and a
// release func (nil when nothing is to be released) to call when the
// request ends, or the status to answer with.
func (rl *routeLimit) admit(ip string) (status int, release func()) {
	a, err := netip.ParseAddr(ip)
	if err == nil {
		a = a.Unmap()
		for _, p := range rl.allow {
			if p.Contains(a) {
				return 0, nil
			}
		}
	}
	// An address that does not parse (none should) is limited under the
	// zero key, with every other such request.
	z := rl.zone
	if z == nil {
		return 0, nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if rl.hasRequests {
		now := time.Since(z.epoch).Seconds()
		if !z.take(a, now, rl) {
			return rl.reqStatus, nil
		}
	}
	if rl.conns > 0 {
		if z.conns[a] >= rl.conns {
			return rl.connStatus, nil
		}
		z.conns[a]++
		return 0, func() {
			z.mu.Lock()
			if z.conns[a]--; z.conns[a] <= 0 {
				delete(z.conns, a)
			}
			z.mu.Unlock()
		}
	}
	return 0, nil
}

// bucket is one client's state in a leaky bucket: its excess, in
// requests, at time last (seconds since the zone's epoch).
type bucket struct {
	excess, last float64
}

// limitZone is the state of one Ingress's limits.
type limitZone struct {
	epoch    time.Time
	mu       sync.Mutex
	rps, rpm map[netip.Addr]bucket
	conns    map[netip.Addr]int
}

func newLimitZone() *limitZone {
	return &limitZone{epoch: time.Now(), rps: map[netip.Addr]bucket{}, rpm: map[netip.Addr]bucket{}, conns: map[netip.Addr]int{}}
}

// take charges one request to a's buckets, as nginx's limit_req with
// nodelay: the excess leaks at the rate, each request adds one, and a
// request that would take the excess past the burst is refused without
// being charged. When both rates apply, a request refused by one is
// charged to neither. z.mu is held.
func (z *limitZone) take(a netip.Addr, now float64, rl *routeLimit) bool {
	nRPS, okRPS := leak(z.rps, a, now, rl.rps, rl.burstRPS)
	nRPM, okRPM := leak(z.rpm, a, now, rl.rpm, rl.burstRPM)
	if !okRPS || !okRPM {
		return false
	}
	if rl.rps > 0 {
		store(z.rps, a, nRPS, rl.rps, now)
	}
	if rl.rpm > 0 {
		store(z.rpm, a, nRPM, rl.rpm, now)
	}
	return true
}

// leak returns a's bucket after one more request at now, and whether the
// burst allows it. A client without a bucket starts at excess 0.
func leak(m map[netip.Addr]bucket, a netip.Addr, now, rate, burst float64) (bucket, bool) {
	if rate == 0 {
		return bucket{}, true
	}
	b, ok := m[a]
	if !ok {
		return bucket{last: now}, true
	}
	e := b.excess - rate*(now-b.last)
	if e < 0 {
		e = 0
	}
	e++
	if e > burst {
		return b, false
	}
	return bucket{excess: e, last: now}, true
}

// store saves a bucket, making room first when the map is at its bound.
func store(m map[netip.Addr]bucket, a netip.Addr, b bucket, rate, now float64) {
	if _, ok := m[a]; !ok && len(m) >= maxLimitKeys {
		for k, v := range m {
			if v.excess-rate*(now-v.last) <= 0 {
				delete(m, k)
			}
		}
		for k := range m {
			if len(m) < maxLimitKeys-maxLimitKeys/8 {
				break
			}
			delete(m, k)
		}
	}
	m[a] = b
}

// limitRegistry holds the zones by Ingress identity across generations.
type limitRegistry struct {
	mu    sync.Mutex
	zones map[string]*limitZone
}

// bind gives g's limited routes their zones, creating the new ones, and
// forgets the zones g does not use. Requests still running on an older
// generation keep their zone until they end.
func (lr *limitRegistry) bind(g *generation) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	used := map[string]*limitZone{}
	g.limitedRoutes(func(r *route) {
		l := r.policy.limit
		z := used[l.key]
		if z == nil {
			z = lr.zones[l.key]
			if z == nil {
				z = newLimitZone()
			}
			used[l.key] = z
		}
		if l.zone != z {
			// Routes reused from the previous generation keep their
			// zone: requests are reading it.
			l.zone = z
		}
	})
	lr.zones = used
}
