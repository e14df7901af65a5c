package live_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/examples"
	"github.com/straitgw/strait/internal/live"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/server"
	"github.com/straitgw/strait/internal/snapshot"
)

// startServer runs a standalone server with the live view on loopback
// ports for the manifests in dir and waits until it is ready.
func startServer(t *testing.T, dir string) *server.Server {
	t.Helper()
	srv, _ := startStoppable(t, dir)
	return srv
}

// startStoppable is startServer that also returns a function stopping
// the server before the test ends.
func startStoppable(t *testing.T, dir string) (*server.Server, func()) {
	t.Helper()
	srv, err := server.New(server.Config{
		Manifests:   dir,
		BindAddress: "127.0.0.1",
		Classes:     snapshot.ClassOptions{ControllerClass: "strait.dev/ingress-controller", IngressClass: "strait"},
		LiveView:    true,
		// ingress-nginx's default, which the view's rates need.
		Metrics: server.MetricsConfig{Requests: metrics.RequestOptions{PerHost: true}},
		Log:     slog.New(slog.NewTextHandler(logSink(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + srv.HealthzAddr() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return srv, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func logSink() io.Writer {
	if os.Getenv("STRAIT_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// quickstartDir copies examples/quickstart's manifests into a new
// directory.
func quickstartDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(examples.Quickstart, "quickstart", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(examples.Quickstart, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes a manifest atomically (a rename), so that the watcher
// never reads half a file.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// tlsSecret returns a kubernetes.io/tls Secret manifest with a new
// self-signed certificate for host that expires at notAfter.
func tlsSecret(t *testing.T, ns, name, host string, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	k := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: %s}
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, name, ns, base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(k))
}

// backendServer starts an HTTP server on loopback that answers 200.
func backendServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}))
	t.Cleanup(s.Close)
	return s
}

// deadPort returns a loopback port nothing listens on.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func port(t *testing.T, s *httptest.Server) int {
	t.Helper()
	return s.Listener.Addr().(*net.TCPAddr).Port
}

// service returns a Service and its EndpointSlice in namespace ns, with
// one ready loopback endpoint per port.
func service(ns, name string, ports ...int) string {
	var eps strings.Builder
	for _, p := range ports {
		// Each endpoint its own slice: an EndpointSlice has one port list.
		fmt.Fprintf(&eps, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-%[2]d
  namespace: %[3]s
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
endpoints:
  - addresses: [127.0.0.1]
    conditions: {ready: true}
ports:
  - {name: http, protocol: TCP, port: %[2]d}
`, name, p, ns)
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %s, namespace: %s}
spec:
  ports:
    - {name: http, protocol: TCP, port: 80}
`, name, ns) + eps.String()
}

// getView fetches and decodes the live view's JSON.
func getView(t *testing.T, srv *server.Server) *live.View {
	t.Helper()
	resp, err := http.Get("http://" + srv.HealthzAddr() + live.APIPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", live.APIPath, resp.Status)
	}
	var v live.View
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// proxyGet sends GET path with Host host through the HTTP listener and
// returns the status.
func proxyGet(t *testing.T, srv *server.Server, host, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+srv.HTTPAddr()+path, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
