package kubesim

import (
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
)

// ipAllocator hands out Pod addresses from a range, lowest free first
// after the last one handed out, so that an address is reused only after
// the rest of the range (EndpointSlices and proxies may still name a
// stopped Pod's address for a moment).
type ipAllocator struct {
	mu     sync.Mutex
	prefix netip.Prefix
	first  netip.Addr // first address handed out: the range's second /24
	next   netip.Addr
	used   map[netip.Addr]bool
}

func newIPAllocator(prefix netip.Prefix, reserved netip.Addr) (*ipAllocator, error) {
	prefix = prefix.Masked()
	if !prefix.Addr().Is4() || prefix.Bits() > 23 {
		return nil, fmt.Errorf("kubesim: Pod range %s: need an IPv4 range of at least two /24s", prefix)
	}
	b := prefix.Addr().As4()
	b[2]++ // skip the first /24: left to tests that bind fixed addresses
	first := netip.AddrFrom4(b)
	return &ipAllocator{prefix: prefix, first: first, next: first, used: map[netip.Addr]bool{reserved: true}}, nil
}

// allocate returns a free address: never the range's first /24, never one
// ending in .0 or .255, never the reserved one.
func (a *ipAllocator) allocate() (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range 1 << (32 - a.prefix.Bits()) {
		ip := a.next
		if a.next = ip.Next(); !a.prefix.Contains(a.next) {
			a.next = a.first
		}
		if b := ip.As4(); b[3] != 0 && b[3] != 255 && !a.used[ip] {
			a.used[ip] = true
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("kubesim: no free address left in %s", a.prefix)
}

func (a *ipAllocator) release(ip netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, ip)
}

// portAllocator hands out TCP ports for echo servers. The ports must be
// free on every address, since echo-basic binds the wildcard address, and
// are taken below the kernel's ephemeral range when there is room: a port
// of that range may be in use as the local port of an outgoing connection
// when the server comes to bind it.
type portAllocator struct {
	mu     sync.Mutex
	lo, hi int // candidates: [lo, hi)
	used   map[int]bool
}

func newPortAllocator() *portAllocator {
	a := &portAllocator{lo: 20000, hi: 32768, used: map[int]bool{}}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if lo, err := strconv.Atoi(f[0]); err == nil && lo-a.lo >= 1000 {
				a.hi = lo
			}
		}
	}
	return a
}

// allocate returns a port that no other allocation holds and that could be
// bound on the wildcard address just now.
func (a *portAllocator) allocate() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range 1000 {
		p := a.lo + mathrand.IntN(a.hi-a.lo)
		if a.used[p] {
			continue
		}
		l, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			continue // in use
		}
		l.Close()
		a.used[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("kubesim: no free port found in [%d, %d)", a.lo, a.hi)
}

func (a *portAllocator) release(p int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, p)
}
