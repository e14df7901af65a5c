package translate

import (
	"slices"
	"strings"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// assembly is the model being put together from the components, kept
// between Builds so that adding and removing a component costs what the
// component holds, and building the model is a copy.
type assembly struct {
	comps map[*component]struct{}
	// hosts are by name; sorted is the last model's order, and added the
	// hosts added since.
	hosts  map[string]*model.VirtualHost
	sorted []*model.VirtualHost
	added  []*model.VirtualHost
	// removed are the names of hosts removed since the last model.
	removed map[string]bool
	// catchAll is the component that configures the catch-all, if any.
	catchAll *component
	// used counts the components using each backend; rep is one of their
	// copies, all equal unless an Ingress tuned the backend's balancer:
	// tuned is then the copy of the component holding every Ingress that
	// uses it (see Builder.serviceKeys), which decided it.
	used       map[string]int
	rep        map[string]*model.Backend
	tuned      map[string]*model.Backend
	tunedBy    map[string]*component
	sni        map[string]owned[string]
	passthru   map[string]owned[string]
	certs      map[string]*model.Certificate
	certN      map[string]int
	withProbs  map[*component]struct{}
	probsDirty bool
}

// owned is a value one component claimed.
type owned[T any] struct {
	v T
	c *component
}

func newAssembly() *assembly {
	return &assembly{
		comps: map[*component]struct{}{}, hosts: map[string]*model.VirtualHost{}, removed: map[string]bool{},
		used: map[string]int{}, rep: map[string]*model.Backend{},
		tuned: map[string]*model.Backend{}, tunedBy: map[string]*component{},
		sni: map[string]owned[string]{}, passthru: map[string]owned[string]{},
		certs: map[string]*model.Certificate{}, certN: map[string]int{}, withProbs: map[*component]struct{}{},
	}
}

// add puts c's part into the model. It reports false when c claims what
// another component holds: the coupling keys should make that impossible,
// and the Builder then translates every Ingress as one.
func (a *assembly) add(c *component) bool {
	m := c.model
	for i := range m.Hosts {
		if a.hosts[m.Hosts[i].Name] != nil {
			return false
		}
	}
	for _, b := range m.SNI {
		if _, ok := a.sni[b.Host]; ok {
			return false
		}
	}
	for _, p := range m.Passthrough {
		if _, ok := a.passthru[p.Host]; ok {
			return false
		}
	}
	if c.catchAll && a.catchAll != nil {
		return false
	}
	for i := range c.tuned {
		if a.tunedBy[c.tuned[i].Name] != nil {
			return false
		}
	}
	a.comps[c] = struct{}{}
	for i := range m.Hosts {
		h := &m.Hosts[i]
		a.hosts[h.Name] = h
		a.added = append(a.added, h)
	}
	if c.catchAll {
		a.catchAll = c
	}
	for i := range m.Backends {
		be := &m.Backends[i]
		a.used[be.Name]++
		// Only an untuned copy stands for the others: the tuned one
		// goes with its component.
		if !slices.ContainsFunc(c.tuned, func(t model.Backend) bool { return t.Name == be.Name }) {
			a.rep[be.Name] = be
		}
	}
	for i := range c.tuned {
		be := &c.tuned[i]
		a.tuned[be.Name], a.tunedBy[be.Name] = be, c
	}
	for _, b := range m.SNI {
		a.sni[b.Host] = owned[string]{b.Certificate, c}
	}
	for _, p := range m.Passthrough {
		a.passthru[p.Host] = owned[string]{p.Backend, c}
	}
	for i := range m.Certificates {
		cert := &m.Certificates[i]
		a.certs[cert.Name] = cert
		a.certN[cert.Name]++
	}
	if len(c.problems) > 0 {
		a.withProbs[c] = struct{}{}
		a.probsDirty = true
	}
	return true
}

// remove takes c's part out of the model.
func (a *assembly) remove(c *component) {
	if _, ok := a.comps[c]; !ok {
		return
	}
	delete(a.comps, c)
	m := c.model
	for i := range m.Hosts {
		if a.hosts[m.Hosts[i].Name] == &m.Hosts[i] {
			delete(a.hosts, m.Hosts[i].Name)
			a.removed[m.Hosts[i].Name] = true
		}
	}
	if a.catchAll == c {
		a.catchAll = nil
	}
	for i := range m.Backends {
		name := m.Backends[i].Name
		if a.used[name]--; a.used[name] <= 0 {
			delete(a.used, name)
			delete(a.rep, name)
		}
	}
	for i := range c.tuned {
		if name := c.tuned[i].Name; a.tunedBy[name] == c {
			delete(a.tuned, name)
			delete(a.tunedBy, name)
		}
	}
	for _, b := range m.SNI {
		if a.sni[b.Host].c == c {
			delete(a.sni, b.Host)
		}
	}
	for _, p := range m.Passthrough {
		if a.passthru[p.Host].c == c {
			delete(a.passthru, p.Host)
		}
	}
	for _, cert := range m.Certificates {
		if a.certN[cert.Name]--; a.certN[cert.Name] <= 0 {
			delete(a.certN, cert.Name)
			delete(a.certs, cert.Name)
		}
	}
	if _, ok := a.withProbs[c]; ok {
		delete(a.withProbs, c)
		a.probsDirty = true
	}
}

// model builds the model over base's settings, and its problems; prev
// are the problems of the last model, kept when no component with
// problems came or went.
func (a *assembly) model(bs *base, prev []model.Problem, keepProblems bool) (*model.Model, []model.Problem) {
	bm := bs.model
	m := &model.Model{}
	*m = *bm
	// The hosts: the last order without those gone, with those added put
	// in place (a few, by binary search; many, by sorting everything).
	sorted := make([]*model.VirtualHost, 0, len(a.hosts))
	for _, h := range a.sorted {
		// Only a name removed since may have gone or been replaced;
		// the others need no lookup.
		if len(a.removed) == 0 || !a.removed[h.Name] || a.hosts[h.Name] == h {
			sorted = append(sorted, h)
		}
	}
	byName := func(x, y *model.VirtualHost) int { return strings.Compare(x.Name, y.Name) }
	if len(a.added) > 64 {
		sorted = append(sorted, a.added...)
		slices.SortFunc(sorted, byName)
	} else {
		for _, h := range a.added {
			i, _ := slices.BinarySearchFunc(sorted, h, byName)
			sorted = slices.Insert(sorted, i, h)
		}
	}
	a.sorted, a.added = sorted, a.added[:0]
	clear(a.removed)
	m.Hosts = make([]model.VirtualHost, len(sorted))
	for k, h := range sorted {
		m.Hosts[k] = *h
	}

	backends := make(map[string]*model.Backend, len(a.used)+len(bm.Backends))
	if a.catchAll != nil {
		m.CatchAll = a.catchAll.model.CatchAll
	} else {
		for k := range bm.Backends {
			backends[bm.Backends[k].Name] = &bm.Backends[k]
		}
	}
	for name := range a.used {
		switch {
		case a.tuned[name] != nil:
			backends[name] = a.tuned[name]
		case backends[name] == nil:
			backends[name] = a.rep[name]
		}
	}
	m.Backends = make([]model.Backend, 0, len(backends))
	for _, be := range backends {
		m.Backends = append(m.Backends, *be)
	}
	slices.SortFunc(m.Backends, func(x, y model.Backend) int { return strings.Compare(x.Name, y.Name) })

	m.SNI = make([]model.SNIBinding, 0, len(a.sni))
	for host, o := range a.sni {
		m.SNI = append(m.SNI, model.SNIBinding{Host: host, Certificate: o.v})
	}
	slices.SortFunc(m.SNI, func(x, y model.SNIBinding) int { return strings.Compare(x.Host, y.Host) })
	m.Passthrough = nil
	for host, o := range a.passthru {
		m.Passthrough = append(m.Passthrough, model.Passthrough{Host: host, Backend: o.v})
	}
	slices.SortFunc(m.Passthrough, func(x, y model.Passthrough) int { return strings.Compare(x.Host, y.Host) })
	m.Certificates = slices.Clone(bm.Certificates)
	for name, cert := range a.certs {
		if !slices.ContainsFunc(bm.Certificates, func(c model.Certificate) bool { return c.Name == name }) {
			m.Certificates = append(m.Certificates, *cert)
		}
	}
	slices.SortFunc(m.Certificates, func(x, y model.Certificate) int { return strings.Compare(x.Name, y.Name) })
	if len(m.Backends) == 0 {
		m.Backends = nil
	}
	if len(m.SNI) == 0 {
		m.SNI = nil
	}
	if len(m.Certificates) == 0 {
		m.Certificates = nil
	}

	if keepProblems && !a.probsDirty {
		return m, prev
	}
	a.probsDirty = false
	with := make([]*component, 0, len(a.withProbs))
	n := len(bs.problems)
	for c := range a.withProbs {
		with = append(with, c)
		n += len(c.problems)
	}
	slices.SortFunc(with, func(x, y *component) int {
		return snapshot.CompareIngresses(x.members[0], y.members[0])
	})
	ps := make([]model.Problem, 0, n)
	ps = append(ps, bs.problems...)
	for _, c := range with {
		ps = append(ps, c.problems...)
	}
	sortProblems(ps)
	if len(ps) == 0 {
		ps = nil
	}
	return m, ps
}
