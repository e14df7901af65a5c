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

	// The sorted names of the backends, SNI bindings and passthrough
	// hosts, kept so that a model costs no sort of them.
	backendKeys, sniKeys, passKeys keyList
	// baseBackends are the base model's backends, which the model holds
	// unless a component configures the catch-all; withBase says whether
	// backendKeys includes them.
	base         *base
	baseBackends map[string]*model.Backend
	withBase     bool
}

// keyList is the sorted keys of a map that changes a few keys at a time:
// touch names a key that may have come or gone.
type keyList struct {
	keys    []string
	touched map[string]struct{}
}

func (l *keyList) touch(k string) {
	if l.touched == nil {
		l.touched = map[string]struct{}{}
	}
	l.touched[k] = struct{}{}
}

// sync brings the keys up to date, has telling which keys are present:
// a few changes by binary search, many by sorting again.
func (l *keyList) sync(has func(string) bool) []string {
	if len(l.touched) > 64 {
		keys := slices.DeleteFunc(l.keys, func(k string) bool { return !has(k) })
		for k := range l.touched {
			if has(k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		l.keys = slices.Compact(keys)
	} else {
		for k := range l.touched {
			i, found := slices.BinarySearch(l.keys, k)
			switch now := has(k); {
			case now && !found:
				l.keys = slices.Insert(l.keys, i, k)
			case !now && found:
				l.keys = slices.Delete(l.keys, i, i+1)
			}
		}
	}
	clear(l.touched)
	return l.keys
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
	for _, h := range m.Hosts {
		if a.hosts[h.Name] != nil {
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
	for _, h := range m.Hosts {
		a.hosts[h.Name] = h
		a.added = append(a.added, h)
	}
	if c.catchAll {
		a.catchAll = c
	}
	for i := range m.Backends {
		be := &m.Backends[i]
		if a.used[be.Name]++; a.used[be.Name] == 1 {
			a.backendKeys.touch(be.Name)
		}
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
		a.sniKeys.touch(b.Host)
	}
	for _, p := range m.Passthrough {
		a.passthru[p.Host] = owned[string]{p.Backend, c}
		a.passKeys.touch(p.Host)
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
	for _, h := range m.Hosts {
		if a.hosts[h.Name] == h {
			delete(a.hosts, h.Name)
			a.removed[h.Name] = true
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
			a.backendKeys.touch(name)
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
			a.sniKeys.touch(b.Host)
		}
	}
	for _, p := range m.Passthrough {
		if a.passthru[p.Host].c == c {
			delete(a.passthru, p.Host)
			a.passKeys.touch(p.Host)
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

// hostList is the last model's hosts without those gone, with those
// added put in place. The hosts themselves are shared: a host no change
// touched is the same pointer in every model. A few changes are found by
// binary search, so that a change costs a copy of the pointers rather
// than a look at every host; many are merged by sorting.
func (a *assembly) hostList() []*model.VirtualHost {
	byName := func(x, y *model.VirtualHost) int { return strings.Compare(x.Name, y.Name) }
	// An added host is current unless its component went again.
	added := slices.DeleteFunc(a.added, func(h *model.VirtualHost) bool { return a.hosts[h.Name] != h })
	var hosts []*model.VirtualHost
	if len(a.removed)+len(added) > 64 {
		hosts = make([]*model.VirtualHost, 0, len(a.hosts))
		for _, h := range a.sorted {
			if !a.removed[h.Name] || a.hosts[h.Name] == h {
				hosts = append(hosts, h)
			}
		}
		hosts = append(hosts, added...)
		slices.SortFunc(hosts, byName)
		// A component taken out and put back keeps its hosts.
		hosts = slices.Compact(hosts)
	} else {
		// The last list is the last model's, which must not change.
		hosts = make([]*model.VirtualHost, len(a.sorted), len(a.sorted)+len(added))
		copy(hosts, a.sorted)
		for name := range a.removed {
			i, ok := slices.BinarySearchFunc(hosts, name, func(h *model.VirtualHost, n string) int { return strings.Compare(h.Name, n) })
			if ok && a.hosts[name] != hosts[i] {
				hosts = slices.Delete(hosts, i, i+1)
			}
		}
		for _, h := range added {
			if i, ok := slices.BinarySearchFunc(hosts, h, byName); !ok || hosts[i] != h {
				hosts = slices.Insert(hosts, i, h)
			}
		}
	}
	a.sorted, a.added = hosts, a.added[:0]
	clear(a.removed)
	return hosts
}

// backends lists the model's backends in name order: those of the
// components, and the base model's unless a component configures the
// catch-all. Where copies differ, a tuned one wins, then the base's.
func (a *assembly) backends(bs *base) []model.Backend {
	withBase := a.catchAll == nil
	if bs != a.base || withBase != a.withBase {
		for name := range a.baseBackends {
			a.backendKeys.touch(name)
		}
		a.base, a.withBase = bs, withBase
		a.baseBackends = make(map[string]*model.Backend, len(bs.model.Backends))
		for i := range bs.model.Backends {
			be := &bs.model.Backends[i]
			a.baseBackends[be.Name] = be
			a.backendKeys.touch(be.Name)
		}
	}
	fromBase := func(name string) *model.Backend {
		if !withBase {
			return nil
		}
		return a.baseBackends[name]
	}
	names := a.backendKeys.sync(func(name string) bool { return a.used[name] > 0 || fromBase(name) != nil })
	if len(names) == 0 {
		return nil
	}
	out := make([]model.Backend, len(names))
	for i, name := range names {
		be := a.tuned[name]
		if be == nil {
			be = fromBase(name)
		}
		if be == nil {
			be = a.rep[name]
		}
		out[i] = *be
	}
	return out
}

// model builds the model over base's settings, and its problems; prev
// are the problems of the last model, kept when no component with
// problems came or went.
func (a *assembly) model(bs *base, prev []model.Problem, keepProblems bool) (*model.Model, []model.Problem) {
	bm := bs.model
	m := &model.Model{}
	*m = *bm
	m.Hosts = a.hostList()

	if a.catchAll != nil {
		m.CatchAll = a.catchAll.model.CatchAll
	}
	m.Backends = a.backends(bs)
	sni := a.sniKeys.sync(func(host string) bool { _, ok := a.sni[host]; return ok })
	m.SNI = make([]model.SNIBinding, len(sni))
	for i, host := range sni {
		m.SNI[i] = model.SNIBinding{Host: host, Certificate: a.sni[host].v}
	}
	m.Passthrough = nil
	for _, host := range a.passKeys.sync(func(host string) bool { _, ok := a.passthru[host]; return ok }) {
		m.Passthrough = append(m.Passthrough, model.Passthrough{Host: host, Backend: a.passthru[host].v})
	}
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
