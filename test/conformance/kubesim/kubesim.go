// Package kubesim stands in for the scheduler and the kubelet of a
// Kubernetes cluster that has neither, so that Deployments run: it
// registers one Node, binds every unscheduled Pod to it, and runs the Pods
// bound there.
//
// A Pod gets an address from a range that the caller has made local (see
// kubetest.PodCIDR), its environment and its secret and configMap volumes
// are resolved as a kubelet would, and each container whose image is the
// Gateway API conformance suite's echo server (".../echo-basic:tag") runs
// the echo-basic program. Containers of other images run nothing and are
// reported running and ready at once. A Pod's status (phase, addresses,
// conditions, container states) is written back, so that
// kube-controller-manager's EndpointSlice controller publishes its
// address, and a Pod marked for deletion is stopped and then deleted for
// good, as the kubelet does after a graceful stop.
//
// echo-basic listens on the wildcard address, so two copies cannot share a
// port in one network namespace. Each copy therefore listens on ports of
// its own on loopback, and kubesim forwards the Pod's ports (3000 for HTTP
// and TCP, 3001 for h2c, 8443 for HTTPS and TLS, or the values the Pod's
// environment gives HTTP_PORT, H2C_PORT, HTTPS_PORT, TCP_PORT and TLS_PORT)
// from the Pod's address to them, at the TCP level: a reset on one side is
// passed on as a reset on the other. UDP mode (UDP_ECHO_SERVER) is not
// supported: such a container fails to start.
//
// The Node's "kubelet API" serves containers' output for pods/log
// (/containerLogs/{namespace}/{pod}/{container}, with sinceTime,
// sinceSeconds, tailLines, limitBytes and timestamps; follow is answered
// with the output so far) over HTTPS with a self-signed certificate, which
// the API server accepts because it is given no kubelet certificate
// authority.
package kubesim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Defaults for Options.
const (
	// DefaultNodeName is the name of the Node kubesim registers.
	DefaultNodeName = "kubesim-0"
	// DefaultKubeletPort is the port of the Node's kubelet API, the
	// kubelet's usual one.
	DefaultKubeletPort = 10250
)

// KubeletVersion is the version the Node reports: that of the control
// plane the harness runs (kubetest builds kube-apiserver v1.37.2).
const KubeletVersion = "v1.37.2"

// workers is how many Pods are reconciled at once. Starting a Pod waits for
// its echo server to listen (tens of milliseconds), so a few workers let a
// Deployment's Pods come up together.
const workers = 4

// Options configure a Sim.
type Options struct {
	// Client is used for everything kubesim reads and writes. It needs to
	// read Pods, Secrets and ConfigMaps, bind Pods, write Pod status,
	// delete Pods, and create and update Nodes.
	Client kubernetes.Interface
	// EchoBasic is the path of the echo-basic program, run for each
	// container of an echo-basic image. Required.
	EchoBasic string
	// PodCIDR is the range Pod addresses are taken from; it must be local
	// (bindable) in the network namespace. Addresses in its first /24 and
	// those ending in .0 or .255 are not handed out, so that tests can bind
	// fixed addresses there. Required.
	PodCIDR netip.Prefix
	// NodeIP is the Node's InternalIP, where the kubelet API listens. It
	// must be local too, and is never given to a Pod. Required.
	NodeIP netip.Addr
	// NodeName is the Node's name; default DefaultNodeName.
	NodeName string
	// KubeletPort is the kubelet API's port; default DefaultKubeletPort.
	KubeletPort int
	// Dir holds the Pods' volumes, one directory per Pod, removed when the
	// Pod stops. Default: a new temporary directory, removed by Stop.
	Dir string
	// Logf, if set, receives a line for each Pod given an address, each
	// status written, each container restarted, each Pod stopped, and
	// each error kubesim retries after.
	Logf func(format string, args ...any)
}

// Sim is a running kubesim. Its methods may be called from several
// goroutines.
type Sim struct {
	opts    Options
	ownDir  bool
	ctx     context.Context
	cancel  context.CancelFunc
	pods    corelisters.PodLister
	queue   workqueue.TypedRateLimitingInterface[string]
	kubelet *kubeletServer
	wg      sync.WaitGroup

	mu       sync.Mutex
	running  map[string]*podRuntime // by namespace/name
	ips      *ipAllocator
	hostPort *portAllocator
	stopped  bool
}

// Start registers the Node, starts the kubelet API and starts handling
// Pods. It returns once the Node exists and the Pod cache has synced.
// Stop undoes it.
func Start(ctx context.Context, opts Options) (_ *Sim, err error) {
	if opts.Client == nil || opts.EchoBasic == "" || !opts.PodCIDR.IsValid() || !opts.NodeIP.IsValid() {
		return nil, errors.New("kubesim: Options.Client, EchoBasic, PodCIDR and NodeIP are required")
	}
	if _, err := os.Stat(opts.EchoBasic); err != nil {
		return nil, fmt.Errorf("kubesim: echo-basic: %w", err)
	}
	if opts.NodeName == "" {
		opts.NodeName = DefaultNodeName
	}
	if opts.KubeletPort == 0 {
		opts.KubeletPort = DefaultKubeletPort
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	ips, err := newIPAllocator(opts.PodCIDR, opts.NodeIP)
	if err != nil {
		return nil, err
	}
	s := &Sim{
		opts:     opts,
		running:  map[string]*podRuntime{},
		ips:      ips,
		hostPort: newPortAllocator(),
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](
			100*time.Millisecond, 5*time.Second)),
	}
	if s.opts.Dir == "" {
		if s.opts.Dir, err = os.MkdirTemp("", "kubesim-"); err != nil {
			return nil, err
		}
		s.ownDir = true
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()

	if s.kubelet, err = startKubelet(net.JoinHostPort(opts.NodeIP.String(), strconv.Itoa(opts.KubeletPort)), opts.NodeIP, s.containerLog); err != nil {
		return nil, err
	}
	if err := s.registerNode(ctx); err != nil {
		return nil, err
	}

	factory := informers.NewSharedInformerFactory(opts.Client, 0)
	podInformer := factory.Core().V1().Pods()
	s.pods = podInformer.Lister()
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.enqueue,
		UpdateFunc: func(_, obj any) { s.enqueue(obj) },
		DeleteFunc: s.enqueue,
	}); err != nil {
		return nil, err
	}
	factory.Start(s.ctx.Done())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.ctx.Done()
		factory.Shutdown()
	}()
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.Informer().HasSynced) {
		return nil, errors.New("kubesim: Pod cache did not sync")
	}
	for range workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for s.processNext() {
			}
		}()
	}
	return s, nil
}

// NodeName returns the name of the Node kubesim registered.
func (s *Sim) NodeName() string { return s.opts.NodeName }

// Stop stops handling Pods, kills every container process, closes the
// forwarders and the kubelet API, and removes the volume directory if
// Start created it. The Node and the Pods stay in the API. Calling it
// again does nothing.
func (s *Sim) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	s.mu.Unlock()
	s.cancel()
	s.queue.ShutDown()
	s.wg.Wait()
	s.mu.Lock()
	running := s.running
	s.running = map[string]*podRuntime{}
	s.mu.Unlock()
	for _, rt := range running {
		rt.stop()
	}
	if s.kubelet != nil {
		s.kubelet.close()
	}
	if s.ownDir {
		os.RemoveAll(s.opts.Dir)
	}
}

func (s *Sim) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err == nil {
		s.queue.Add(key)
	}
}

func (s *Sim) processNext() bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	retryAfter, err := s.reconcile(key)
	switch {
	case err != nil:
		if s.ctx.Err() == nil {
			s.opts.Logf("kubesim: %s: %v (retrying)", key, err)
		}
		s.queue.AddRateLimited(key)
	case retryAfter > 0:
		s.queue.Forget(key)
		s.queue.AddAfter(key, retryAfter)
	default:
		s.queue.Forget(key)
	}
	return true
}

// registerNode creates (or takes over) the Node and writes its status:
// Ready, with the kubelet API's address and port.
func (s *Sim) registerNode(ctx context.Context) error {
	nodes := s.opts.Client.CoreV1().Nodes()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: s.opts.NodeName,
			Labels: map[string]string{
				corev1.LabelHostname:   s.opts.NodeName,
				corev1.LabelOSStable:   "linux",
				corev1.LabelArchStable: runtime.GOARCH,
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: s.opts.PodCIDR.String(), PodCIDRs: []string{s.opts.PodCIDR.String()}},
	}
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = nodes.Get(ctx, node.Name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("kubesim: registering Node %s: %w", node.Name, err)
	}
	// The API server taints a new Node not-ready until its kubelet says
	// otherwise; the node lifecycle controller that would lift the taint
	// does not run here.
	if len(created.Spec.Taints) > 0 {
		created.Spec.Taints = nil
		if created, err = nodes.Update(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("kubesim: untainting Node %s: %w", node.Name, err)
		}
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("1000"),
	}
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubesim is running",
				LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory",
				LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure",
				LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID",
				LastHeartbeatTime: now, LastTransitionTime: now},
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: s.opts.NodeIP.String()},
			{Type: corev1.NodeHostName, Address: s.opts.NodeName},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{
			KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(s.opts.KubeletPort)},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          KubeletVersion,
			OperatingSystem:         "linux",
			Architecture:            runtime.GOARCH,
			ContainerRuntimeVersion: "kubesim://" + KubeletVersion,
		},
	}
	if _, err := nodes.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("kubesim: writing Node %s status: %w", node.Name, err)
	}
	return nil
}
