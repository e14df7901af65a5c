package translate

import (
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// Incremental translation.
//
// Ingresses affect one another only through what they share: a host (first
// wins on paths, host settings, certificates, aliases, canaries), the
// catch-all host, and a Service (the oldest Ingress using a Service port
// decides its balancer). Builder groups the Ingresses into components,
// connected by those coupling keys, and translates each component on its
// own, with the controller-wide settings read once (the base). Whether a
// host has a certificate (for ssl-redirect) is the one fact taken from
// every Ingress: it is computed over all of them and handed to each
// component.
//
// A component's translation depends only on its Ingresses, the settings
// and the snapshot objects it looked at (recorded in reads), so a later
// snapshot reuses it while those are the same objects: a change to one
// Ingress translates its component alone. The model is then assembled from
// the components, which is linear in the number of hosts but cheap per
// host. Should two components ever claim the same name, the Builder falls
// back to one component holding every Ingress, the translation every
// component split must equal.

// Result is what one Build produced.
type Result struct {
	// Model and Problems are Translate's for the snapshot.
	Model    *model.Model
	Problems []model.Problem
	// Changed is false when Model is the previous Build's model, because
	// nothing it depends on changed.
	Changed bool
	// Translated counts the Ingresses translated by this Build; the
	// others' translations were reused.
	Translated int
	// Fallback is set when components conflicted and every Ingress was
	// translated as one.
	Fallback bool
}

// Builder translates a sequence of snapshots, reusing for each the
// translation of every component whose inputs did not change. The zero
// value is ready to use; a Builder is not safe for concurrent use.
type Builder struct {
	base *base
	// prev is the previous snapshot's Ingresses (namespace/name order)
	// and entries what is known of each.
	prev    []*networkingv1.Ingress
	entries map[types.NamespacedName]*entry
	// byKey maps each coupling key to the component holding it.
	byKey map[string]*component
	comps map[*component]struct{}
	// tlsCount counts, per host, the admitted Ingresses that give it a
	// certificate.
	tlsCount map[string]int
	last     Result
}

// entry is one Ingress as the Builder last saw it.
type entry struct {
	ing  *networkingv1.Ingress
	keys []string
	tls  []string
	comp *component
}

// base is the translation of the controller-wide inputs alone: settings,
// the default backend and certificate, the catch-all without Ingresses.
type base struct {
	opts     Options
	t        *translator
	model    *model.Model
	problems []model.Problem
}

// component is one group of coupled Ingresses and its translation.
type component struct {
	members  []*networkingv1.Ingress // namespace/name order
	model    *model.Model
	problems []model.Problem
	reads    *reads
	// decided are the backends whose balancer an Ingress here decided,
	// used here or not: the decision holds wherever they are used.
	decided map[string]model.Backend
	// catchAll is set when an Ingress here configures the catch-all.
	catchAll bool
	// tlsAsked are the hosts whose certificate status the translation
	// used, with the answer.
	tlsAsked map[string]bool
}

// catchAllKey couples the Ingresses that configure the catch-all host.
const catchAllKey = "catch-all"

// Build translates s, reusing what it can of the previous Build.
func (b *Builder) Build(s *snapshot.Snapshot, opts Options) Result {
	if b.base == nil || b.base.opts != opts || !b.base.t.reads.valid(s) {
		b.reset(s, opts)
	}
	dirty := map[*component]struct{}{}
	var work []*networkingv1.Ingress
	tlsChanged := false
	forget := func(e *entry) {
		for _, h := range e.tls {
			if b.tlsCount[h]--; b.tlsCount[h] <= 0 {
				delete(b.tlsCount, h)
				tlsChanged = true
			}
		}
		if e.comp != nil {
			dirty[e.comp] = struct{}{}
			for _, k := range e.keys {
				if b.byKey[k] == e.comp {
					delete(b.byKey, k)
				}
			}
		}
	}
	learn := func(ing *networkingv1.Ingress) {
		e := &entry{ing: ing, keys: couplingKeys(ing)}
		if len(b.base.t.riskOver(ing)) == 0 {
			e.tls = tlsHostsOf(ing)
		}
		for _, h := range e.tls {
			if b.tlsCount[h]++; b.tlsCount[h] == 1 {
				tlsChanged = true
			}
		}
		b.entries[types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}] = e
		work = append(work, ing)
	}
	// Both lists are in namespace/name order: one walk finds the
	// Ingresses added, removed and changed.
	old, cur := b.prev, s.Ingresses
	for len(old) > 0 || len(cur) > 0 {
		switch {
		case len(cur) == 0 || len(old) > 0 && less(old[0], cur[0]):
			e := b.entries[nameOf(old[0])]
			forget(e)
			delete(b.entries, nameOf(old[0]))
			old = old[1:]
		case len(old) == 0 || less(cur[0], old[0]):
			learn(cur[0])
			cur = cur[1:]
		default:
			if old[0] != cur[0] {
				forget(b.entries[nameOf(old[0])])
				learn(cur[0])
			}
			old, cur = old[1:], cur[1:]
		}
	}
	b.prev = s.Ingresses
	for c := range b.comps {
		if _, ok := dirty[c]; ok {
			continue
		}
		if !c.reads.valid(s) || tlsChanged && !c.tlsStill(b.tlsCount) {
			dirty[c] = struct{}{}
		}
	}
	if len(dirty) == 0 && len(work) == 0 && b.last.Model != nil {
		return Result{Model: b.last.Model, Problems: b.last.Problems}
	}
	// The Ingresses to translate: the changed ones and every member of a
	// component they (or those pulled in) share a key with.
	var pull func(c *component)
	pull = func(c *component) {
		dirty[c] = struct{}{}
		for _, m := range c.members {
			if e := b.entries[nameOf(m)]; e != nil && e.comp == c {
				work = append(work, e.ing)
			}
		}
	}
	for c := range dirty {
		pull(c)
	}
	seen := map[types.NamespacedName]bool{}
	var affected []*networkingv1.Ingress
	for len(work) > 0 {
		ing := work[len(work)-1]
		work = work[:len(work)-1]
		n := nameOf(ing)
		if seen[n] {
			continue
		}
		seen[n] = true
		affected = append(affected, ing)
		for _, k := range b.entries[n].keys {
			if c := b.byKey[k]; c != nil {
				if _, ok := dirty[c]; !ok {
					pull(c)
				}
			}
		}
	}
	olds := map[types.NamespacedName]*component{}
	for c := range dirty {
		delete(b.comps, c)
		for _, m := range c.members {
			olds[nameOf(m)] = c
			if e := b.entries[nameOf(m)]; e != nil {
				for _, k := range e.keys {
					if b.byKey[k] == c {
						delete(b.byKey, k)
					}
				}
			}
		}
	}
	groups := b.group(affected)
	changed := len(groups) != len(dirty)
	for _, group := range groups {
		c := b.translate(s, opts, group)
		if o := olds[nameOf(group[0])]; o == nil || !o.same(c) {
			changed = true
		}
	}
	if !changed && b.last.Model != nil {
		return Result{Model: b.last.Model, Problems: b.last.Problems, Translated: len(affected)}
	}
	m, problems, ok := b.merge()
	if !ok {
		return b.whole(s, opts)
	}
	b.last = Result{Model: m, Problems: problems, Changed: true, Translated: len(affected)}
	return b.last
}

// whole translates every Ingress of s as one component, the translation
// any split into components must equal.
func (b *Builder) whole(s *snapshot.Snapshot, opts Options) Result {
	b.reset(s, opts)
	all := slices.Clone(s.Ingresses)
	for _, ing := range all {
		e := &entry{ing: ing, keys: couplingKeys(ing)}
		if len(b.base.t.riskOver(ing)) == 0 {
			e.tls = tlsHostsOf(ing)
		}
		for _, h := range e.tls {
			b.tlsCount[h]++
		}
		b.entries[nameOf(ing)] = e
	}
	b.prev = s.Ingresses
	if len(all) > 0 {
		b.translate(s, opts, all)
	}
	m, problems, _ := b.merge()
	b.last = Result{Model: m, Problems: problems, Changed: true, Translated: len(all), Fallback: true}
	return b.last
}

// reset forgets every component and reads the settings anew.
func (b *Builder) reset(s *snapshot.Snapshot, opts Options) {
	t := newTranslator(s, opts, nil)
	m := t.run(nil)
	t.settle(m, opts)
	b.base = &base{opts: opts, t: t, model: m, problems: t.problems}
	b.prev = nil
	b.entries = map[types.NamespacedName]*entry{}
	b.byKey = map[string]*component{}
	b.comps = map[*component]struct{}{}
	b.tlsCount = map[string]int{}
	b.last = Result{}
}

// group splits ings into components: Ingresses sharing a coupling key,
// directly or through others, are one component. Each is returned in
// namespace/name order.
func (b *Builder) group(ings []*networkingv1.Ingress) [][]*networkingv1.Ingress {
	parent := make([]int, len(ings))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, ing := range ings {
		for _, k := range b.entries[nameOf(ing)].keys {
			if j, ok := owner[k]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[k] = i
			}
		}
	}
	byRoot := map[int][]*networkingv1.Ingress{}
	var roots []int
	for i, ing := range ings {
		r := find(i)
		if byRoot[r] == nil {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], ing)
	}
	out := make([][]*networkingv1.Ingress, 0, len(roots))
	for _, r := range roots {
		g := byRoot[r]
		slices.SortFunc(g, func(a, b *networkingv1.Ingress) int {
			if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
		out = append(out, g)
	}
	return out
}

// translate translates one component and records it.
func (b *Builder) translate(s *snapshot.Snapshot, opts Options, members []*networkingv1.Ingress) *component {
	sub := *s
	sub.Ingresses = members
	t := newTranslator(&sub, opts, b.base.t)
	t.globalTLS = b.tlsCount
	t.tlsAsked = map[string]bool{}
	catchAll := false
	for _, ing := range members {
		catchAll = catchAll || slices.Contains(b.entries[nameOf(ing)].keys, catchAllKey)
	}
	// A component that does not configure the catch-all builds the
	// default one, which is the base's: its backends are not this
	// component's to report.
	t.foreignCatchAll = !catchAll
	m := t.run(members)
	c := &component{catchAll: catchAll, members: members, model: m, problems: t.problems, reads: t.reads, tlsAsked: t.tlsAsked, decided: map[string]model.Backend{}}
	for name := range t.balance {
		if be := t.backends[name]; be != nil {
			c.decided[name] = *be
		}
	}
	b.comps[c] = struct{}{}
	for _, ing := range members {
		e := b.entries[nameOf(ing)]
		e.comp = c
		for _, k := range e.keys {
			b.byKey[k] = c
		}
	}
	return c
}

// same reports whether c translated to what o did, from the same
// Ingresses.
func (o *component) same(c *component) bool {
	if len(o.members) != len(c.members) {
		return false
	}
	for i := range o.members {
		if nameOf(o.members[i]) != nameOf(c.members[i]) {
			return false
		}
	}
	return o.catchAll == c.catchAll && reflect.DeepEqual(o.decided, c.decided) &&
		reflect.DeepEqual(o.model, c.model) && reflect.DeepEqual(o.problems, c.problems)
}

// tlsStill reports whether every certificate status the translation used
// still holds.
func (c *component) tlsStill(count map[string]int) bool {
	t := translator{globalTLS: count}
	for h, v := range c.tlsAsked {
		if t.hostHasTLS(h) != v {
			return false
		}
	}
	return true
}

// merge assembles the model from the base and the components. It reports
// false when two components claim the same host, catch-all, certificate
// binding, passthrough host or backend: the coupling keys should make that
// impossible, and the caller then translates everything as one.
func (b *Builder) merge() (*model.Model, []model.Problem, bool) {
	comps := make([]*component, 0, len(b.comps))
	hosts, problems := 0, len(b.base.problems)
	for c := range b.comps {
		comps = append(comps, c)
		hosts += len(c.model.Hosts)
		problems += len(c.problems)
	}
	slices.SortFunc(comps, func(x, y *component) int {
		a, c := x.members[0], y.members[0]
		if d := strings.Compare(a.Namespace, c.Namespace); d != 0 {
			return d
		}
		return strings.Compare(a.Name, c.Name)
	})
	bm := b.base.model
	m := &model.Model{}
	*m = *bm
	m.Hosts = make([]model.VirtualHost, 0, hosts)
	m.Backends, m.SNI, m.Passthrough = nil, nil, nil
	m.Certificates = slices.Clone(bm.Certificates)
	ps := make([]model.Problem, 0, problems)
	ps = append(ps, b.base.problems...)

	// A backend's balancer is the one the component holding the Ingresses
	// that reference it decided; the others use it undecided (which only
	// the controller's default backend can be: the rest couple).
	decided := map[string]*model.Backend{}
	for _, c := range comps {
		for name, be := range c.decided {
			if decided[name] != nil {
				return nil, nil, false
			}
			decided[name] = &be
		}
	}
	backends := map[string]*model.Backend{}
	use := func(be *model.Backend) bool {
		if backends[be.Name] != nil {
			return decided[be.Name] != nil || b.base.t.backends[be.Name] != nil
		}
		if d := decided[be.Name]; d != nil {
			be = d
		}
		backends[be.Name] = be
		return true
	}
	var catchFrom *component
	for _, c := range comps {
		if c.catchAll {
			if catchFrom != nil {
				return nil, nil, false
			}
			catchFrom = c
			m.CatchAll = c.model.CatchAll
		}
	}
	if catchFrom == nil {
		for i := range bm.Backends {
			use(&bm.Backends[i])
		}
	}
	certs := map[string]bool{}
	for _, c := range bm.Certificates {
		certs[c.Name] = true
	}
	for _, c := range comps {
		cm := c.model
		m.Hosts = append(m.Hosts, cm.Hosts...)
		ps = append(ps, c.problems...)
		for i := range cm.Backends {
			if !use(&cm.Backends[i]) {
				return nil, nil, false
			}
		}
		m.SNI = append(m.SNI, cm.SNI...)
		m.Passthrough = append(m.Passthrough, cm.Passthrough...)
		for _, cert := range cm.Certificates {
			if !certs[cert.Name] {
				certs[cert.Name] = true
				m.Certificates = append(m.Certificates, cert)
			}
		}
	}
	slices.SortFunc(m.Hosts, func(a, b model.VirtualHost) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(m.Hosts); i++ {
		if m.Hosts[i].Name == m.Hosts[i-1].Name {
			return nil, nil, false
		}
	}
	m.Backends = make([]model.Backend, 0, len(backends))
	for _, be := range backends {
		m.Backends = append(m.Backends, *be)
	}
	slices.SortFunc(m.Backends, func(a, b model.Backend) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(m.SNI, func(a, b model.SNIBinding) int { return strings.Compare(a.Host, b.Host) })
	slices.SortFunc(m.Passthrough, func(a, b model.Passthrough) int { return strings.Compare(a.Host, b.Host) })
	slices.SortFunc(m.Certificates, func(a, b model.Certificate) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(m.SNI); i++ {
		if m.SNI[i].Host == m.SNI[i-1].Host {
			return nil, nil, false
		}
	}
	for i := 1; i < len(m.Passthrough); i++ {
		if m.Passthrough[i].Host == m.Passthrough[i-1].Host {
			return nil, nil, false
		}
	}
	sortProblems(ps)
	return m, ps, true
}

// couplingKeys are what an Ingress may share with others: its hosts (and
// the names its aliases and www redirect claim), the catch-all, and the
// Services it references.
func couplingKeys(ing *networkingv1.Ingress) []string {
	var keys []string
	host := func(h string) { keys = append(keys, "host:"+h) }
	service := func(name string) {
		if name != "" {
			keys = append(keys, "service:"+ing.Namespace+"/"+name)
		}
	}
	a := ing.Annotations
	_, www := a[annotations.Prefix+annotations.FromToWWWRedirect.Name]
	if len(ing.Spec.Rules) == 0 {
		keys = append(keys, catchAllKey)
	}
	if db := ing.Spec.DefaultBackend; db != nil && db.Service != nil {
		service(db.Service.Name)
	}
	for _, r := range ing.Spec.Rules {
		if r.Host == "" {
			keys = append(keys, catchAllKey)
		} else if h, err := normalizeHost(r.Host); err == nil {
			host(h)
			if www {
				host("www." + h)
				if rest, ok := strings.CutPrefix(h, "www."); ok {
					host(rest)
				}
			}
		}
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			if p.Backend.Service != nil {
				service(p.Backend.Service.Name)
			}
		}
	}
	if v, ok := a[annotations.Prefix+annotations.DefaultBackend.Name]; ok {
		service(strings.TrimSpace(v))
	}
	if aliases, _, err := annotations.ServerAlias.Lookup(a, annotations.Prefix); err == nil {
		for _, al := range aliases {
			host(al)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func nameOf(ing *networkingv1.Ingress) types.NamespacedName {
	return types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
}

func less(a, b *networkingv1.Ingress) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// reads records the snapshot objects a translation looked at, absent ones
// as nil, so that a later snapshot can tell whether it still holds.
type reads struct {
	services   map[types.NamespacedName]*corev1.Service
	secrets    map[types.NamespacedName]*corev1.Secret
	configMaps map[types.NamespacedName]*corev1.ConfigMap
	slices     map[types.NamespacedName][]*discoveryv1.EndpointSlice
}

func newReads() *reads {
	return &reads{
		services:   map[types.NamespacedName]*corev1.Service{},
		secrets:    map[types.NamespacedName]*corev1.Secret{},
		configMaps: map[types.NamespacedName]*corev1.ConfigMap{},
		slices:     map[types.NamespacedName][]*discoveryv1.EndpointSlice{},
	}
}

// valid reports whether s holds the same objects (the same pointers: a
// source replaces an object it updates) for everything read.
func (r *reads) valid(s *snapshot.Snapshot) bool {
	for k, v := range r.services {
		if s.Services[k] != v {
			return false
		}
	}
	for k, v := range r.secrets {
		if s.Secrets[k] != v {
			return false
		}
	}
	for k, v := range r.configMaps {
		if s.ConfigMaps[k] != v {
			return false
		}
	}
	for k, v := range r.slices {
		if !slices.Equal(s.EndpointSlices[k], v) {
			return false
		}
	}
	return true
}

// service returns a Service of the snapshot, recording the read.
func (t *translator) service(ns, name string) *corev1.Service {
	k := types.NamespacedName{Namespace: ns, Name: name}
	v := t.snap.Services[k]
	t.reads.services[k] = v
	return v
}

// secretObj returns a Secret of the snapshot, recording the read.
func (t *translator) secretObj(ns, name string) *corev1.Secret {
	k := types.NamespacedName{Namespace: ns, Name: name}
	v := t.snap.Secrets[k]
	t.reads.secrets[k] = v
	return v
}

// configMap returns a ConfigMap of the snapshot, recording the read.
func (t *translator) configMap(ns, name string) *corev1.ConfigMap {
	k := types.NamespacedName{Namespace: ns, Name: name}
	v := t.snap.ConfigMaps[k]
	t.reads.configMaps[k] = v
	return v
}

// endpointSlices returns a Service's EndpointSlices, recording the read.
func (t *translator) endpointSlices(ns, name string) []*discoveryv1.EndpointSlice {
	k := types.NamespacedName{Namespace: ns, Name: name}
	v := t.snap.EndpointSlices[k]
	t.reads.slices[k] = v
	return v
}
