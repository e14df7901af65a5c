package upstream

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// Balancers. Round robin and EWMA need nothing from the request, so
// Backend.Pick serves them on both engines. Hashing and affinity need a
// key from the request (PickHash, PickSubset, PickByKey); the proxy's
// net/http handler computes it. A backend's balancer state (cursor, ring,
// response-time averages) survives generations and endpoint updates.
//
// Every balancer skips ejected endpoints (see outlier.go): round robin
// moves on, EWMA draws again, hashing takes the next endpoint on the
// ring, and persistent affinity re-pins. Only when every candidate is
// ejected do they pick among the ejected ones. While no endpoint of a
// backend is ejected, none of this costs more than one atomic load.

// ringPoints is the number of points each endpoint has on the ring, as
// ketama's 160: enough that the load spread stays within a few per cent.
const ringPoints = 160

// ewmaDecay is the EWMA's decay time, ingress-nginx's 10 s: a measurement
// loses 1/e of its weight every 10 s, whether new ones arrive or not.
const ewmaDecay = 10 * time.Second

// ring is a consistent-hash ring over one endpoint set, immutable once
// built.
type ring struct {
	points []ringPoint // sorted by hash
}

type ringPoint struct {
	hash uint64
	ep   *Endpoint
}

// newRing places ringPoints points per endpoint, at hashes of its address
// and the point's number, so that an endpoint's points do not depend on
// the other endpoints: adding one moves only the keys it takes.
func newRing(eps []*Endpoint) *ring {
	r := &ring{points: make([]ringPoint, 0, len(eps)*ringPoints)}
	buf := make([]byte, 0, 64)
	for _, e := range eps {
		for i := range ringPoints {
			buf = append(append(append(buf[:0], e.Addr...), '#'), strconv.Itoa(i)...)
			r.points = append(r.points, ringPoint{hash: Hash(buf), ep: e})
		}
	}
	slices.SortFunc(r.points, func(a, b ringPoint) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		// Ties (vanishingly rare) ordered by address keep rings equal.
		if a.ep.Addr < b.ep.Addr {
			return -1
		}
		return 1
	})
	return r
}

// walk calls f with the endpoints from the key's point clockwise, each
// endpoint once, until f returns false.
func (r *ring) walk(h uint64, f func(*Endpoint) bool) {
	n := len(r.points)
	if n == 0 {
		return
	}
	i := r.search(h)
	seen := make(map[*Endpoint]bool, 4)
	for k := 0; k < n; k++ {
		e := r.points[(i+k)%n].ep
		if seen[e] {
			continue
		}
		seen[e] = true
		if !f(e) {
			return
		}
	}
}

// search returns the index of the first point at or after h, wrapping.
func (r *ring) search(h uint64) int {
	i, _ := slices.BinarySearchFunc(r.points, h, func(p ringPoint, h uint64) int {
		switch {
		case p.hash < h:
			return -1
		case p.hash > h:
			return 1
		}
		return 0
	})
	return i % len(r.points)
}

// Hash is the key hash of rings and cookies: 64-bit FNV-1a with a
// finaliser that spreads short, similar keys. It is stable across
// processes, so replicas of Strait agree on where a key goes.
func Hash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	// splitmix64's finaliser.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// endpointKey is the persistent-affinity cookie value of an address: a
// hash, so that the cookie does not show the pod's address.
func endpointKey(addr string) string {
	var b [8]byte
	h := Hash([]byte(addr))
	for i := range b {
		b[i] = byte(h >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// ewma is an endpoint's decayed average response time.
type ewma struct {
	mu    sync.Mutex
	value float64 // seconds
	last  time.Time
}

// observe folds one response time in.
func (e *ewma) observe(now time.Time, d time.Duration) {
	e.mu.Lock()
	if e.last.IsZero() {
		e.value = d.Seconds()
	} else {
		w := math.Exp(-float64(now.Sub(e.last)) / float64(ewmaDecay))
		e.value = e.value*w + d.Seconds()*(1-w)
	}
	e.last = now
	e.mu.Unlock()
}

// score is the average decayed to now: an endpoint that has not answered
// for a while looks faster, so it is tried again.
func (e *ewma) score(now time.Time) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.last.IsZero() {
		return 0
	}
	return e.value * math.Exp(-float64(now.Sub(e.last))/float64(ewmaDecay))
}

// Balance returns the backend's selection settings; nil is round robin.
func (b *Backend) Balance() *model.Balance { return b.balance.Load() }

// Keyed reports whether the backend's balancer needs a key from the
// request (hashing or affinity), which only the net/http handler
// computes.
func (b *Backend) Keyed() bool {
	bal := b.balance.Load()
	return bal != nil && (bal.Algorithm == model.AlgorithmHash || bal.Algorithm == model.AlgorithmSticky)
}

// EWMA reports whether response times should be reported with Observe.
func (b *Backend) EWMA() bool {
	bal := b.balance.Load()
	return bal != nil && bal.Algorithm == model.AlgorithmEWMA
}

// Pick returns an endpoint for a request that carries no key: round robin,
// or EWMA's better of two random endpoints. Keyed backends use round
// robin here. It returns nil when the backend has no endpoint.
func (b *Backend) Pick() *Endpoint {
	eps := *b.endpoints.Load()
	switch len(eps) {
	case 0:
		return nil
	case 1:
		return eps[0]
	}
	if b.ejected.Load() == 0 {
		if b.EWMA() {
			return pickEWMA(eps)
		}
		return eps[(b.cursor.Add(1)-1)%uint64(len(eps))]
	}
	now := b.fh.now()
	if b.EWMA() {
		for range 4 {
			if e := pickEWMA(eps); b.inService(e, now) {
				return e
			}
		}
	}
	// Each skipped endpoint advances the cursor, so that the ones in
	// service share the load evenly.
	n := uint64(len(eps))
	var start uint64
	for k := range n {
		c := b.cursor.Add(1) - 1
		if k == 0 {
			start = c
		}
		if e := eps[c%n]; b.inService(e, now) {
			return e
		}
	}
	// Concurrent picks advance the same cursor, so the values drawn above
	// need not have covered every endpoint: look at each once before
	// concluding that all are out.
	for k := range n {
		if e := eps[(start+k)%n]; b.inService(e, now) {
			return e
		}
	}
	return eps[start%n]
}

// pickEWMA is the power of two choices on the decayed averages.
func pickEWMA(eps []*Endpoint) *Endpoint {
	i := rand.IntN(len(eps))
	j := rand.IntN(len(eps) - 1)
	if j >= i {
		j++
	}
	now := time.Now()
	a, c := eps[i], eps[j]
	if c.ewma.score(now) < a.ewma.score(now) {
		return c
	}
	return a
}

// PickExcept returns an endpoint other than those in tried, round robin
// from the cursor, preferring those in service; nil when every endpoint
// was tried.
func (b *Backend) PickExcept(tried []*Endpoint) *Endpoint {
	eps := *b.endpoints.Load()
	start := b.cursor.Add(1) - 1
	var now int64
	if b.ejected.Load() != 0 {
		now = b.fh.now()
	}
	var fallback *Endpoint
	for k := range uint64(len(eps)) {
		e := eps[(start+k)%uint64(len(eps))]
		if slices.Contains(tried, e) {
			continue
		}
		if now == 0 || b.inService(e, now) {
			return e
		}
		if fallback == nil {
			fallback = e
		}
	}
	return fallback
}

// usable returns a test of whether an endpoint is in service, nil while
// no endpoint of the backend is ejected.
func (b *Backend) usable() func(*Endpoint) bool {
	if b.ejected.Load() == 0 {
		return nil
	}
	now := b.fh.now()
	return func(e *Endpoint) bool { return b.inService(e, now) }
}

// PickHash returns the endpoint the ring maps the key hash h to, skipping
// those in tried (a retry goes to the next endpoint on the ring); nil when
// the backend has no endpoint left.
func (b *Backend) PickHash(h uint64, tried []*Endpoint) *Endpoint {
	r := b.ring.Load()
	if r == nil {
		return b.PickExcept(tried)
	}
	ok := b.usable()
	if len(tried) == 0 && len(r.points) > 0 {
		if e := r.points[r.search(h)].ep; ok == nil || ok(e) {
			return e // the common case, without a walk
		}
	}
	var out, fallback *Endpoint
	r.walk(h, func(e *Endpoint) bool {
		if slices.Contains(tried, e) {
			return true
		}
		if ok != nil && !ok(e) {
			if fallback == nil {
				fallback = e
			}
			return true
		}
		out = e
		return false
	})
	if out == nil {
		return fallback
	}
	return out
}

// PickSubset returns one of the size endpoints that follow the key hash h
// on the ring, at random, skipping those in tried.
func (b *Backend) PickSubset(h uint64, size int, tried []*Endpoint) *Endpoint {
	r := b.ring.Load()
	if r == nil {
		return b.PickExcept(tried)
	}
	ok := b.usable()
	group := make([]*Endpoint, 0, size)
	var fallback *Endpoint
	r.walk(h, func(e *Endpoint) bool {
		if slices.Contains(tried, e) {
			return true
		}
		if ok != nil && !ok(e) {
			if fallback == nil {
				fallback = e
			}
			return true
		}
		group = append(group, e)
		return len(group) < size
	})
	if len(group) == 0 {
		return fallback
	}
	return group[rand.IntN(len(group))]
}

// PickByKey returns the endpoint whose persistent-affinity key is k, or
// nil when it is no longer among the endpoints or is ejected (the client
// is then re-pinned).
func (b *Backend) PickByKey(k string) *Endpoint {
	for _, e := range *b.endpoints.Load() {
		if e.key == k {
			if ok := b.usable(); ok != nil && !ok(e) {
				return nil
			}
			return e
		}
	}
	return nil
}

// Key is the endpoint's persistent-affinity cookie value.
func (e *Endpoint) Key() string { return e.key }

// Observe records a response time for EWMA balancing.
func (e *Endpoint) Observe(d time.Duration) { e.ewma.observe(time.Now(), d) }

// setBalanceLocked installs the selection settings and the ring they
// need; the caller holds Registry.mu.
func (b *Backend) setBalanceLocked(bal *model.Balance) {
	if bal != nil {
		c := *bal
		bal = &c
	}
	b.balance.Store(bal)
	b.syncRingLocked(false)
	if b.secure != nil {
		// An AUTO_HTTP backend's HTTPS twin balances the same way.
		b.secure.setBalanceLocked(bal)
	}
}

// syncRingLocked builds the ring when the balancer needs one and it is
// missing or the endpoints changed, and drops it otherwise.
func (b *Backend) syncRingLocked(endpointsChanged bool) {
	bal := b.balance.Load()
	need := bal != nil && (bal.Algorithm == model.AlgorithmHash || (bal.Algorithm == model.AlgorithmSticky && bal.Affinity != nil && bal.Affinity.Mode == model.AffinityBalanced))
	switch {
	case !need:
		b.ring.Store(nil)
	case endpointsChanged || b.ring.Load() == nil:
		b.ring.Store(newRing(*b.endpoints.Load()))
	}
}
