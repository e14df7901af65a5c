package conformance

import (
	"flag"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwconformance "sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/flags"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"

	"github.com/straitgw/strait/internal/kubetest"
	"github.com/straitgw/strait/internal/translate/gatewayapi"
)

// The suite registers its own flags (-run-test, -skip-tests,
// -supported-features, -report-output, -debug, ...: see
// sigs.k8s.io/gateway-api/conformance/utils/flags) and
// TestGatewayAPIConformance applies those given on the command line over
// its defaults. These are the harness's own.
var extraFeatures = flag.String("extra-features", "",
	"comma-separated Gateway API features to claim besides supportedFeatures() (ignored when -supported-features is given)")

// defaultReport is where the report goes when -report-output is not
// given, relative to the repository root (make conformance writes it).
const defaultReport = "docs/conformance/gateway-api-report.yaml"

// supportedFeatures returns the Gateway API features Strait claims: those
// its GatewayClasses announce (gatewayapi.SupportedFeatures, the one list
// to extend as Strait gains features).
func supportedFeatures() []features.FeatureName {
	var out []features.FeatureName
	for _, f := range gatewayapi.SupportedFeatures() {
		out = append(out, features.FeatureName(f))
	}
	return out
}

// Implementation details for the report.
const (
	organization = "straitgw"
	project      = "strait"
	projectURL   = "https://github.com/straitgw/strait"
	contact      = "https://github.com/straitgw/strait/issues/new"
)

// straitReadyTimeout bounds Strait's start-up.
const straitReadyTimeout = 60 * time.Second

// TestGatewayAPIConformance runs the Gateway API conformance suite's
// GATEWAY-HTTP profile against Strait and writes the report.
//
// Run one test of the suite with -args -run-test=NAME (no report is
// written then, unless -report-output is given), skip some with
// -skip-tests=A,B, claim more features with -extra-features=A,B.
func TestGatewayAPIConformance(t *testing.T) {
	// The suite logs through controller-runtime, which complains until
	// it has a logger.
	log.SetLogger(zap.New(zap.WriteTo(os.Stdout), zap.UseDevMode(true)))
	h := startHarness(t)
	startStrait(t, h)
	gc := &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: gatewayClassName},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: controllerName},
	}
	if err := h.client.Create(t.Context(), gc); err != nil {
		t.Fatal(err)
	}

	root, err := kubetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	claimed := supportedFeatures()
	for _, f := range strings.Split(*extraFeatures, ",") {
		if f = strings.TrimSpace(f); f != "" {
			claimed = append(claimed, features.FeatureName(f))
		}
	}
	opts := suite.ConformanceOptions{
		ConfigurableOptions: suite.ConfigurableOptions{
			GatewayClassName:     gatewayClassName,
			CleanupBaseResources: flags.DefaultCleanupBaseResources,
			CleanupTestResources: flags.DefaultCleanupTestResources,
			Mode:                 flags.DefaultMode,
			TimeoutConfig:        config.DefaultTimeoutConfig(),
			SupportedFeatures:    claimed,
			ConformanceProfiles:  []suite.ConformanceProfileName{suite.GatewayHTTPConformanceProfileName, suite.GatewayGRPCConformanceProfileName},
			Implementation: confv1.Implementation{
				Organization: organization,
				Project:      project,
				URL:          projectURL,
				Version:      straitVersion(root),
				Contact:      []string{contact},
			},
			ReportOutputPath: filepath.Join(root, defaultReport),
		},
		Client:        h.client,
		ClientOptions: h.clientOptions,
		Clientset:     h.clientset,
		// The suite sets the user agent of the configuration it is given
		// for each test: a copy keeps the cluster's own.
		RestConfig: rest.CopyConfig(h.cluster.RESTConfig),
		ManifestFS: []fs.FS{&gwconformance.Manifests},
	}
	flags.ApplyAll(&opts.ConfigurableOptions)
	if opts.RunTest != "" && !flagGiven("report-output") {
		// One test's report is not the project's report.
		opts.ReportOutputPath = ""
	}
	if opts.ReportOutputPath != "" {
		if err := os.MkdirAll(filepath.Dir(opts.ReportOutputPath), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("report: %s", opts.ReportOutputPath)
	}
	if opts.ReportOutputPath == filepath.Join(root, defaultReport) {
		// Cleanups run last first: this one runs after the suite's,
		// which writes the report.
		t.Cleanup(func() {
			if err := writeSummary(opts.ReportOutputPath, filepath.Join(root, summaryDoc)); err != nil {
				t.Errorf("summarising the report in %s: %v", summaryDoc, err)
			}
		})
	}
	gwconformance.RunConformanceWithOptions(t, opts)
}

// startStrait starts Strait's controller and proxy against the harness's
// cluster, handing Gateways addresses of kubetest.GatewayCIDR, and waits
// until it reports healthy. Its output goes to strait.log in the
// cluster's directory, whose end is printed if the test fails.
func startStrait(t *testing.T, h *harness) {
	t.Helper()
	ports, err := kubetest.FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"serve",
		"--kubeconfig", h.cluster.Kubeconfig,
		"--gateway-controller-name", controllerName,
		"--gateway-address-pool", kubetest.GatewayCIDR,
		// The Ingress listeners stay on loopback, out of the Gateway
		// addresses' way.
		"--bind-address", "127.0.0.1",
		"--http-port", strconv.Itoa(ports[0]),
		"--https-port", strconv.Itoa(ports[1]),
		"--healthz-port", strconv.Itoa(ports[2]),
		"--shutdown-delay=0s",
	}
	logPath := filepath.Join(h.cluster.Dir, "strait.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(straitBin, args...)
	cmd.Env = append(os.Environ(), "POD_NAMESPACE=default")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); f.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("end of Strait's log %s:\n%s", logPath, kubetest.TailFile(logPath, 200))
		}
	})
	healthz := "http://127.0.0.1:" + strconv.Itoa(ports[2]) + "/healthz"
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(straitReadyTimeout)
	for {
		if resp, err := client.Get(healthz); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("strait %s exited before it was healthy: %v\n%s", strings.Join(args, " "), err, kubetest.TailFile(logPath, 40))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("strait not healthy after %v:\n%s", straitReadyTimeout, kubetest.TailFile(logPath, 40))
		}
	}
}

// straitVersion describes the commit under test (git describe), or says
// "dev" when git cannot.
func straitVersion(root string) string {
	cmd := exec.Command("git", "describe", "--tags", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return "dev"
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
