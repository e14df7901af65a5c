package e2e

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestClientTimeouts: with client-header-timeout and client-body-timeout
// at 1 s in the ConfigMap, a client that stalls in its request head or
// body loses the connection after about a second, on the plain-HTTP and
// HTTPS listeners alike (the body timeout), while valid requests are
// served.
func TestClientTimeouts(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.31.1", "a")
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"},
		Data: map[string]string{"client-header-timeout": "1", "client-body-timeout": "1", "ssl-redirect": "false"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "ct")
	o.service("web")
	o.slice("web", "10.244.31.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "ct.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	if r := s.annHTTP("POST", "ct.test", "/ok", 100); r.err != nil || r.code != 200 || r.bodyLen != 100 {
		t.Fatalf("a whole request: %v", r)
	}
	stall := func(name, request string) {
		t.Helper()
		conn, err := net.Dial("tcp", s.http)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
		start := time.Now()
		if _, err := io.WriteString(conn, request); err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(conn)
		if took := time.Since(start); took < 900*time.Millisecond || took > 5*time.Second {
			t.Errorf("%s: connection ended after %v, want about 1 s", name, took)
		}
	}
	stall("stalled head", "GET / HTTP/1.1\r\nHost: ct.te")
	stall("stalled body", "POST / HTTP/1.1\r\nHost: ct.test\r\nContent-Length: 100\r\n\r\nabc")
}
