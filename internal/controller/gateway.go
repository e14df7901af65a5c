package controller

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/translate/gatewayapi"
)

// GatewayAPI serves the Gateway API beside Ingress, from the same
// snapshot into the same model.
type GatewayAPI struct {
	// Options are the translation's.
	Options gatewayapi.Options
	// Pool gives each Gateway an address of its own; nil means every
	// Gateway is served on the controller's bind address.
	Pool *AddressPool
}

// Translate runs the Gateway API translation and gives the Gateways their
// addresses.
func (g *GatewayAPI) Translate(snap *snapshot.Snapshot) *gatewayapi.Result {
	r := gatewayapi.Translate(snap, g.Options)
	if g.Pool != nil {
		g.Pool.assign(snap, r.Model)
	}
	return &r
}

// sameGatewayModel reports whether two translations route alike.
func sameGatewayModel(a, b *gatewayapi.Result) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(a.Model, b.Model) && reflect.DeepEqual(a.Backends, b.Backends) &&
		reflect.DeepEqual(a.Certificates, b.Certificates)
}

// WithGateways returns a copy of m that also serves the Gateways of r. A
// backend or certificate of the same name in both is one upstream set or
// certificate: the Ingress's entry is kept, as it may carry settings
// (load balancing, service-upstream) that Ingress annotations gave the
// Service port, like ingress-nginx's one upstream per Service port.
func WithGateways(m *model.Model, r *gatewayapi.Result) *model.Model {
	if len(r.Model) == 0 && len(m.Gateways) == 0 {
		return m
	}
	nm := *m
	nm.Gateways = r.Model
	nm.Backends = mergeByName(m.Backends, r.Backends, func(b model.Backend) string { return b.Name })
	nm.Certificates = mergeByName(m.Certificates, r.Certificates, func(c model.Certificate) string { return c.Name })
	return &nm
}

// mergeByName merges two lists sorted by name; on equal names a's entry
// is kept.
func mergeByName[T any](a, b []T, name func(T) string) []T {
	if len(b) == 0 {
		return a
	}
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b):
			out = append(out, a[i])
			i++
		case i == len(a):
			out = append(out, b[j])
			j++
		default:
			switch c := strings.Compare(name(a[i]), name(b[j])); {
			case c < 0:
				out = append(out, a[i])
				i++
			case c > 0:
				out = append(out, b[j])
				j++
			default:
				out = append(out, a[i])
				i++
				j++
			}
		}
	}
	return out
}

// AddressPool hands each Gateway an IP address of its own from a range
// made local to the host (a test cluster's network namespace, or a range
// routed to the node), so that Gateways may all listen on port 80 without
// sharing it. A Gateway keeps its address while it exists; after a
// restart, the address its status shows is taken again when free.
type AddressPool struct {
	prefix netip.Prefix

	mu        sync.Mutex
	byGateway map[string]netip.Addr
	used      map[netip.Addr]string
}

// NewAddressPool parses a CIDR such as "172.30.0.0/24". The range's first
// address (the network's) is never handed out.
func NewAddressPool(cidr string) (*AddressPool, error) {
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("address pool %q: %w", cidr, err)
	}
	if pfx.Bits() == pfx.Addr().BitLen() {
		return nil, fmt.Errorf("address pool %q holds one address; a pool needs a range", cidr)
	}
	return &AddressPool{prefix: pfx.Masked(), byGateway: map[string]netip.Addr{}, used: map[netip.Addr]string{}}, nil
}

// assign sets the Addresses of gws (whose Names are "namespace/name"),
// releasing the addresses of Gateways that are gone. A Gateway that finds
// the pool exhausted has none.
func (p *AddressPool) assign(snap *snapshot.Snapshot, gws []model.Gateway) {
	p.mu.Lock()
	defer p.mu.Unlock()
	live := make(map[string]bool, len(gws))
	for _, g := range gws {
		live[g.Name] = true
	}
	for name, a := range p.byGateway {
		if !live[name] {
			delete(p.byGateway, name)
			delete(p.used, a)
		}
	}
	// Addresses the Gateways' statuses already show are taken first, so
	// that a restart changes no address.
	for _, g := range snap.Gateways {
		name := g.Namespace + "/" + g.Name
		if !live[name] {
			continue
		}
		if _, ok := p.byGateway[name]; ok {
			continue
		}
		for _, sa := range g.Status.Addresses {
			a, err := netip.ParseAddr(sa.Value)
			if err == nil && p.prefix.Contains(a) && a != p.prefix.Addr() && p.used[a] == "" {
				p.byGateway[name], p.used[a] = a, name
				break
			}
		}
	}
	for i := range gws {
		g := &gws[i]
		a, ok := p.byGateway[g.Name]
		if !ok {
			if a, ok = p.next(); !ok {
				continue
			}
			p.byGateway[g.Name], p.used[a] = a, g.Name
		}
		g.Addresses = []string{a.String()}
	}
}

// next returns the lowest free address.
func (p *AddressPool) next() (netip.Addr, bool) {
	for a := p.prefix.Addr().Next(); p.prefix.Contains(a); a = a.Next() {
		if p.used[a] == "" {
			return a, true
		}
	}
	return netip.Addr{}, false
}
