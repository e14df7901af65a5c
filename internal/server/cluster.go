package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/straitgw/strait/internal/controller"
	"github.com/straitgw/strait/internal/live"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/sources/kube"
	"github.com/straitgw/strait/internal/status"
)

// KubeConfig configures cluster mode, with ingress-nginx's flag names.
type KubeConfig struct {
	// Kubeconfig is a kubeconfig file; empty means in-cluster, then
	// $KUBECONFIG.
	Kubeconfig string
	// WatchNamespace limits watching to one namespace.
	WatchNamespace string
	// WatchNamespaceSelector limits watching to namespaces with matching
	// labels.
	WatchNamespaceSelector string
	// ConfigMap is "namespace/name" of the controller ConfigMap.
	ConfigMap string
	// PublishService is "namespace/name" of the Service whose addresses
	// go into Ingress status.
	PublishService string
	// PublishStatusAddress is a comma-separated list of addresses for
	// Ingress status, overriding PublishService.
	PublishStatusAddress string
	// UpdateStatus enables Ingress status writes.
	UpdateStatus bool
	// UpdateStatusOnShutdown clears the status when the leader stops.
	UpdateStatusOnShutdown bool
	// ElectionID names the leader-election Lease.
	ElectionID string
	// ControllerNamespace holds the Lease; empty means $POD_NAMESPACE,
	// then "default".
	ControllerNamespace string
}

// cluster feeds generations from the Kubernetes API.
type cluster struct {
	ctrl   *controller.Controller
	src    *kube.Source
	writer *status.Writer
}

func newCluster(cfg Config, p *proxy.Proxy, m *metrics.Set, gl *gatewayListeners) (*cluster, error) {
	k := cfg.Kube
	if k.WatchNamespace != "" && k.WatchNamespaceSelector != "" {
		return nil, fmt.Errorf("--watch-namespace and --watch-namespace-selector are mutually exclusive")
	}
	if k.PublishService != "" && k.PublishStatusAddress != "" {
		return nil, fmt.Errorf("--publish-service and --publish-status-address are mutually exclusive")
	}
	rc, err := restConfig(k.Kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.UserAgent = "strait"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	opts := kube.Options{Namespace: k.WatchNamespace, Classes: cfg.Classes}
	if k.WatchNamespaceSelector != "" {
		if opts.NamespaceSelector, err = labels.Parse(k.WatchNamespaceSelector); err != nil {
			return nil, fmt.Errorf("--watch-namespace-selector: %w", err)
		}
	}
	if opts.ConfigMap, err = kube.ParseNamespacedName(k.ConfigMap); err != nil {
		return nil, fmt.Errorf("--configmap: %w", err)
	}
	publish, err := kube.ParseNamespacedName(k.PublishService)
	if err != nil {
		return nil, fmt.Errorf("--publish-service: %w", err)
	}
	defBackend, err := kube.ParseNamespacedName(cfg.Translate.DefaultBackendService)
	if err != nil {
		return nil, fmt.Errorf("--default-backend-service: %w", err)
	}
	defCert, err := kube.ParseNamespacedName(cfg.Translate.DefaultCertificate)
	if err != nil {
		return nil, fmt.Errorf("--default-ssl-certificate: %w", err)
	}
	opts.ExtraServices = []types.NamespacedName{publish, defBackend}
	opts.ExtraSecrets = []types.NamespacedName{defCert}
	gw, err := gatewayAPI(cfg.Gateway)
	if err != nil {
		return nil, err
	}
	var gwClient gatewayclient.Interface
	if gw != nil {
		if gwClient, err = gatewayClient(rc, client, cfg.Log); err != nil {
			return nil, err
		}
		if gwClient == nil {
			gw = nil
		} else {
			opts.Gateway = gwClient
			opts.Classes.GatewayController = cfg.Gateway.ControllerName
		}
	}
	src := kube.New(client, opts, cfg.Log)

	ns := k.ControllerNamespace
	if ns == "" {
		ns = os.Getenv("POD_NAMESPACE")
	}
	if ns == "" {
		ns = "default"
	}
	host, _ := os.Hostname()
	identity := os.Getenv("POD_NAME")
	if identity == "" {
		identity = host
	}
	identity = fmt.Sprintf("%s_%d", identity, os.Getpid())
	var addrs []string
	if k.PublishStatusAddress != "" {
		addrs = strings.Split(k.PublishStatusAddress, ",")
	}
	var gwStatus *status.GatewayOptions
	if gw != nil {
		gwStatus = &status.GatewayOptions{Client: gwClient, ControllerName: gw.Options.ControllerName, ListenerFailures: gl.failures}
	}
	w := status.New(client, status.Options{
		UpdateStatus:           k.UpdateStatus,
		UpdateStatusOnShutdown: k.UpdateStatusOnShutdown,
		PublishService:         publish,
		PublishStatusAddress:   addrs,
		ElectionID:             k.ElectionID,
		Namespace:              ns,
		Identity:               identity,
		ControllerName:         "strait",
		Gateway:                gwStatus,
	}, m, cfg.Log)
	ctrl := &controller.Controller{
		Source: src, Translate: cfg.Translate, Proxy: p, Metrics: m, Log: cfg.Log,
		Gateway: gw,
		Observe: func(g controller.Generation) {
			// Listeners first, so that the status written next knows
			// which could not be opened.
			gl.reconcile(g.Model)
			w.Observe(g)
		},
	}
	return &cluster{ctrl: ctrl, src: src, writer: w}, nil
}

// restConfig loads client configuration: the kubeconfig flag, else
// in-cluster, else $KUBECONFIG or ~/.kube/config.
func restConfig(path string) (*rest.Config, error) {
	if path != "" {
		return clientcmd.BuildConfigFromFlags("", path)
	}
	if rc, err := rest.InClusterConfig(); err == nil {
		return rc, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no Kubernetes configuration: not in a cluster, no --kubeconfig, and $KUBECONFIG or ~/.kube/config unusable: %w", err)
	}
	return rc, nil
}

func (c *cluster) ready() bool { return c.ctrl.Ready() }

func (c *cluster) run(ctx context.Context, started func()) error {
	wctx, stopWriter := context.WithCancel(context.Background())
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writer.Run(wctx)
	}()
	defer func() {
		stopWriter()
		<-writerDone
	}()
	errc := make(chan error, 1)
	go func() { errc <- c.ctrl.Run(ctx) }()
	for !c.ctrl.Ready() {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return nil
		case <-waitTick():
		}
	}
	started()
	return <-errc
}

func (c *cluster) debug() any {
	g := c.ctrl.Current()
	leader := c.writer.IsLeader()
	return debugView{Leader: &leader, Problems: g.Problems, Model: g.Model}
}

func (c *cluster) live() live.State {
	g := c.ctrl.Current()
	leader := c.writer.IsLeader()
	return live.State{
		Generation: live.Generation{Number: g.Number, Kind: g.Kind, Time: g.Published, Leader: &leader},
		Model:      g.Model,
		Problems:   g.Problems,
	}
}

// waitTick paces the readiness poll.
func waitTick() <-chan time.Time { return time.After(20 * time.Millisecond) }

// gatewayClient returns the Gateway API client, or nil, logged, when the
// cluster has no Gateway API (its CRDs are not installed): Ingresses are
// served all the same.
func gatewayClient(rc *rest.Config, client kubernetes.Interface, log *slog.Logger) (gatewayclient.Interface, error) {
	gv := gatewayv1.GroupVersion.String()
	if _, err := client.Discovery().ServerResourcesForGroupVersion(gv); err != nil {
		if apierrors.IsNotFound(err) {
			log.Warn("the Gateway API is not installed in the cluster (no "+gv+"); serving Ingresses only", "error", err)
			return nil, nil
		}
		return nil, fmt.Errorf("discovering the Gateway API (%s): %w", gv, err)
	}
	// Informers that may not list never sync, and Strait would never
	// become ready: without the permissions the Gateway API is left out,
	// and the log says which is missing.
	for _, res := range []string{"gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants"} {
		for _, verb := range []string{"list", "watch"} {
			review, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Group: gatewayv1.GroupName, Resource: res, Verb: verb,
				}},
			}, metav1.CreateOptions{})
			if err != nil {
				return nil, fmt.Errorf("checking access to the Gateway API: %w", err)
			}
			if !review.Status.Allowed {
				log.Warn("no permission to "+verb+" "+res+"."+gatewayv1.GroupName+"; serving Ingresses only (see deploy/10-rbac.yaml)", "reason", review.Status.Reason)
				return nil, nil
			}
		}
	}
	return gatewayclient.NewForConfig(rc)
}
