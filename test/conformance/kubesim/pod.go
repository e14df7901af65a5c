package kubesim

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// waitRetry is how soon a Pod that waits for something kubesim cannot
// watch (a Secret or ConfigMap it mounts or reads) is looked at again.
const waitRetry = time.Second

// reconcile brings one Pod, named by its namespace/name key, one step
// closer to what its spec asks. It returns how soon to look at the Pod
// again when it is waiting for something, or an error to retry after.
func (s *Sim) reconcile(key string) (time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil // not a key this queue was given
	}
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		s.forget(key, "")
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	ctx := s.ctx
	if pod.Spec.NodeName == "" {
		if pod.DeletionTimestamp != nil {
			return 0, nil // the API server deletes unbound Pods itself
		}
		return 0, s.bind(ctx, pod)
	}
	if pod.Spec.NodeName != s.opts.NodeName {
		return 0, nil
	}
	// A Pod deleted and created again under the same name is another Pod.
	s.forget(key, pod.UID)
	if pod.DeletionTimestamp != nil {
		s.forget(key, "")
		return 0, s.deletePod(ctx, pod)
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0, nil
	}
	rt, err := s.runtime(key, pod)
	if err != nil {
		return 0, err
	}
	retry, err := rt.sync(ctx, pod)
	if err != nil {
		return 0, err
	}
	status := rt.status(pod)
	if !apiequality.Semantic.DeepEqual(status, pod.Status) {
		updated := pod.DeepCopy()
		updated.Status = status
		if _, err := s.opts.Client.CoreV1().Pods(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return 0, fmt.Errorf("writing status: %w", err)
		}
		s.opts.Logf("kubesim: pod %s: status written: %s, ready %v", key, status.Phase, podReady(status))
	}
	return retry, nil
}

// bind assigns an unscheduled Pod to the Node, as the scheduler would.
func (s *Sim) bind(ctx context.Context, pod *corev1.Pod) error {
	err := s.opts.Client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: s.opts.NodeName},
	}, metav1.CreateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone, or bound meanwhile: the informer brings the news
	}
	if err != nil {
		return fmt.Errorf("binding to %s: %w", s.opts.NodeName, err)
	}
	return nil
}

// deletePod finishes a graceful deletion, once the Pod's containers have
// stopped: the kubelet's last word on a Pod. The UID precondition keeps it
// from deleting a Pod created since under the same name.
func (s *Sim) deletePod(ctx context.Context, pod *corev1.Pod) error {
	err := s.opts.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// runtime returns the Pod's runtime, creating it (with an address) the
// first time.
func (s *Sim) runtime(key string, pod *corev1.Pod) (*podRuntime, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := s.running[key]; rt != nil {
		return rt, nil
	}
	if s.stopped {
		return nil, fmt.Errorf("kubesim stopped")
	}
	ip, err := s.ips.allocate()
	if err != nil {
		return nil, err
	}
	rt := &podRuntime{
		sim:     s,
		key:     key,
		uid:     pod.UID,
		ip:      ip,
		dir:     filepath.Join(s.opts.Dir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID)),
		created: now(),
		logs:    map[string]*containerLog{},
		fwd:     map[int]*forwarder{},
		ports:   map[int]int{},
	}
	for _, c := range pod.Spec.Containers {
		rt.logs[c.Name] = &containerLog{}
	}
	s.running[key] = rt
	s.opts.Logf("kubesim: pod %s: address %s", key, ip)
	return rt, nil
}

// forget stops and drops the runtime of key, unless uid is set and is the
// runtime's Pod's.
func (s *Sim) forget(key string, uid types.UID) {
	s.mu.Lock()
	rt := s.running[key]
	if rt == nil || uid != "" && rt.uid == uid {
		s.mu.Unlock()
		return
	}
	delete(s.running, key)
	s.mu.Unlock()
	rt.stop()
	s.opts.Logf("kubesim: pod %s: stopped", key)
}

// containerLog returns the output of a container of a Pod running here,
// or nil.
func (s *Sim) containerLog(namespace, pod, container string) *containerLog {
	s.mu.Lock()
	rt := s.running[namespace+"/"+pod]
	s.mu.Unlock()
	if rt == nil {
		return nil
	}
	return rt.logs[container] // fixed at creation: no lock needed
}

// podRuntime is what kubesim runs for one Pod bound to its Node: its
// address, volumes, containers and forwarders.
type podRuntime struct {
	sim     *Sim
	key     string
	uid     types.UID
	ip      netip.Addr
	dir     string    // the Pod's volumes
	created time.Time // when kubesim took the Pod on: its start time
	logs    map[string]*containerLog

	// The fields below are guarded by mu: the reconcile worker and the
	// goroutines watching the containers' processes both change them.
	mu         sync.Mutex
	containers []*container // in spec order; nil until prepared
	waitReason string       // why containers cannot be created yet
	waitMsg    string
	fwd        map[int]*forwarder // by Pod port
	ports      map[int]int        // Pod port -> loopback port
	stopped    bool
}

// sync prepares the Pod's containers if it has not yet, and starts those
// that are not running and whose restart back-off is over. It returns how
// soon to call it again.
func (rt *podRuntime) sync(ctx context.Context, pod *corev1.Pod) (time.Duration, error) {
	rt.mu.Lock()
	prepared := rt.containers != nil
	rt.mu.Unlock()
	if !prepared {
		containers, reason, msg, err := rt.prepare(ctx, pod)
		if err != nil {
			return 0, err
		}
		rt.mu.Lock()
		rt.waitReason, rt.waitMsg = reason, msg
		if reason == "" {
			rt.containers = containers
		}
		rt.mu.Unlock()
		if reason != "" {
			return waitRetry, nil
		}
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stopped {
		return 0, nil
	}
	var retry time.Duration
	for _, c := range rt.containers {
		if c.failReason != "" || c.running() {
			continue
		}
		if wait := time.Until(c.restartAt); wait > 0 {
			if retry == 0 || wait < retry {
				retry = wait
			}
			continue
		}
		rt.start(c)
	}
	return retry, nil
}

// stop kills the Pod's processes, closes its forwarders (resetting their
// connections), removes its volumes and frees its address and ports.
func (rt *podRuntime) stop() {
	rt.mu.Lock()
	rt.stopped = true
	var procs []*proc
	for _, c := range rt.containers {
		if c.proc != nil {
			procs = append(procs, c.proc)
		}
	}
	fwd, ports := rt.fwd, rt.ports
	rt.fwd, rt.ports = map[int]*forwarder{}, map[int]int{}
	rt.mu.Unlock()
	for _, p := range procs {
		p.stop()
	}
	for _, f := range fwd {
		f.close()
	}
	os.RemoveAll(rt.dir)
	for _, p := range ports {
		rt.sim.hostPort.release(p)
	}
	rt.sim.ips.release(rt.ip)
}

// now is the current time at the precision the API stores (seconds), so
// that a status written and read back compares equal to the one computed
// again.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

// podReady reports whether st's Ready condition is True.
func podReady(st corev1.PodStatus) bool {
	for _, c := range st.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
