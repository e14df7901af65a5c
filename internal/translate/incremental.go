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
	// asm is the model put together from the components.
	asm *assembly
	// readers are the components by the snapshot objects they read, and
	// asked by the hosts whose certificate status they used, so that a
	// change finds the components it concerns. snap is the last snapshot.
	readers map[readKey]map[*component]struct{}
	asked   map[string]map[*component]struct{}
	snap    *snapshot.Snapshot
	// tlsCount counts, per host, the admitted Ingresses that give it a
	// certificate; svcTuned, per Service, the Ingresses using it with
	// backend-selection annotations.
	tlsCount map[string]int
	svcTuned map[string]int
	last     Result
}

// entry is one Ingress as the Builder last saw it.
type entry struct {
	ing  *networkingv1.Ingress
	keys []string
	// services are the Services its rules and default backend use, and
	// tuned is set when it has backend-selection annotations.
	services []string
	tuned    bool
	tls      []string
	comp     *component
}

// newEntry reads what the Builder needs of an Ingress; its keys are
// completed by serviceKeys once every Ingress is counted.
func (b *Builder) newEntry(ing *networkingv1.Ingress) *entry {
	e := &entry{ing: ing, tuned: balanceTuned(ing.Annotations)}
	e.keys, e.services = couplingKeys(ing)
	if len(b.base.t.riskOver(ing)) == 0 {
		e.tls = tlsHostsOf(ing)
	}
	return e
}

// serviceKeys adds to e's keys the Services whose balancer some Ingress
// tunes: the oldest Ingress using such a Service decides it for all of
// them, so they translate together. Ingresses using a Service nobody
// tunes all decide the ConfigMap's defaults, and need not.
func (b *Builder) serviceKeys(e *entry) {
	all := b.base.t.settings.balance.serviceUpstream
	for _, svc := range e.services {
		if all || b.svcTuned[svc] > 0 {
			e.keys = append(e.keys, "service:"+svc)
		}
	}
	slices.Sort(e.keys)
	e.keys = slices.Compact(e.keys)
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
	// tuned are the backends whose balancer an Ingress here decided by
	// its annotations, used here or not: the decision holds wherever
	// they are used.
	tuned []model.Backend
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
	fresh := b.prev == nil
	dirty := map[*component]struct{}{}
	var work []*networkingv1.Ingress
	var learned []*entry
	tunedChanged := false
	var tlsCrossed []string
	forget := func(e *entry) {
		for _, h := range e.tls {
			if b.tlsCount[h]--; b.tlsCount[h] <= 0 {
				delete(b.tlsCount, h)
				tlsCrossed = append(tlsCrossed, h)
			}
		}
		if e.tuned {
			for _, svc := range e.services {
				if b.svcTuned[svc]--; b.svcTuned[svc] <= 0 {
					delete(b.svcTuned, svc)
					tunedChanged = true
				}
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
		e := b.newEntry(ing)
		for _, h := range e.tls {
			if b.tlsCount[h]++; b.tlsCount[h] == 1 {
				tlsCrossed = append(tlsCrossed, h)
			}
		}
		if e.tuned {
			for _, svc := range e.services {
				if b.svcTuned[svc]++; b.svcTuned[svc] == 1 {
					tunedChanged = true
				}
			}
		}
		b.entries[nameOf(ing)] = e
		learned = append(learned, e)
		work = append(work, ing)
	}
	// Both lists are in namespace/name order: one walk finds the
	// Ingresses added, removed and changed.
	old, cur := b.prev, s.Ingresses
	for len(old) > 0 || len(cur) > 0 {
		if len(old) > 0 && len(cur) > 0 && old[0] == cur[0] {
			// The common case, told without reading the objects.
			old, cur = old[1:], cur[1:]
			continue
		}
		switch {
		case len(cur) == 0 || len(old) > 0 && snapshot.CompareIngresses(old[0], cur[0]) < 0:
			e := b.entries[nameOf(old[0])]
			forget(e)
			delete(b.entries, nameOf(old[0]))
			old = old[1:]
		case len(old) == 0 || snapshot.CompareIngresses(cur[0], old[0]) < 0:
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
	if tunedChanged && !fresh {
		// A Service became tuned or stopped being: the Ingresses using
		// it couple differently. Rare; start again.
		b.reset(s, opts)
		return b.Build(s, opts)
	}
	for _, e := range learned {
		b.serviceKeys(e)
	}
	for _, k := range changedObjects(b.snap, s) {
		for c := range b.readers[k] {
			dirty[c] = struct{}{}
		}
	}
	b.snap = s
	for _, h := range tlsCrossed {
		// A host's status, or with a wildcard that of every host under
		// it, is what the components asking about them used.
		for c := range b.asked[h] {
			dirty[c] = struct{}{}
		}
		if parent, ok := strings.CutPrefix(h, "*."); ok {
			for c := range b.asked["under:"+parent] {
				dirty[c] = struct{}{}
			}
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
		b.drop(c)
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
		if !b.asm.add(c) {
			return b.whole(s, opts)
		}
		if o := olds[nameOf(group[0])]; o == nil || !o.same(c) {
			changed = true
		}
	}
	if !changed && b.last.Model != nil {
		// The components are new objects, but the model they make is
		// the last one: keep serving it.
		b.asm.model(b.base, b.last.Problems, true)
		return Result{Model: b.last.Model, Problems: b.last.Problems, Translated: len(affected)}
	}
	m, problems := b.asm.model(b.base, b.last.Problems, b.last.Model != nil)
	b.last = Result{Model: m, Problems: problems, Changed: true, Translated: len(affected)}
	return b.last
}

// drop forgets a component: out of the model and the indexes.
func (b *Builder) drop(c *component) {
	b.asm.remove(c)
	c.reads.each(func(k readKey) {
		if rs := b.readers[k]; rs != nil {
			delete(rs, c)
			if len(rs) == 0 {
				delete(b.readers, k)
			}
		}
	})
	for h := range c.tlsAsked {
		for _, k := range askedKeys(h) {
			if as := b.asked[k]; as != nil {
				delete(as, c)
				if len(as) == 0 {
					delete(b.asked, k)
				}
			}
		}
	}
}

// askedKeys are the index keys of an asked host: itself and, for a name
// under a domain, the domain (where a wildcard certificate would be).
func askedKeys(h string) []string {
	keys := []string{h}
	if i := strings.IndexByte(h, '.'); i > 0 && !strings.HasPrefix(h, "*.") {
		keys = append(keys, "under:"+h[i+1:])
	}
	return keys
}

// whole translates every Ingress of s as one component, the translation
// any split into components must equal.
func (b *Builder) whole(s *snapshot.Snapshot, opts Options) Result {
	b.reset(s, opts)
	all := slices.Clone(s.Ingresses)
	for _, ing := range all {
		e := b.newEntry(ing)
		for _, h := range e.tls {
			b.tlsCount[h]++
		}
		if e.tuned {
			for _, svc := range e.services {
				b.svcTuned[svc]++
			}
		}
		b.entries[nameOf(ing)] = e
	}
	for _, ing := range all {
		b.serviceKeys(b.entries[nameOf(ing)])
	}
	b.prev = s.Ingresses
	if len(all) > 0 {
		b.asm.add(b.translate(s, opts, all))
	}
	m, problems := b.asm.model(b.base, nil, false)
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
	b.asm = newAssembly()
	b.readers = map[readKey]map[*component]struct{}{}
	b.asked = map[string]map[*component]struct{}{}
	b.snap = s
	b.tlsCount = map[string]int{}
	b.svcTuned = map[string]int{}
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
		slices.SortFunc(g, snapshot.CompareIngresses)
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
	c := &component{catchAll: catchAll, members: members, model: m, problems: t.problems, reads: t.reads, tlsAsked: t.tlsAsked}
	// Kept exact-sized: thousands of components are kept.
	c.reads = new(reads)
	*c.reads = slices.Clone(*t.reads)
	for name, st := range t.balance {
		if be := t.backends[name]; be != nil && st.tuned {
			c.tuned = append(c.tuned, *be)
		}
	}
	slices.SortFunc(c.tuned, func(a, b model.Backend) int { return strings.Compare(a.Name, b.Name) })
	c.reads.each(func(k readKey) {
		if b.readers[k] == nil {
			b.readers[k] = map[*component]struct{}{}
		}
		b.readers[k][c] = struct{}{}
	})
	for h := range c.tlsAsked {
		for _, k := range askedKeys(h) {
			if b.asked[k] == nil {
				b.asked[k] = map[*component]struct{}{}
			}
			b.asked[k][c] = struct{}{}
		}
	}
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
	return o.catchAll == c.catchAll && reflect.DeepEqual(o.tuned, c.tuned) &&
		reflect.DeepEqual(o.model, c.model) && reflect.DeepEqual(o.problems, c.problems)
}

// couplingKeys are what an Ingress may share with others: its hosts (and
// the names its aliases and www redirect claim), the catch-all, and the
// Service of its default-backend annotation. services are the Services
// its rules and default backend use, which couple only when tuned (see
// serviceKeys).
func couplingKeys(ing *networkingv1.Ingress) (keys, services []string) {
	host := func(h string) { keys = append(keys, "host:"+h) }
	service := func(name string) {
		if name != "" {
			services = append(services, ing.Namespace+"/"+name)
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
		// Error pages' backends are used without being decided: the
		// Ingresses sharing one translate together.
		keys = append(keys, "service:"+ing.Namespace+"/"+strings.TrimSpace(v))
	}
	if aliases, _, err := annotations.ServerAlias.Lookup(a, annotations.Prefix); err == nil {
		for _, al := range aliases {
			host(al)
		}
	}
	slices.Sort(keys)
	slices.Sort(services)
	return slices.Compact(keys), slices.Compact(services)
}

func nameOf(ing *networkingv1.Ingress) types.NamespacedName {
	return types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
}

// reads records the snapshot objects a translation looked at, absent ones
// as nil, so that a later snapshot can tell whether it still holds. A
// slice, not maps: a component reads a few objects, and thousands of
// components are kept.
type reads []readEntry

// readEntry is one object read.
type readEntry struct {
	key    readKey
	svc    *corev1.Service
	secret *corev1.Secret
	cm     *corev1.ConfigMap
	slices []*discoveryv1.EndpointSlice
}

func newReads() *reads { return &reads{} }

// valid reports whether s holds the same objects (the same pointers: a
// source replaces an object it updates) for everything read.
func (r *reads) valid(s *snapshot.Snapshot) bool {
	for _, e := range *r {
		n := e.key.name
		switch e.key.kind {
		case readService:
			if s.Services[n] != e.svc {
				return false
			}
		case readSecret:
			if s.Secrets[n] != e.secret {
				return false
			}
		case readConfigMap:
			if s.ConfigMaps[n] != e.cm {
				return false
			}
		case readSlices:
			if !slices.Equal(s.EndpointSlices[n], e.slices) {
				return false
			}
		}
	}
	return true
}

// service returns a Service of the snapshot, recording the read.
func (t *translator) service(ns, name string) *corev1.Service {
	k := types.NamespacedName{Namespace: ns, Name: name}
	v := t.snap.Services[k]
	*t.reads = append(*t.reads, readEntry{key: readKey{readService, k}, svc: v})
	return v
}

// secretObj returns a Secret of the snapshot, recording the read.
func (t *translator) secretObj(ns, name string) *corev1.Secret {
	k := types.NamespacedName{Namespace: ns, Name: name}
	v := t.snap.Secrets[k]
	*t.reads = append(*t.reads, readEntry{key: readKey{readSecret, k}, secret: v})
	return v
}

// configMap returns a ConfigMap of the snapshot, recording the read.
func (t *translator) configMap(ns, name string) *corev1.ConfigMap {
	k := types.NamespacedName{Namespace: ns, Name: name}
	v := t.snap.ConfigMaps[k]
	*t.reads = append(*t.reads, readEntry{key: readKey{readConfigMap, k}, cm: v})
	return v
}

// endpointSlices returns a Service's EndpointSlices, recording the read.
func (t *translator) endpointSlices(ns, name string) []*discoveryv1.EndpointSlice {
	k := types.NamespacedName{Namespace: ns, Name: name}
	v := t.snap.EndpointSlices[k]
	*t.reads = append(*t.reads, readEntry{key: readKey{readSlices, k}, slices: v})
	return v
}

// readKey names a snapshot object a translation read.
type readKey struct {
	kind readKind
	name types.NamespacedName
}

// readKind is the kind of a read object.
type readKind uint8

const (
	readService readKind = iota
	readSecret
	readConfigMap
	readSlices
)

// each calls f with every object read (an object read twice, twice).
func (r *reads) each(f func(readKey)) {
	for _, e := range *r {
		f(e.key)
	}
}

// changedObjects lists the objects other than Ingresses that differ
// between two snapshots: added, removed or replaced.
func changedObjects(prev, cur *snapshot.Snapshot) []readKey {
	if prev == nil || prev == cur {
		return nil
	}
	var out []readKey
	out = appendChanged(out, readService, prev.Services, cur.Services, func(a, b *corev1.Service) bool { return a == b })
	out = appendChanged(out, readSecret, prev.Secrets, cur.Secrets, func(a, b *corev1.Secret) bool { return a == b })
	out = appendChanged(out, readConfigMap, prev.ConfigMaps, cur.ConfigMaps, func(a, b *corev1.ConfigMap) bool { return a == b })
	out = appendChanged(out, readSlices, prev.EndpointSlices, cur.EndpointSlices, slices.Equal[[]*discoveryv1.EndpointSlice])
	return out
}

func appendChanged[V any](out []readKey, kind readKind, prev, cur map[types.NamespacedName]V, same func(a, b V) bool) []readKey {
	if len(prev) == len(cur) && reflect.ValueOf(prev).UnsafePointer() == reflect.ValueOf(cur).UnsafePointer() {
		// A source shares the maps of a snapshot whose objects stayed.
		return out
	}
	for k, v := range cur {
		if p, ok := prev[k]; !ok || !same(p, v) {
			out = append(out, readKey{kind, k})
		}
	}
	for k := range prev {
		if _, ok := cur[k]; !ok {
			out = append(out, readKey{kind, k})
		}
	}
	return out
}
