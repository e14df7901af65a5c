// Package status writes what translate found back to the cluster: Ingress
// status addresses and Events for object problems. Only the elected leader
// writes, one goroutine does all the writing, and it writes only what
// differs from what the objects already say.
package status

import (
	"cmp"
	"context"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/straitgw/strait/internal/controller"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// Options configure the writer, with ingress-nginx's flag meanings.
type Options struct {
	// UpdateStatus enables Ingress status writes (--update-status).
	UpdateStatus bool
	// UpdateStatusOnShutdown clears the addresses on shutdown
	// (--update-status-on-shutdown).
	UpdateStatusOnShutdown bool
	// PublishService is the Service whose addresses are published
	// (--publish-service).
	PublishService types.NamespacedName
	// PublishStatusAddress is a fixed list of IPs or host names
	// (--publish-status-address); it wins over PublishService.
	PublishStatusAddress []string
	// ElectionID names the Lease (--election-id).
	ElectionID string
	// Namespace holds the Lease: the controller's own namespace.
	Namespace string
	// Identity names this replica in the Lease.
	Identity string
	// ControllerName is the Events' reporting component.
	ControllerName string
	// Gateway, when set, writes the statuses of the Gateway API objects
	// too.
	Gateway *GatewayOptions
}

// Writer is the single status and event writer of a process.
type Writer struct {
	client  kubernetes.Interface
	opts    Options
	log     *slog.Logger
	metrics *metrics.Set

	latest   chan controller.Generation
	leaderMu sync.Mutex
	leader   bool
	// newTerm is set when leadership starts; sync then forgets what an
	// earlier term reported and wrote.
	newTerm bool
	wake    chan struct{}

	recorder record.EventRecorder
	emitted  map[model.Problem]bool
	// written remembers the addresses this replica wrote, because its own
	// status writes do not bring a new generation: the snapshot may hold
	// the Ingress as it was before.
	written map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress
	limiter flowcontrol.RateLimiter
	last    controller.Generation
	// checked are the Ingresses (namespace/name order) whose status was
	// last found or made right for checkedAddrs: a later generation
	// checks only the Ingresses not among them.
	checked      []*networkingv1.Ingress
	checkedAddrs []networkingv1.IngressLoadBalancerIngress
	// gwWritten holds, by object, the UID and the Gateway API status this
	// replica last wrote or found in place (as JSON, transition times
	// aside).
	gwWritten map[statusKey]string
	// gwUIDs are the UIDs of the Gateway API objects of the generation
	// being written.
	gwUIDs map[statusKey]types.UID
	// retry is set while a sync is scheduled after a failed write
	// (guarded by leaderMu).
	retry *time.Timer
}

// New returns a Writer; Run starts it.
func New(client kubernetes.Interface, opts Options, m *metrics.Set, log *slog.Logger) *Writer {
	return &Writer{
		client: client, opts: opts, log: log, metrics: m,
		latest:    make(chan controller.Generation, 1),
		wake:      make(chan struct{}, 1),
		emitted:   map[model.Problem]bool{},
		written:   map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress{},
		gwWritten: map[statusKey]string{},
		// Status writes are paced so that thousands of Ingresses never
		// flood the API server.
		limiter: flowcontrol.NewTokenBucketRateLimiter(20, 50),
	}
}

// Observe hands the writer a new generation; only the latest is kept.
func (w *Writer) Observe(g controller.Generation) {
	for {
		select {
		case w.latest <- g:
			return
		default:
			select {
			case <-w.latest:
			default:
			}
		}
	}
}

// IsLeader reports whether this replica holds the Lease.
func (w *Writer) IsLeader() bool {
	w.leaderMu.Lock()
	defer w.leaderMu.Unlock()
	return w.leader
}

// Run campaigns for the Lease and writes while leading, until ctx ends.
// On the way out, a leader clears the status addresses when told to.
func (w *Writer) Run(ctx context.Context) {
	bc := record.NewBroadcaster(record.WithContext(ctx))
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: w.client.CoreV1().Events("")})
	defer bc.Shutdown()
	w.recorder = bc.NewRecorder(scheme.Scheme, corev1.EventSource{Component: w.opts.ControllerName})

	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: w.opts.Namespace, Name: w.opts.ElectionID},
		Client:     w.client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: w.opts.Identity},
	}
	// The election outlives ctx until shutdown has cleared the status, so
	// that leadership is not released first.
	electCtx, stopElect := context.WithCancel(context.Background())
	defer stopElect()
	go func() {
		for electCtx.Err() == nil {
			leaderelection.RunOrDie(electCtx, leaderelection.LeaderElectionConfig{
				Lock:            lock,
				LeaseDuration:   15 * time.Second,
				RenewDeadline:   10 * time.Second,
				RetryPeriod:     2 * time.Second,
				ReleaseOnCancel: true,
				Name:            w.opts.ElectionID,
				Callbacks: leaderelection.LeaderCallbacks{
					OnStartedLeading: func(context.Context) { w.setLeader(true) },
					OnStoppedLeading: func() { w.setLeader(false) },
				},
			})
		}
	}()

	for {
		select {
		case <-ctx.Done():
			w.shutdown()
			return
		case g := <-w.latest:
			w.last = g
			w.sync(ctx)
		case <-w.wake:
			w.sync(ctx)
		}
	}
}

func (w *Writer) setLeader(v bool) {
	w.leaderMu.Lock()
	w.leader = v
	w.newTerm = w.newTerm || v
	w.leaderMu.Unlock()
	if v {
		w.log.Info("leading: this replica writes status and events", "lease", w.opts.Namespace+"/"+w.opts.ElectionID)
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// sync writes the status of every served Ingress and the events for new
// problems, when leading.
func (w *Writer) sync(ctx context.Context) {
	if !w.IsLeader() || w.last.Snapshot == nil {
		return
	}
	w.leaderMu.Lock()
	fresh := w.newTerm
	w.newTerm = false
	w.leaderMu.Unlock()
	if fresh {
		// A new leader reports the current problems afresh, and trusts
		// only the status it reads, not what it wrote or checked in an
		// earlier term.
		w.emitted = map[model.Problem]bool{}
		w.written = map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress{}
		w.checked, w.checkedAddrs = nil, nil
		w.gwWritten = map[statusKey]string{}
	}
	w.events(w.last)
	if w.opts.UpdateStatus {
		w.writeIngressStatus(ctx, w.last, w.addresses(w.last))
	}
	// The Gateway API's status is its interface (conditions, addresses),
	// written whatever --update-status says.
	w.writeGateways(ctx, w.last)
}

// retryLater syncs again in a second, after a failed write; the next
// generation would otherwise be the next chance.
func (w *Writer) retryLater() {
	w.leaderMu.Lock()
	defer w.leaderMu.Unlock()
	if w.retry != nil {
		return
	}
	w.retry = time.AfterFunc(time.Second, func() {
		w.leaderMu.Lock()
		w.retry = nil
		w.leaderMu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	})
}

// addresses computes the published addresses: the fixed list, or the
// publish Service's, as ingress-nginx does.
func (w *Writer) addresses(g controller.Generation) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	add := func(v string) {
		if v == "" {
			return
		}
		if net.ParseIP(v) != nil {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: v})
		} else {
			out = append(out, networkingv1.IngressLoadBalancerIngress{Hostname: v})
		}
	}
	if len(w.opts.PublishStatusAddress) > 0 {
		for _, a := range w.opts.PublishStatusAddress {
			add(strings.TrimSpace(a))
		}
	} else if svc := g.Snapshot.Services[w.opts.PublishService]; svc != nil && w.opts.PublishService.Name != "" {
		switch svc.Spec.Type {
		case corev1.ServiceTypeLoadBalancer:
			for _, i := range svc.Status.LoadBalancer.Ingress {
				add(i.IP)
				add(i.Hostname)
			}
			for _, ip := range svc.Spec.ExternalIPs {
				add(ip)
			}
		case corev1.ServiceTypeNodePort:
			if len(svc.Spec.ExternalIPs) > 0 {
				for _, ip := range svc.Spec.ExternalIPs {
					add(ip)
				}
			} else {
				add(svc.Spec.ClusterIP)
			}
		case corev1.ServiceTypeExternalName:
			add(svc.Spec.ExternalName)
		default:
			add(svc.Spec.ClusterIP)
			for _, ip := range svc.Spec.ExternalIPs {
				add(ip)
			}
		}
	}
	// IP addresses first, then host names, each sorted.
	sort.Slice(out, func(i, j int) bool {
		if (out[i].IP == "") != (out[j].IP == "") {
			return out[i].IP != ""
		}
		if out[i].IP != out[j].IP {
			return out[i].IP < out[j].IP
		}
		return out[i].Hostname < out[j].Hostname
	})
	return slices.CompactFunc(out, func(a, b networkingv1.IngressLoadBalancerIngress) bool {
		return a.IP == b.IP && a.Hostname == b.Hostname
	})
}

// writeIngressStatus updates the Ingresses whose addresses differ.
func (w *Writer) writeIngressStatus(ctx context.Context, g controller.Generation, addrs []networkingv1.IngressLoadBalancerIngress) {
	ings := g.Snapshot.Ingresses
	old := w.checked
	if w.checked == nil || !equalAddresses(addrs, w.checkedAddrs) {
		old = nil
	}
	complete := true
	for _, ing := range ings {
		// Both lists are in namespace/name order; an Ingress checked
		// before, as the same object, needs nothing.
		for len(old) > 0 && old[0] != ing && snapshot.CompareIngresses(old[0], ing) < 0 {
			old = old[1:]
		}
		if len(old) > 0 && old[0] == ing {
			old = old[1:]
			continue
		}
		if equalAddresses(w.statusOf(ing), addrs) {
			continue
		}
		if err := w.limiter.Wait(ctx); err != nil {
			w.checked = nil
			return
		}
		if err := w.updateIngress(ctx, ing.Namespace, ing.Name, addrs); err != nil {
			w.log.Warn("writing Ingress status", "ingress", ing.Namespace+"/"+ing.Name, "error", err)
			complete = false
		}
	}
	// After a failed write everything is checked again next time.
	w.checked, w.checkedAddrs = nil, nil
	if complete {
		w.checked, w.checkedAddrs = ings, addrs
	}
}

// statusOf returns what this replica last wrote for ing, or the status the
// cached object shows.
func (w *Writer) statusOf(ing *networkingv1.Ingress) []networkingv1.IngressLoadBalancerIngress {
	if a, ok := w.written[types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}]; ok {
		return a
	}
	return ing.Status.LoadBalancer.Ingress
}

func (w *Writer) updateIngress(ctx context.Context, ns, name string, addrs []networkingv1.IngressLoadBalancerIngress) error {
	cur, err := w.client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	n := types.NamespacedName{Namespace: ns, Name: name}
	if equalAddresses(cur.Status.LoadBalancer.Ingress, addrs) {
		w.written[n] = addrs
		return nil
	}
	cur = cur.DeepCopy()
	cur.Status.LoadBalancer.Ingress = addrs
	_, err = w.client.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	if err == nil {
		w.metrics.StatusWrites.Inc()
		w.written[n] = addrs
	}
	return err
}

func equalAddresses(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].IP != b[i].IP || a[i].Hostname != b[i].Hostname {
			return false
		}
	}
	return true
}

// events emits a Warning Event for each problem not reported before, on
// the Ingress it concerns. The recorder aggregates and rate-limits repeats.
func (w *Writer) events(g controller.Generation) {
	cur := make(map[model.Problem]bool, len(g.Problems))
	for _, p := range g.Problems {
		cur[p] = true
		if w.emitted[p] || p.Object.Kind != "Ingress" {
			continue
		}
		// The snapshot's Ingresses are in namespace/name order.
		ings := g.Snapshot.Ingresses
		i, found := slices.BinarySearchFunc(ings, p.Object, func(ing *networkingv1.Ingress, o model.ObjectRef) int {
			return cmp.Or(strings.Compare(ing.Namespace, o.Namespace), strings.Compare(ing.Name, o.Name))
		})
		if !found {
			continue
		}
		ing := ings[i]
		w.recorder.Event(ing, corev1.EventTypeWarning, p.Reason, p.Text())
		w.metrics.Events.WithLabelValues(p.Reason).Inc()
	}
	w.emitted = cur
}

// shutdown clears the published addresses when leading and asked to, so
// that DNS controllers stop pointing at a gone controller.
func (w *Writer) shutdown() {
	if !w.IsLeader() || !w.opts.UpdateStatus || !w.opts.UpdateStatusOnShutdown || w.last.Snapshot == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.log.Info("clearing Ingress status addresses on shutdown")
	for _, ing := range w.last.Snapshot.Ingresses {
		if len(w.statusOf(ing)) == 0 {
			continue
		}
		if err := w.updateIngress(ctx, ing.Namespace, ing.Name, nil); err != nil {
			w.log.Warn("clearing Ingress status", "ingress", ing.Namespace+"/"+ing.Name, "error", err)
		}
	}
}
