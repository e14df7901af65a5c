package conformance

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/apis/v1alpha2"
	"sigs.k8s.io/gateway-api/apis/v1alpha3"
	xv1alpha1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"

	"github.com/straitgw/strait/internal/kubetest"
	"github.com/straitgw/strait/test/conformance/kubesim"
)

// straitBin is Strait's binary, built by TestMain.
var straitBin string

// TestMain runs the tests in a private network namespace (where the Pod
// and Gateway ranges are local) after building Strait.
func TestMain(m *testing.M) { os.Exit(kubetest.RunWithStrait(m, &straitBin)) }

const (
	// gatewayClassName is the GatewayClass the suite tests: its default.
	gatewayClassName = "gateway-conformance"
	// controllerName is the controller name Strait is started with and
	// the GatewayClass names.
	controllerName = "strait.dev/gateway-controller"
	// crdChannel is the Gateway API release channel whose CRDs are
	// installed. The suite refuses to run on a mix of channels or
	// versions; the features Strait claims are all in the standard one.
	crdChannel = "standard"
)

// nodeIP is kubesim's Node's address: in the Pod range, which is local in
// the network namespace, and never handed to a Pod.
func nodeIP() netip.Addr { return netip.MustParseAddr("10.244.255.254") }

// harness is a cluster ready for the suite: control plane,
// kube-controller-manager, kubesim and the Gateway API CRDs.
type harness struct {
	cluster *kubetest.Cluster
	sim     *kubesim.Sim
	client  client.Client // the suite's client, with the Gateway API types
	// clientOptions make more clients like client: the suite makes one
	// for each test.
	clientOptions client.Options
	clientset     kubernetes.Interface
}

// startHarness starts a harness for a test and stops it when the test
// ends. If the test fails, the ends of kubesim's and the controller
// manager's logs are printed.
func startHarness(t *testing.T) *harness {
	t.Helper()
	start := time.Now()
	c := kubetest.Start(t)
	if err := c.StartControllerManager(kubetest.ConformanceControllers()...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"kubesim.log", "kube-controller-manager.log"} {
				t.Logf("end of %s:\n%s", name, kubetest.TailFile(filepath.Join(c.Dir, name), 60))
			}
			keepLogs(t, c.Dir)
		}
	})
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	crds, err := kubetest.GatewayAPICRDDir(t.Context(), wd, crdChannel)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InstallCRDs(t.Context(), crds); err != nil {
		t.Fatal(err)
	}
	echo, err := kubetest.Binary("echo-basic")
	if err != nil {
		t.Fatal(err)
	}
	simLog, err := newFileLog(filepath.Join(c.Dir, "kubesim.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(simLog.close)
	sim, err := kubesim.Start(t.Context(), kubesim.Options{
		Client:    c.Client,
		EchoBasic: echo,
		PodCIDR:   netip.MustParsePrefix(kubetest.PodCIDR),
		NodeIP:    nodeIP(),
		Dir:       filepath.Join(c.Dir, "kubesim"),
		Logf:      simLog.logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme,
		gatewayv1.Install, v1alpha2.Install, v1alpha3.Install, xv1alpha1.Install,
	} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	opts := client.Options{Scheme: scheme}
	cl, err := client.New(c.RESTConfig, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("harness ready in %v (cluster directory %s)", time.Since(start).Round(time.Millisecond), c.Dir)
	return &harness{cluster: c, sim: sim, client: cl, clientOptions: opts, clientset: c.Client}
}

// fileLog is a log file that goroutines may write lines to; lines written
// after close are dropped.
type fileLog struct {
	mu sync.Mutex
	f  *os.File
}

func newFileLog(path string) (*fileLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &fileLog{f: f}, nil
}

func (l *fileLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		fmt.Fprintf(l.f, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
}

func (l *fileLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.f.Close()
	l.f = nil
}

// keepLogs copies the *.log files of dir to .cache/conformance/<test>/
// in the repository, since dir goes with the test.
func keepLogs(t *testing.T, dir string) {
	root, err := kubetest.RepoRoot()
	if err != nil {
		t.Logf("logs not kept: %v", err)
		return
	}
	dst := filepath.Join(root, ".cache", "conformance", strings.ReplaceAll(t.Name(), "/", "_"))
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Logf("logs not kept: %v", err)
		return
	}
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, filepath.Base(l)), b, 0o644)
		}
		if err != nil {
			t.Logf("log %s not kept: %v", l, err)
		}
	}
	t.Logf("logs kept in %s", dst)
}
