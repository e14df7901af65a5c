// Package kubetest runs a real Kubernetes control plane (etcd and
// kube-apiserver, built by scripts/build-kube.sh) for tests, and runs tests
// in a private network namespace where backends can listen on ordinary
// (non-loopback) addresses without any packet leaving the machine. The
// Gateway API conformance harness adds kube-controller-manager
// (StartControllerManager, built by scripts/build-kube.sh conformance).
//
// A test package typically does:
//
//	func TestMain(m *testing.M) { os.Exit(kubetest.RunInNetns(m)) }
//
//	func TestSomething(t *testing.T) {
//		c := kubetest.Start(t)
//		c.Client.CoreV1().Namespaces().Create(...)
//	}
//
// Nothing here uses Docker, kind or the network: the binaries are found in
// $STRAIT_KUBE_BIN or <repository root>/.cache/kube/bin.
package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// BinEnv is the environment variable naming the directory that holds the
// etcd and kube-apiserver binaries. When it is unset, the binaries are taken
// from .cache/kube/bin under the repository root, where
// scripts/build-kube.sh puts them.
const BinEnv = "STRAIT_KUBE_BIN"

// ServiceClusterIPRange is the range the API server allocates Service
// cluster IPs from.
const ServiceClusterIPRange = "10.96.0.0/16"

// Timeouts for the control plane to come up.
const (
	etcdReadyTimeout      = 30 * time.Second
	apiserverReadyTimeout = 60 * time.Second
	stopGrace             = 10 * time.Second
)

// module is the main module's path, used to find the repository root.
const module = "github.com/straitgw/strait"

// Cluster is a running etcd and kube-apiserver. The API server listens on
// 127.0.0.1 and serves TLS with a certificate the cluster generated; clients
// authenticate with a bearer token.
//
// A Cluster's methods may be called from several goroutines.
type Cluster struct {
	// Dir is the cluster's working directory: etcd's data, certificates,
	// keys, kubeconfig files and the logs etcd.log, kube-apiserver.log and
	// (once started) kube-controller-manager.log.
	Dir string
	// Kubeconfig is the path of a kubeconfig file for a cluster
	// administrator (a member of system:masters).
	Kubeconfig string
	// RESTConfig is the administrator's client configuration, without
	// client-side rate limiting.
	RESTConfig *rest.Config
	// Client is a clientset made from RESTConfig.
	Client kubernetes.Interface

	bin        string
	ownDir     bool // Dir was created by StartCluster and is removed by Stop
	etcdURL    string
	etcdPeer   string
	port       int
	caPEM      []byte
	adminToken string

	mu                sync.Mutex
	etcd              *process
	apiserver         *process
	controllerManager *process // started by StartControllerManager
	stopped           bool
}

// Start starts a cluster for a test, in a directory from t.TempDir, and
// stops it when the test and its subtests finish. It fails the test if the
// cluster cannot be started, for example because the binaries have not been
// built (run scripts/build-kube.sh).
func Start(t testing.TB) *Cluster {
	t.Helper()
	start := time.Now()
	c, err := StartCluster(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	t.Logf("kubetest: cluster started in %v (API server https://127.0.0.1:%d, logs in %s)", time.Since(start).Round(time.Millisecond), c.port, c.Dir)
	return c
}

// StartCluster starts etcd and kube-apiserver with their files in dir, and
// returns once the API server is ready. If dir is empty, it uses a new
// temporary directory that Stop removes. The caller must call Stop; it
// suits TestMain, where there is no testing.TB.
func StartCluster(dir string) (_ *Cluster, err error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "kubetest-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	c.Dir = dir
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	ports, err := FreePorts(3)
	if err != nil {
		return nil, err
	}
	c.etcdURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	c.etcdPeer = "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c.port = ports[2]

	if err := c.writeCredentials(); err != nil {
		return nil, err
	}
	if err := c.startEtcd(); err != nil {
		return nil, err
	}
	if err := c.StartAPIServer(); err != nil {
		return nil, err
	}

	c.RESTConfig = c.restConfig(c.adminToken)
	if c.Client, err = kubernetes.NewForConfig(c.RESTConfig); err != nil {
		return nil, err
	}
	c.Kubeconfig = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := c.writeKubeconfig(c.Kubeconfig, "admin", c.adminToken); err != nil {
		return nil, err
	}
	return c, nil
}

// BinDir returns the directory holding the etcd and kube-apiserver binaries
// ($STRAIT_KUBE_BIN, else .cache/kube/bin under the repository root), or an
// error telling how to build them if either is missing.
func BinDir() (string, error) {
	dir := os.Getenv(BinEnv)
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", fmt.Errorf("kubetest: %v (or set %s to the directory holding etcd and kube-apiserver)", err, BinEnv)
		}
		dir = filepath.Join(root, ".cache", "kube", "bin")
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("kubetest: %s is missing: build the control plane with scripts/build-kube.sh (several minutes the first time), or set %s", p, BinEnv)
		}
	}
	return dir, nil
}

// RepoRoot returns the root of the Strait repository: the nearest directory,
// from the working directory (go test runs a package's tests in its
// directory) upwards, whose go.mod declares module github.com/straitgw/strait.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(b, module) {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod for module %s in %s or above", module, wd)
		}
	}
}

// declaresModule reports whether the go.mod content gomod declares module
// path.
func declaresModule(gomod []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == path
		}
	}
	return false
}

// FreePorts returns n distinct TCP ports that are free on 127.0.0.1. They
// are taken below the kernel's ephemeral port range when there is room
// there, so that no outgoing connection can be using one of them when a
// server (etcd, kube-apiserver, Strait) binds it, or binds it again on
// restart.
func FreePorts(n int) ([]int, error) {
	lo, hi := 10000, 0
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			hi, _ = strconv.Atoi(f[0])
		}
	}
	var ports []int
	for attempt := 0; len(ports) < n; attempt++ {
		addr := "127.0.0.1:0"
		if hi-lo >= 1000 && attempt < 100 {
			addr = "127.0.0.1:" + strconv.Itoa(lo+mathrand.IntN(hi-lo))
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if addr != "127.0.0.1:0" {
				continue // taken: try another
			}
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *Cluster) path(name string) string { return filepath.Join(c.Dir, name) }

func (c *Cluster) startEtcd() error {
	args := []string{
		"--name=kubetest",
		"--data-dir=" + c.path("etcd-data"),
		"--listen-client-urls=" + c.etcdURL,
		"--advertise-client-urls=" + c.etcdURL,
		"--listen-peer-urls=" + c.etcdPeer,
		"--initial-advertise-peer-urls=" + c.etcdPeer,
		"--initial-cluster=kubetest=" + c.etcdPeer,
		"--unsafe-no-fsync",
	}
	p, err := startProcess("etcd", filepath.Join(c.bin, "etcd"), args, c.path("etcd.log"))
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.etcd = p
	c.mu.Unlock()
	client := &http.Client{Timeout: time.Second}
	return p.waitReady(etcdReadyTimeout, func() error {
		resp, err := client.Get(c.etcdURL + "/health")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /health: %s", resp.Status)
		}
		return nil
	})
}

// StartAPIServer starts kube-apiserver, on the same port and against the
// same etcd as before, and waits until it is ready (/readyz). Start and
// StartCluster call it; tests call it after StopAPIServer. It does nothing
// if the API server is running.
func (c *Cluster) StartAPIServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errors.New("kubetest: cluster stopped")
	}
	if c.apiserver != nil && !c.apiserver.exited() {
		return nil
	}
	args := []string{
		"--etcd-servers=" + c.etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// With an advertise address on loopback, the API server refuses to
		// maintain the endpoints of the kubernetes Service.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(c.port),
		"--cert-dir=" + c.path("apiserver-certs"),
		"--tls-cert-file=" + c.path("serving.crt"),
		"--tls-private-key-file=" + c.path("serving.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + c.path("sa.pub"),
		"--service-account-signing-key-file=" + c.path("sa.key"),
		"--service-cluster-ip-range=" + ServiceClusterIPRange,
		// pods/log is served by the kubelet of the Pod's Node, reached at
		// the Node's InternalIP (a Node's other addresses are names that
		// resolve nowhere in the test's network namespace).
		"--kubelet-preferred-address-types=InternalIP",
		"--authorization-mode=RBAC",
		"--token-auth-file=" + c.path("tokens.csv"),
		// No controller-manager creates the default ServiceAccount of each
		// namespace, so this plugin would reject every Pod.
		"--disable-admission-plugins=ServiceAccount",
		"--profiling=false",
	}
	p, err := startProcess("kube-apiserver", filepath.Join(c.bin, "kube-apiserver"), args, c.path("kube-apiserver.log"))
	if err != nil {
		return err
	}
	c.apiserver = p
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.caPEM)
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer client.CloseIdleConnections()
	return p.waitReady(apiserverReadyTimeout, func() error {
		req, err := http.NewRequest("GET", c.host()+"/readyz", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.adminToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /readyz: %s", resp.Status)
		}
		return nil
	})
}

// StopAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after 10 s) and
// waits for it to exit; etcd keeps running. Requests fail until
// StartAPIServer.
func (c *Cluster) StopAPIServer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiserver != nil {
		c.apiserver.stop(syscall.SIGTERM)
	}
}

// Stop kills kube-controller-manager (if started), kube-apiserver and etcd
// and waits for them to exit. It removes the cluster's directory if
// StartCluster created it. Calling it again does nothing.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	c.stopControllerManager()
	if c.apiserver != nil {
		c.apiserver.stop(syscall.SIGKILL)
	}
	if c.etcd != nil {
		c.etcd.stop(syscall.SIGKILL)
	}
	if c.ownDir {
		os.RemoveAll(c.Dir)
	}
}

func (c *Cluster) host() string { return "https://127.0.0.1:" + strconv.Itoa(c.port) }

// restConfig returns a client configuration authenticating with token.
func (c *Cluster) restConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            c.host(),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.caPEM},
		QPS:             -1, // no client-side rate limiting
		Timeout:         30 * time.Second,
	}
}

// writeKubeconfig writes a kubeconfig file for the cluster, for a user
// named user authenticating with token.
func (c *Cluster) writeKubeconfig(path, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubetest"] = &clientcmdapi.Cluster{
		Server:                   c.host(),
		CertificateAuthorityData: c.caPEM,
	}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: user}
	cfg.CurrentContext = "kubetest"
	return clientcmd.WriteToFile(*cfg, path)
}

// ServiceAccountKubeconfig returns the path of a kubeconfig file that
// authenticates as ServiceAccount name in namespace, as a Pod running under
// that account would: user system:serviceaccount:<namespace>:<name>, groups
// system:serviceaccounts and system:serviceaccounts:<namespace>. The
// identity has only the permissions that RBAC objects grant it, which makes
// it the way to test a component's RBAC rules. The namespace and the
// ServiceAccount are created if missing; the token, from the TokenRequest
// API, is valid for 24 hours.
func (c *Cluster) ServiceAccountKubeconfig(namespace, name string) (string, error) {
	token, err := c.ServiceAccountToken(namespace, name)
	if err != nil {
		return "", err
	}
	path := c.path(fmt.Sprintf("sa-%s-%s.kubeconfig", namespace, name))
	user := "system:serviceaccount:" + namespace + ":" + name
	if err := c.writeKubeconfig(path, user, token); err != nil {
		return "", err
	}
	return path, nil
}

// ServiceAccountConfig is like ServiceAccountKubeconfig but returns a client
// configuration.
func (c *Cluster) ServiceAccountConfig(namespace, name string) (*rest.Config, error) {
	token, err := c.ServiceAccountToken(namespace, name)
	if err != nil {
		return nil, err
	}
	return c.restConfig(token), nil
}

// ServiceAccountToken returns a bearer token for ServiceAccount name in
// namespace, creating the namespace and the ServiceAccount if missing. See
// ServiceAccountKubeconfig.
func (c *Cluster) ServiceAccountToken(namespace, name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("kubetest: creating namespace %s: %w", namespace, err)
	}
	sas := c.Client.CoreV1().ServiceAccounts(namespace)
	_, err = sas.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("kubetest: creating ServiceAccount %s/%s: %w", namespace, name, err)
	}
	expiry := int64(24 * 60 * 60)
	tr, err := sas.CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("kubetest: requesting a token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// ImpersonatingConfig returns a client configuration for user, a member of
// groups (and of system:authenticated), by impersonation through the
// administrator: requests are authorized as that user. Use it to test RBAC
// rules for identities other than ServiceAccounts.
func (c *Cluster) ImpersonatingConfig(user string, groups ...string) *rest.Config {
	cfg := rest.CopyConfig(c.RESTConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return cfg
}

// process is a running control-plane binary, its output going to a log file.
type process struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been waited for
	err  error         // cmd.Wait's result, once done is closed
}

// startProcess starts path with args, its output going to the file logPath.
// The process is killed if the thread that started it exits, which happens
// only when the process has exited or the test process dies: the process
// never outlives the tests.
func startProcess(name, path string, args []string, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "=== kubetest: %s %s (%s)\n", path, strings.Join(args, " "), time.Now().Format(time.RFC3339Nano))
	p := &process{name: name, log: logPath, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Stdout = logf
	p.cmd.Stderr = logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the process exits:
		// keep this goroutine on its thread for the process's lifetime.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer logf.Close()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("kubetest: starting %s: %w", name, err)
	}
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady calls ready every 100 ms until it succeeds, the process exits or
// timeout passes. On failure, it kills the process and returns an error
// including the end of the log.
func (p *process) waitReady(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if last = ready(); last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("kubetest: %s exited before becoming ready (%v); end of %s:\n%s", p.name, p.err, p.log, TailFile(p.log, 40))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop(syscall.SIGKILL)
			return fmt.Errorf("kubetest: %s not ready after %v (%v); end of %s:\n%s", p.name, timeout, last, p.log, TailFile(p.log, 40))
		}
	}
}

// stop sends sig to the process, then SIGKILL if it has not exited after
// stopGrace, and waits for it to exit.
func (p *process) stop(sig syscall.Signal) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return
	case <-time.After(stopGrace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// TailFile returns the last n lines of the file at path (the error, when
// it cannot be read), for showing the end of a log in a failure.
func TailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
