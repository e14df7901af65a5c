// Package kube is the Kubernetes source: client-go shared informers for the
// objects routing depends on. It tells its consumer what changed (anything
// that needs a full generation, or only the endpoints of some Services) and
// builds the object set for a snapshot from its caches. Updates that change
// nothing relevant (resyncs, status-only writes, including Strait's own) are
// dropped before they reach the consumer.
package kube

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/straitgw/strait/internal/snapshot"
)

// Options select what the source watches.
type Options struct {
	// Namespace limits Ingresses, Services, EndpointSlices and Secrets to
	// one namespace (--watch-namespace); empty means all.
	Namespace string
	// NamespaceSelector limits them to namespaces whose labels match
	// (--watch-namespace-selector); nil means all.
	NamespaceSelector labels.Selector
	// ConfigMap is the controller ConfigMap (--configmap), "" for none.
	ConfigMap types.NamespacedName
	// Extra names objects outside the watched namespace that are still
	// needed: the default backend Service, the publish Service and the
	// default certificate Secret.
	ExtraServices []types.NamespacedName
	ExtraSecrets  []types.NamespacedName
	// Classes selects the Ingresses served, as snapshot.Build would: the
	// source applies it itself, remembering each Ingress's verdict until
	// the IngressClasses change, so that a snapshot need not look at
	// thousands of Ingresses again for every generation.
	Classes snapshot.ClassOptions
	// Gateway is the Gateway API client: with it the source watches
	// GatewayClasses, Gateways, HTTPRoutes, GRPCRoutes, ReferenceGrants
	// and Namespaces. Nil leaves the Gateway API out (its CRDs are not
	// installed, or the controller may not read them).
	Gateway gatewayclient.Interface
}

// Change says what an event batch touched.
type Change struct {
	// Full means something other than EndpointSlices changed.
	Full bool
	// Endpoints are Services whose EndpointSlices changed.
	Endpoints map[types.NamespacedName]bool
}

// Merge adds o to c.
func (c *Change) Merge(o Change) {
	c.Full = c.Full || o.Full
	for k := range o.Endpoints {
		if c.Endpoints == nil {
			c.Endpoints = map[types.NamespacedName]bool{}
		}
		c.Endpoints[k] = true
	}
}

// Source holds the informers.
type Source struct {
	client    kubernetes.Interface
	opts      Options
	log       *slog.Logger
	informers []cache.SharedIndexInformer
	changes   chan Change
	stop      context.Context // set by Start; ends the retry loops

	ingresses  cache.SharedIndexInformer
	classes    cache.SharedIndexInformer
	services   []cache.SharedIndexInformer
	slices     cache.SharedIndexInformer
	secrets    []cache.SharedIndexInformer
	configMaps []cache.SharedIndexInformer
	namespaces cache.SharedIndexInformer
	// The Gateway API's informers, nil without Options.Gateway; gwNS
	// lists every namespace, for listeners' allowedRoutes selectors.
	gwClasses, gateways, httpRoutes, grpcRoutes, grants, gwNS cache.SharedIndexInformer

	outageMu sync.Mutex
	outage   bool

	// ingList is the Ingresses in namespace/name order, kept by the
	// Ingress handler as events arrive, so that a snapshot need not sort
	// thousands of them for every generation; ingSynced reports when the
	// handler has seen the initial list.
	ingList   sortedIngresses
	ingSynced cache.InformerSynced
	// classVer counts IngressClass events (from 1): the Ingresses'
	// verdicts hold while it stays.
	classVer atomic.Uint64
	// othersVer counts the events of every kind but Ingresses: while it
	// stays, a snapshot shares the indexed objects of the last one (see
	// Snapshot), built at othersVer lastVer with classes of lastClassVer.
	othersVer    atomic.Uint64
	snapMu       sync.Mutex
	last         *snapshot.Snapshot
	lastVer      uint64
	lastClassVer uint64
}

// sortedIngresses is a list of Ingresses in namespace/name order, each
// with whether its class is served, as decided under class version ver.
type sortedIngresses struct {
	mu   sync.Mutex
	list []ingEntry
}

type ingEntry struct {
	ing    *networkingv1.Ingress
	served bool
	ver    uint64 // 0: not decided yet
}

// put adds ing, or replaces the object of the same name.
func (l *sortedIngresses) put(ing *networkingv1.Ingress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, found := slices.BinarySearchFunc(l.list, ing, func(a ingEntry, b *networkingv1.Ingress) int { return snapshot.CompareIngresses(a.ing, b) })
	if found {
		l.list[i] = ingEntry{ing: ing}
		return
	}
	l.list = slices.Insert(l.list, i, ingEntry{ing: ing})
}

// remove drops the Ingress of ing's name.
func (l *sortedIngresses) remove(ing *networkingv1.Ingress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, found := slices.BinarySearchFunc(l.list, ing, func(a ingEntry, b *networkingv1.Ingress) int { return snapshot.CompareIngresses(a.ing, b) })
	if found {
		l.list = slices.Delete(l.list, i, i+1)
	}
}

// copy returns, in order, the Ingresses served (by class) whose namespace
// keep accepts (nil: all). Verdicts older than ver are decided again with
// served; the others are kept, so that only new objects are read.
func (l *sortedIngresses) copy(keep func(ns string) bool, served func(*networkingv1.Ingress) bool, ver uint64) []*networkingv1.Ingress {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*networkingv1.Ingress, 0, len(l.list))
	for i := range l.list {
		e := &l.list[i]
		if e.ver != ver {
			e.served, e.ver = served(e.ing), ver
		}
		if e.served && (keep == nil || keep(e.ing.Namespace)) {
			out = append(out, e.ing)
		}
	}
	return out
}

// New sets up the informers; nothing is listed until Start.
func New(client kubernetes.Interface, opts Options, log *slog.Logger) *Source {
	s := &Source{client: client, opts: opts, log: log, changes: make(chan Change, 1024), stop: context.Background()}
	ns := opts.Namespace
	net1, core, disc := client.NetworkingV1(), client.CoreV1(), client.DiscoveryV1()
	// Secrets are watched by type: certificates (tls) and everything
	// annotations reference (Opaque: htpasswd files, CA bundles). Other
	// types, service-account tokens and Helm releases above all, are
	// numerous and never used.
	ofType := func(t corev1.SecretType) func(*metav1.ListOptions) {
		return func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(t)).String()
		}
	}
	byName := func(name string) func(*metav1.ListOptions) {
		return func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}
	}

	s.ingresses = informerFor(s, &networkingv1.Ingress{}, net1.Ingresses(ns).List, net1.Ingresses(ns).Watch, nil)
	s.classes = informerFor(s, &networkingv1.IngressClass{}, net1.IngressClasses().List, net1.IngressClasses().Watch, nil)
	s.services = []cache.SharedIndexInformer{informerFor(s, &corev1.Service{}, core.Services(ns).List, core.Services(ns).Watch, nil)}
	s.slices = informerFor(s, &discoveryv1.EndpointSlice{}, disc.EndpointSlices(ns).List, disc.EndpointSlices(ns).Watch, nil)
	s.secrets = []cache.SharedIndexInformer{
		informerFor(s, &corev1.Secret{}, core.Secrets(ns).List, core.Secrets(ns).Watch, ofType(corev1.SecretTypeTLS)),
		informerFor(s, &corev1.Secret{}, core.Secrets(ns).List, core.Secrets(ns).Watch, ofType(corev1.SecretTypeOpaque)),
	}
	if opts.NamespaceSelector != nil && !opts.NamespaceSelector.Empty() {
		s.namespaces = informerFor(s, &corev1.Namespace{}, core.Namespaces().List, core.Namespaces().Watch, nil)
	}
	// ConfigMaps in the watched namespaces hold what annotations and the
	// controller ConfigMap reference (proxy-set-headers, add-headers,
	// custom-headers); the controller ConfigMap itself may live elsewhere.
	s.configMaps = []cache.SharedIndexInformer{informerFor(s, &corev1.ConfigMap{}, core.ConfigMaps(ns).List, core.ConfigMaps(ns).Watch, nil)}
	if n := opts.ConfigMap; n.Name != "" && ns != "" && n.Namespace != ns {
		s.configMaps = append(s.configMaps, informerFor(s, &corev1.ConfigMap{}, core.ConfigMaps(n.Namespace).List, core.ConfigMaps(n.Namespace).Watch, byName(n.Name)))
		// The Lua plugins' ConfigMaps live beside it, labelled
		// strait.dev/plugin (translate/plugins.go).
		s.configMaps = append(s.configMaps, informerFor(s, &corev1.ConfigMap{}, core.ConfigMaps(n.Namespace).List, core.ConfigMaps(n.Namespace).Watch,
			func(o *metav1.ListOptions) { o.LabelSelector = "strait.dev/plugin" }))
	}
	for _, n := range opts.ExtraServices {
		if n.Name == "" || ns == "" || n.Namespace == ns {
			continue // already watched
		}
		s.services = append(s.services, informerFor(s, &corev1.Service{}, core.Services(n.Namespace).List, core.Services(n.Namespace).Watch, byName(n.Name)))
	}
	for _, n := range opts.ExtraSecrets {
		if n.Name != "" {
			s.secrets = append(s.secrets, informerFor(s, &corev1.Secret{}, core.Secrets(n.Namespace).List, core.Secrets(n.Namespace).Watch, byName(n.Name)))
		}
	}

	if gw := opts.Gateway; gw != nil {
		v1 := gw.GatewayV1()
		s.gwClasses = informerFor(s, &gatewayv1.GatewayClass{}, v1.GatewayClasses().List, v1.GatewayClasses().Watch, nil)
		s.gateways = informerFor(s, &gatewayv1.Gateway{}, v1.Gateways(ns).List, v1.Gateways(ns).Watch, nil)
		s.httpRoutes = informerFor(s, &gatewayv1.HTTPRoute{}, v1.HTTPRoutes(ns).List, v1.HTTPRoutes(ns).Watch, nil)
		s.grpcRoutes = informerFor(s, &gatewayv1.GRPCRoute{}, v1.GRPCRoutes(ns).List, v1.GRPCRoutes(ns).Watch, nil)
		s.grants = informerFor(s, &gatewayv1.ReferenceGrant{}, v1.ReferenceGrants(ns).List, v1.ReferenceGrants(ns).Watch, nil)
		s.gwNS = s.namespaces
		if s.gwNS == nil {
			s.gwNS = informerFor(s, &corev1.Namespace{}, core.Namespaces().List, core.Namespaces().Watch, nil)
		}
	}

	full := func(any) { s.notify(Change{Full: true}) }
	// The Ingress list is kept in order by the same handler that
	// notifies, so a generation always sees what it was told about; every
	// update replaces the object, even one that changes nothing routing
	// reads (the status writer reads the status).
	s.ingSynced = s.handleTracked(s.ingresses, full, ingressChanged, func(obj any, deleted bool) {
		if ing, ok := obj.(*networkingv1.Ingress); ok {
			if deleted {
				s.ingList.remove(ing)
			} else {
				s.ingList.put(ing)
			}
		}
	})
	s.classVer.Store(1)
	s.handleTracked(s.classes, full, specChanged, func(any, bool) {
		s.classVer.Add(1)
		s.othersVer.Add(1)
	})
	for _, inf := range s.services {
		s.handle(inf, full, specChanged)
	}
	for _, inf := range s.secrets {
		s.handle(inf, full, specChanged)
	}
	for _, inf := range s.configMaps {
		s.handle(inf, full, specChanged)
	}
	if s.namespaces != nil || s.gwNS != nil {
		inf := s.namespaces
		if inf == nil {
			inf = s.gwNS
		}
		s.handle(inf, full, func(o, n any) bool {
			return !reflect.DeepEqual(o.(*corev1.Namespace).Labels, n.(*corev1.Namespace).Labels)
		})
	}
	for _, inf := range []cache.SharedIndexInformer{s.gwClasses, s.gateways, s.httpRoutes, s.grpcRoutes, s.grants} {
		if inf != nil {
			s.handle(inf, full, metaChanged)
		}
	}
	s.handle(s.slices, func(obj any) {
		if es, ok := obj.(*discoveryv1.EndpointSlice); ok {
			if svc := es.Labels[snapshot.ServiceNameLabel]; svc != "" {
				s.notify(Change{Endpoints: map[types.NamespacedName]bool{{Namespace: es.Namespace, Name: svc}: true}})
			}
			return
		}
		s.notify(Change{Full: true})
	}, specChanged)
	return s
}

// informerFor builds an informer whose list and watch calls wait out API
// outages themselves (see retryLW), with managed fields and last-applied
// annotations trimmed from cached objects.
func informerFor[L runtime.Object](s *Source, obj runtime.Object,
	list func(context.Context, metav1.ListOptions) (L, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
	tweak func(*metav1.ListOptions)) cache.SharedIndexInformer {
	lw := &retryLW{src: s, tweak: tweak, watch: watchFn,
		list: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return list(ctx, o) }}
	inf := cache.NewSharedIndexInformer(lw, obj, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	_ = inf.SetTransform(trim)
	s.informers = append(s.informers, inf)
	return inf
}

// trim drops managed fields and the last-applied annotation: large, never
// read, and the bulk of an object's size at scale.
func trim(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a["kubectl.kubernetes.io/last-applied-configuration"] != "" {
			delete(a, "kubectl.kubernetes.io/last-applied-configuration")
		}
	}
	return obj, nil
}

// handle registers onChange for adds, deletes and relevant updates.
func (s *Source) handle(inf cache.SharedIndexInformer, onChange func(any), relevant func(o, n any) bool) {
	s.handleTracked(inf, onChange, relevant, func(any, bool) { s.othersVer.Add(1) })
}

// handleTracked is handle with track called first on every event, with
// the new object (or the deleted one). It returns when the handler has
// seen the informer's initial list.
func (s *Source) handleTracked(inf cache.SharedIndexInformer, onChange func(any), relevant func(o, n any) bool, track func(obj any, deleted bool)) cache.InformerSynced {
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		s.unreachable(err)
	})
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			track(obj, false)
			onChange(obj)
		},
		UpdateFunc: func(o, n any) {
			track(n, false)
			if relevant(o, n) {
				onChange(n)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			track(obj, true)
			onChange(obj)
		},
	})
	if err != nil {
		// Only an informer already stopped refuses handlers; it never
		// syncs either.
		return func() bool { return false }
	}
	return reg.HasSynced
}

// unreachable logs the start of an API outage once.
func (s *Source) unreachable(err error) {
	s.outageMu.Lock()
	first := !s.outage
	s.outage = true
	s.outageMu.Unlock()
	if first {
		s.log.Error("Kubernetes API unreachable; serving the last generation until it returns", "error", err)
	}
}

func (s *Source) recovered() {
	s.outageMu.Lock()
	was := s.outage
	s.outage = false
	s.outageMu.Unlock()
	if was {
		s.log.Info("Kubernetes API reachable again")
	}
}

func (s *Source) notify(c Change) {
	select {
	case s.changes <- c:
	default:
		// The consumer is behind: a full change subsumes whatever was
		// dropped.
		go func() { s.changes <- Change{Full: true} }()
	}
}

// Changes delivers what changed, one event at a time; the consumer
// coalesces.
func (s *Source) Changes() <-chan Change { return s.changes }

// Start starts the informers and waits for their caches to sync.
func (s *Source) Start(ctx context.Context) error {
	s.stop = ctx
	synced := make([]cache.InformerSynced, 0, len(s.informers))
	for _, inf := range s.informers {
		go inf.RunWithContext(ctx)
		synced = append(synced, inf.HasSynced)
	}
	if s.ingSynced != nil {
		synced = append(synced, s.ingSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("informer caches did not sync")
	}
	return nil
}

// ingressChanged drops status-only updates: the generation counts spec
// changes, and annotations and labels are compared directly.
func ingressChanged(o, n any) bool {
	a, b := o.(*networkingv1.Ingress), n.(*networkingv1.Ingress)
	if a.ResourceVersion == b.ResourceVersion {
		return false
	}
	return a.Generation != b.Generation || !reflect.DeepEqual(a.Annotations, b.Annotations) ||
		!reflect.DeepEqual(a.Labels, b.Labels) || !reflect.DeepEqual(a.Spec, b.Spec)
}

// metaChanged drops resyncs and status-only updates (Strait's own status
// writes among them): a Gateway API object's generation counts its spec
// changes; labels and annotations are compared directly.
func metaChanged(o, n any) bool {
	a, b := o.(metav1.Object), n.(metav1.Object)
	if a.GetResourceVersion() == b.GetResourceVersion() {
		return false
	}
	return a.GetGeneration() != b.GetGeneration() || !reflect.DeepEqual(a.GetLabels(), b.GetLabels()) ||
		!reflect.DeepEqual(a.GetAnnotations(), b.GetAnnotations())
}

// specChanged drops resyncs, which redeliver the same version.
func specChanged(o, n any) bool {
	a, b := o.(metav1.Object), n.(metav1.Object)
	return a.GetResourceVersion() != b.GetResourceVersion()
}

// Snapshot builds the snapshot of the objects cached now. While nothing
// but Ingresses changed since the last one, it shares that snapshot's
// indexed objects and classes and takes only the Ingress list anew: under
// Ingress churn a generation then costs no pass over every Service,
// Secret and EndpointSlice. An event is counted when its handler runs,
// after the cache changed: the snapshot it notifies of sees the change.
// Ingresses are filtered by Options.Classes.
func (s *Source) Snapshot() *snapshot.Snapshot {
	ver := s.othersVer.Load()
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.last != nil && s.lastVer == ver {
		snap := *s.last
		// The verdicts are cached under the class version the classes
		// were read at.
		snap.Ingresses = s.ingList.copy(s.namespaceFilter(), snapshot.ClassFilter(snap.IngressClasses, s.opts.Classes), s.lastClassVer)
		return &snap
	}
	objs, classVer := s.objects()
	snap := snapshot.Build(objs, s.opts.Classes)
	s.last, s.lastVer, s.lastClassVer = snap, ver, classVer
	return snap
}

// objects lists the caches into an object set for snapshot.Build, and
// returns the class version its Ingresses were filtered under.
func (s *Source) objects() (snapshot.Objects, uint64) {
	var objs snapshot.Objects
	keepNS := s.namespaceFilter()
	inNS := keepNS
	if inNS == nil {
		inNS = func(string) bool { return true }
	}
	// The version is read before the classes are: a class changing
	// meanwhile bumps it, and the next snapshot decides again.
	ver := s.classVer.Load()
	for _, o := range s.classes.GetStore().List() {
		objs.IngressClasses = append(objs.IngressClasses, o.(*networkingv1.IngressClass))
	}
	objs.Ingresses = s.ingList.copy(keepNS, snapshot.ClassFilter(objs.IngressClasses, s.opts.Classes), ver)
	objs.Classified = true
	seen := map[types.UID]bool{}
	for i, inf := range s.services {
		for _, o := range inf.GetStore().List() {
			svc := o.(*corev1.Service)
			if !seen[svc.UID] && (i > 0 || inNS(svc.Namespace) || s.isExtraService(svc)) {
				seen[svc.UID] = true
				objs.Services = append(objs.Services, svc)
			}
		}
	}
	for _, o := range s.slices.GetStore().List() {
		if es := o.(*discoveryv1.EndpointSlice); inNS(es.Namespace) || s.isExtraService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: es.Namespace, Name: es.Labels[snapshot.ServiceNameLabel]}}) {
			objs.EndpointSlices = append(objs.EndpointSlices, es)
		}
	}
	for i, inf := range s.secrets {
		for _, o := range inf.GetStore().List() {
			sec := o.(*corev1.Secret)
			if !seen[sec.UID] && (i > 1 || inNS(sec.Namespace)) {
				seen[sec.UID] = true
				objs.Secrets = append(objs.Secrets, sec)
			}
		}
	}
	for i, inf := range s.configMaps {
		for _, o := range inf.GetStore().List() {
			cm := o.(*corev1.ConfigMap)
			if !seen[cm.UID] && (i > 0 || inNS(cm.Namespace) || types.NamespacedName{Namespace: cm.Namespace, Name: cm.Name} == s.opts.ConfigMap) {
				seen[cm.UID] = true
				objs.ConfigMaps = append(objs.ConfigMaps, cm)
			}
		}
	}
	if s.gwClasses != nil {
		s.gatewayObjects(&objs, inNS)
	}
	return objs, ver
}

// gatewayObjects adds the Gateway API objects in the watched namespaces
// to objs.
func (s *Source) gatewayObjects(objs *snapshot.Objects, inNS func(string) bool) {
	for _, o := range s.gwClasses.GetStore().List() {
		objs.GatewayClasses = append(objs.GatewayClasses, o.(*gatewayv1.GatewayClass))
	}
	for _, o := range s.gateways.GetStore().List() {
		if g := o.(*gatewayv1.Gateway); inNS(g.Namespace) {
			objs.Gateways = append(objs.Gateways, g)
		}
	}
	for _, o := range s.httpRoutes.GetStore().List() {
		if r := o.(*gatewayv1.HTTPRoute); inNS(r.Namespace) {
			objs.HTTPRoutes = append(objs.HTTPRoutes, r)
		}
	}
	for _, o := range s.grpcRoutes.GetStore().List() {
		if r := o.(*gatewayv1.GRPCRoute); inNS(r.Namespace) {
			objs.GRPCRoutes = append(objs.GRPCRoutes, r)
		}
	}
	for _, o := range s.grants.GetStore().List() {
		if g := o.(*gatewayv1.ReferenceGrant); inNS(g.Namespace) {
			objs.ReferenceGrants = append(objs.ReferenceGrants, g)
		}
	}
	for _, o := range s.gwNS.GetStore().List() {
		objs.Namespaces = append(objs.Namespaces, o.(*corev1.Namespace))
	}
}

func (s *Source) isExtraService(svc *corev1.Service) bool {
	for _, n := range s.opts.ExtraServices {
		if n.Namespace == svc.Namespace && n.Name == svc.Name {
			return true
		}
	}
	return false
}

// Watches reports whether the Ingresses of namespace ns are served, by
// --watch-namespace and --watch-namespace-selector, as the caches now say.
func (s *Source) Watches(ns string) bool {
	switch {
	case s.opts.Namespace != "":
		return ns == s.opts.Namespace
	case s.namespaces == nil:
		return true
	}
	o, ok, _ := s.namespaces.GetStore().GetByKey(ns)
	return ok && s.opts.NamespaceSelector.Matches(labels.Set(o.(*corev1.Namespace).Labels))
}

// namespaceFilter returns the namespace-selector test.
func (s *Source) namespaceFilter() func(string) bool {
	if s.namespaces == nil {
		return nil // every namespace
	}
	match := map[string]bool{}
	for _, o := range s.namespaces.GetStore().List() {
		ns := o.(*corev1.Namespace)
		if s.opts.NamespaceSelector.Matches(labels.Set(ns.Labels)) {
			match[ns.Name] = true
		}
	}
	return func(n string) bool { return match[n] }
}

// EndpointSlices returns the cached slices of one Service, for the
// endpoints fast path.
func (s *Source) EndpointSlices(svc types.NamespacedName) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, o := range s.slices.GetStore().List() {
		es := o.(*discoveryv1.EndpointSlice)
		if es.Namespace == svc.Namespace && es.Labels[snapshot.ServiceNameLabel] == svc.Name {
			out = append(out, es)
		}
	}
	return out
}

// Service returns a cached Service.
func (s *Source) Service(n types.NamespacedName) *corev1.Service {
	for _, inf := range s.services {
		if o, ok, _ := inf.GetStore().GetByKey(key(n)); ok {
			return o.(*corev1.Service)
		}
	}
	return nil
}

func key(n types.NamespacedName) string {
	if n.Namespace == "" {
		return n.Name
	}
	return n.Namespace + "/" + n.Name
}

// ParseNamespacedName parses "namespace/name"; empty input gives a zero
// value.
func ParseNamespacedName(s string) (types.NamespacedName, error) {
	if s == "" {
		return types.NamespacedName{}, nil
	}
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" {
		return types.NamespacedName{}, fmt.Errorf("%q is not namespace/name", s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}
