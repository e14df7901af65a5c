package conformance

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/websocket"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	gwconformance "sigs.k8s.io/gateway-api/conformance"
	"sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/kubernetes"
	"sigs.k8s.io/gateway-api/conformance/utils/roundtripper"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/consts"
)

// The namespaces of the suite's base manifests.
const (
	infraNS = "gateway-conformance-infra"
	appNS   = "gateway-conformance-app-backend"
	webNS   = "gateway-conformance-web-backend"
)

// Timeouts of TestHarness. Pods have the suite's own bound
// (NamespacesMustBeReady, 300 s) in the real run; here they should take
// seconds.
const (
	podsReadyTimeout = 120 * time.Second
	settleTimeout    = 60 * time.Second
)

// TestHarness checks that the cluster runs the suite's base manifests as
// the suite expects, with no Gateway controller involved: the suite
// accepts the installed CRDs, every Pod
// becomes Ready (those mounting a Secret only once it exists), Services
// get EndpointSlices with the Pods' addresses, the echo servers answer
// HTTP/1.1, h2c, WebSocket and TLS on the Pods' addresses, a reset from a
// server reaches the client as a reset, pods/log shows what the servers
// printed, and deleting Pods and namespaces completes.
func TestHarness(t *testing.T) {
	h := startHarness(t)
	ctx := t.Context()
	cs := h.clientset

	node, err := cs.CoreV1().Nodes().Get(ctx, h.sim.NodeName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(node.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: nodeIP().String()}) {
		t.Errorf("Node addresses %v, want InternalIP %s", node.Status.Addresses, nodeIP())
	}

	// The suite accepts the CRDs: one channel, its own version (a
	// gateway-api version raised by Strait's go.mod would fail here).
	s, err := suite.NewConformanceTestSuite(suite.ConformanceOptions{
		ConfigurableOptions: suite.ConfigurableOptions{
			GatewayClassName:  gatewayClassName,
			TimeoutConfig:     config.DefaultTimeoutConfig(),
			SupportedFeatures: supportedFeatures(),
		},
		Client: h.client, ClientOptions: h.clientOptions, Clientset: cs, RestConfig: rest.CopyConfig(h.cluster.RESTConfig),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.Report(); err != nil || r.GatewayAPIVersion != consts.BundleVersion || r.GatewayAPIChannel != crdChannel {
		t.Fatalf("suite sees Gateway API %q, channel %q (%v); want %s, %s", r.GatewayAPIVersion, r.GatewayAPIChannel, err, consts.BundleVersion, crdChannel)
	}

	// The suite's own applier, as Setup uses it (it fills in the
	// GatewayClass name). The Gateways stay unaccepted: no controller
	// runs.
	applier := kubernetes.Applier{
		ManifestFS:     []fs.FS{&gwconformance.Manifests},
		GatewayClass:   gatewayClassName,
		ControllerName: controllerName,
	}
	applier.MustApplyWithCleanup(t, h.client, config.DefaultTimeoutConfig(), "base/manifests.yaml", false)

	// The Pods that mount no Secret come up; those that do wait for it.
	waitFor(t, podsReadyTimeout, "Pods without secret volumes to be Ready", func() error {
		for _, ns := range []string{infraNS, appNS, webNS} {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			for _, p := range pods.Items {
				if !mountsSecret(&p) && !podReady(&p) {
					return fmt.Errorf("pod %s/%s not Ready (%s)", ns, p.Name, p.Status.Phase)
				}
			}
		}
		return nil
	})
	pods := listPods(t, cs, infraNS, "app=tls-backend")
	if len(pods) != 1 {
		t.Fatalf("%d tls-backend Pods, want 1", len(pods))
	}
	if p := pods[0]; podReady(&p) || len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Waiting == nil {
		t.Errorf("tls-backend is Ready or not waiting before its Secret exists: %+v", p.Status)
	} else {
		t.Logf("tls-backend waits: %s", p.Status.ContainerStatuses[0].State.Waiting.Message)
	}

	// The Secrets the Deployments mount, as Setup creates them: after
	// the Deployments.
	for _, s := range []struct{ ns, name string }{
		{infraNS, "tls-checks-certificate"},
		{infraNS, "tls-passthrough-checks-certificate"},
		{appNS, "tls-passthrough-checks-certificate"},
	} {
		secret := kubernetes.MustCreateSelfSignedCertSecret(t, s.ns, s.name, []string{"abc.example.com"})
		if _, err := cs.CoreV1().Secrets(s.ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	waitFor(t, podsReadyTimeout, "every Pod of the base manifests to be Ready", func() error {
		for _, ns := range []string{infraNS, appNS, webNS} {
			if err := deploymentsRunning(ctx, cs, ns); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("all Pods Ready %v after the Secrets were created", time.Since(start).Round(time.Millisecond))

	// EndpointSlices: kube-controller-manager publishes the Pods'
	// addresses, which kubesim reported.
	v1Pods := listPods(t, cs, infraNS, "app=infra-backend-v1")
	if len(v1Pods) != 2 {
		t.Fatalf("%d infra-backend-v1 Pods, want 2", len(v1Pods))
	}
	var podIPs []string
	for _, p := range v1Pods {
		if len(p.Status.PodIPs) != 1 || p.Status.PodIPs[0].IP != p.Status.PodIP || p.Status.HostIP != nodeIP().String() {
			t.Errorf("pod %s: podIP %q, podIPs %v, hostIP %q", p.Name, p.Status.PodIP, p.Status.PodIPs, p.Status.HostIP)
		}
		podIPs = append(podIPs, p.Status.PodIP)
	}
	slices.Sort(podIPs)
	waitFor(t, settleTimeout, "EndpointSlices of infra-backend-v1 to list the Pods", func() error {
		list, err := cs.DiscoveryV1().EndpointSlices(infraNS).List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=infra-backend-v1",
		})
		if err != nil {
			return err
		}
		var addrs []string
		ports := map[int32]bool{}
		for _, es := range list.Items {
			for _, ep := range es.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					addrs = append(addrs, ep.Addresses...)
				}
			}
			for _, p := range es.Ports {
				if p.Port != nil {
					ports[*p.Port] = true
				}
			}
		}
		slices.Sort(addrs)
		if !slices.Equal(addrs, podIPs) || !ports[3000] || !ports[3001] {
			return fmt.Errorf("ready addresses %v and ports %v, want %v and 3000, 3001", addrs, ports, podIPs)
		}
		return nil
	})

	pod := v1Pods[0]
	ip := pod.Status.PodIP

	t.Run("http", func(t *testing.T) {
		path := "/harness/" + pod.Name + "?q=1"
		since := time.Now().Add(-time.Second)
		got := echoGet(t, "http://"+net.JoinHostPort(ip, "3000")+path, nil)
		if got.Pod != pod.Name || got.Namespace != infraNS || got.Path != path || got.Method != "GET" {
			t.Errorf("echo %+v, want pod %s, namespace %s, path %s", got, pod.Name, infraNS, path)
		}
		// What the suite checks: the name starts with the Deployment's.
		if !strings.HasPrefix(got.Pod, "infra-backend-v1-") {
			t.Errorf("pod %q does not start with the Deployment's name", got.Pod)
		}

		// pods/log, through the API server and kubesim's kubelet API,
		// as the mirror tests read it.
		want := "Echoing back request made to " + path + " to client"
		waitFor(t, settleTimeout, "the request in the Pod's log", func() error {
			b, err := cs.CoreV1().Pods(infraNS).GetLogs(pod.Name, &corev1.PodLogOptions{
				Container: "infra-backend-v1",
				SinceTime: &metav1.Time{Time: since},
			}).DoRaw(ctx)
			if err != nil {
				return err
			}
			if !strings.Contains(string(b), want) {
				return fmt.Errorf("log has no %q:\n%s", want, b)
			}
			return nil
		})
		logs, err := kubernetes.DumpEchoLogs(ctx, infraNS, "infra-backend-v1", h.client, cs, since)
		if err != nil {
			t.Fatal(err)
		}
		if n := countContaining(logs, want); n != 1 {
			t.Errorf("DumpEchoLogs: %d lines with %q, want 1:\n%s", n, want, strings.Join(logs, "\n"))
		}
		// Nothing before sinceTime: the start-up lines are older.
		later := time.Now().Add(time.Second)
		b, err := cs.CoreV1().Pods(infraNS).GetLogs(pod.Name, &corev1.PodLogOptions{
			Container: "infra-backend-v1", SinceTime: &metav1.Time{Time: later},
		}).DoRaw(ctx)
		if err != nil || len(b) != 0 {
			t.Errorf("log since %v: %q, %v; want nothing", later, b, err)
		}
		// Timestamps and tailLines are passed on too.
		tail := int64(1)
		b, err = cs.CoreV1().Pods(infraNS).GetLogs(pod.Name, &corev1.PodLogOptions{
			Container: "infra-backend-v1", Timestamps: true, TailLines: &tail,
		}).DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.TrimSuffix(string(b), "\n")
		stamp, rest, _ := strings.Cut(line, " ")
		if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil || strings.Contains(rest, "\n") || !strings.Contains(rest, want) {
			t.Errorf("last line with timestamp: %q", b)
		}
	})

	t.Run("h2c", func(t *testing.T) {
		tr := &http2.Transport{
			AllowHTTP: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}
		defer tr.CloseIdleConnections()
		got := echoGet(t, "http://"+net.JoinHostPort(ip, "3001")+"/h2c", tr)
		if got.Protocol != "HTTP/2.0" || got.Pod != pod.Name {
			t.Errorf("h2c echo %+v, want HTTP/2.0 from %s", got, pod.Name)
		}
	})

	t.Run("websocket", func(t *testing.T) {
		ws, err := websocket.Dial("ws://"+net.JoinHostPort(ip, "3000")+"/ws", "", "http://"+ip)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if _, err := ws.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		ws.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 16)
		n, err := ws.Read(buf)
		if err != nil || string(buf[:n]) != "ping" {
			t.Errorf("websocket echo %q, %v; want ping", buf[:n], err)
		}
	})

	t.Run("tls", func(t *testing.T) {
		// The Secret volume, written by kubesim, holds the server's
		// certificate.
		tlsPod := listPods(t, cs, infraNS, "app=tls-backend")[0]
		tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "abc.example.com", InsecureSkipVerify: true}}
		defer tr.CloseIdleConnections()
		got := echoGet(t, "https://"+net.JoinHostPort(tlsPod.Status.PodIP, "8443")+"/tls", tr)
		if got.TLS.Version == "" || got.TLS.ServerName != "abc.example.com" || !strings.HasPrefix(got.Pod, "tls-backend-") {
			t.Errorf("TLS echo %+v, want SNI abc.example.com from tls-backend", got)
		}
	})

	t.Run("reset", func(t *testing.T) {
		// The retry simulator aborts the first attempt with a reset; the
		// forwarder must pass it on rather than close cleanly.
		v3 := listPods(t, cs, infraNS, "app=infra-backend-v3")[0]
		url := "http://" + net.JoinHostPort(v3.Status.PodIP, "3000") + "/retry/?uuid=harness&succeedAfter=1"
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("first attempt: %s, want a connection reset", resp.Status)
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("first attempt: %v, want a connection reset", err)
		}
		got := echoGet(t, url, nil)
		if !strings.HasPrefix(got.Pod, "infra-backend-v3-") {
			t.Errorf("second attempt answered by %q", got.Pod)
		}
	})

	t.Run("delete pod", func(t *testing.T) {
		// Graceful deletion completes: kubesim stops the Pod and deletes
		// it, the ReplicaSet replaces it, and its address stops answering.
		if err := cs.CoreV1().Pods(infraNS).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, settleTimeout, "the deleted Pod to be gone", func() error {
			_, err := cs.CoreV1().Pods(infraNS).Get(ctx, pod.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("pod %s still there (%v)", pod.Name, err)
		})
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "3000"), time.Second); err == nil {
			c.Close()
			t.Errorf("%s:3000 still accepts connections after its Pod was deleted", ip)
		}
		waitFor(t, podsReadyTimeout, "infra-backend-v1 to be back to two Ready Pods", func() error {
			return deploymentsRunning(ctx, cs, infraNS)
		})
	})

	t.Run("status writes", func(t *testing.T) {
		// A Pod's status is written when it changes, not again and again:
		// Pending, Running, Ready, and for the Pods waiting on a Secret
		// once more with the reason.
		writes := map[string]int{}
		for _, line := range strings.Split(readFile(t, filepath.Join(h.cluster.Dir, "kubesim.log")), "\n") {
			if _, rest, ok := strings.Cut(line, "kubesim: pod "); ok && strings.Contains(rest, ": status written: ") {
				pod, _, _ := strings.Cut(rest, ":")
				writes[pod]++
			}
		}
		if len(writes) == 0 {
			t.Fatal("kubesim's log records no status write")
		}
		for pod, n := range writes {
			if n > 4 {
				t.Errorf("pod %s: status written %d times", pod, n)
			}
		}
		most := 0
		for _, n := range writes {
			most = max(most, n)
		}
		t.Logf("status writes: %d Pods, at most %d each", len(writes), most)
	})

	t.Run("delete namespaces", func(t *testing.T) {
		// The namespace controller empties the namespaces; kubesim
		// finishes the Pods' deletion; the namespaces go.
		for _, ns := range []string{infraNS, appNS, webNS} {
			if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		waitFor(t, podsReadyTimeout, "the namespaces to be deleted", func() error {
			for _, ns := range []string{infraNS, appNS, webNS} {
				n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
				if err == nil {
					return fmt.Errorf("namespace %s still there (%s)", ns, n.Status.Phase)
				}
				if !apierrors.IsNotFound(err) {
					return err
				}
			}
			return nil
		})
		t.Logf("namespaces deleted in %v", time.Since(start).Round(time.Millisecond))
		other := v1Pods[1].Status.PodIP
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(other, "3000"), time.Second); err == nil {
			c.Close()
			t.Errorf("%s:3000 still accepts connections after its namespace was deleted", other)
		}
	})
}

// echoGet sends GET url through rt (a plain transport when nil), and
// returns the echo server's description of the request; it fails the test
// on any error or a status other than 200.
func echoGet(t *testing.T, url string, rt http.RoundTripper) roundtripper.CapturedRequest {
	t.Helper()
	if rt == nil {
		rt = &http.Transport{DisableKeepAlives: true}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: rt}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %s %s: %s", url, resp.Status, resp.Header.Get("Content-Type"), b)
	}
	var got roundtripper.CapturedRequest
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
	return got
}

// deploymentsRunning returns nil once every Deployment of namespace has
// as many Pods as it asks for, all Ready, and no other Pods remain.
func deploymentsRunning(ctx context.Context, cs clientset.Interface, namespace string) error {
	deps, err := cs.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	if len(deps.Items) == 0 {
		return fmt.Errorf("no Deployments in %s", namespace)
	}
	want := 0
	for _, d := range deps.Items {
		want += int(replicas(&d))
	}
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	ready := 0
	for _, p := range pods.Items {
		if podReady(&p) && p.DeletionTimestamp == nil {
			ready++
		}
	}
	if ready != want || len(pods.Items) != want {
		return fmt.Errorf("%s: %d Pods, %d Ready, want %d", namespace, len(pods.Items), ready, want)
	}
	return nil
}

func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func mountsSecret(p *corev1.Pod) bool {
	for _, v := range p.Spec.Volumes {
		if v.Secret != nil {
			return true
		}
	}
	return false
}

func listPods(t *testing.T, cs clientset.Interface, namespace, selector string) []corev1.Pod {
	t.Helper()
	pods, err := cs.CoreV1().Pods(namespace).List(t.Context(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// waitFor calls check every 100 ms until it returns nil, and fails the
// test with its last error after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func countContaining(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
