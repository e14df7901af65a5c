package kubesim

import (
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// startForward forwards a new loopback port to target for a test.
func startForward(t *testing.T, target string) string {
	t.Helper()
	f, err := listenForward("127.0.0.1:0", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	return f.ln.Addr().String()
}

// backend accepts one connection and hands it to serve.
func backend(t *testing.T, serve func(*net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err == nil {
			serve(c.(*net.TCPConn))
		}
	}()
	return ln.Addr().String()
}

func TestForwardHalfClose(t *testing.T) {
	// The backend reads to the end of the request, then answers: only a
	// FIN passed on lets it see the end.
	target := backend(t, func(c *net.TCPConn) {
		defer c.Close()
		b, _ := io.ReadAll(c)
		c.Write([]byte("got " + string(b)))
	})
	c, err := net.Dial("tcp", startForward(t, target))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	c.(*net.TCPConn).CloseWrite()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "got hello" {
		t.Errorf("read %q, %v; want %q and end of stream", b, err, "got hello")
	}
}

func TestForwardReset(t *testing.T) {
	// The backend aborts the connection as the echo server's retry
	// simulation does: the client must see a reset, not a clean close.
	target := backend(t, func(c *net.TCPConn) {
		buf := make([]byte, 5)
		io.ReadFull(c, buf)
		c.SetLinger(0)
		c.Close()
	})
	c, err := net.Dial("tcp", startForward(t, target))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read: %v, want a connection reset", err)
	}
}

func TestForwardRefused(t *testing.T) {
	// Nothing listens behind the forwarder: the client is reset, as by a
	// closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close()
	// The reset may come before the dial returns, or after.
	c, err := net.Dial("tcp", startForward(t, target))
	if err == nil {
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("got %v, want a connection reset", err)
	}
}

func TestForwardCloseResetsConnections(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	target := backend(t, func(c *net.TCPConn) {
		defer c.Close()
		<-hold
	})
	f, err := listenForward("127.0.0.1:0", target)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", f.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	time.Sleep(50 * time.Millisecond) // let the relay start
	f.close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read after close: %v, want a connection reset", err)
	}
	if _, err := net.DialTimeout("tcp", f.ln.Addr().String(), time.Second); err == nil {
		t.Error("forwarder still accepts after close")
	}
}

func TestContainerLog(t *testing.T) {
	l := &containerLog{}
	w := &lineWriter{log: l}
	w.Write([]byte("one\ntw"))
	w.Write([]byte("o\n"))
	mid := time.Now()
	time.Sleep(2 * time.Millisecond)
	w.Write([]byte("three\nfour"))
	w.flush()

	for _, tc := range []struct {
		name string
		q    logQuery
		want string
	}{
		{"all", logQuery{tailLines: -1}, "one\ntwo\nthree\nfour\n"},
		{"since", logQuery{tailLines: -1, since: mid}, "three\nfour\n"},
		{"tail", logQuery{tailLines: 1}, "four\n"},
		{"tail zero", logQuery{tailLines: 0}, ""},
		{"limit", logQuery{tailLines: -1, limitBytes: 6}, "one\ntw"},
	} {
		if got := string(l.render(tc.q)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	lines := strings.Split(strings.TrimSuffix(string(l.render(logQuery{tailLines: 2, timestamps: true})), "\n"), "\n")
	for i, want := range []string{"three", "four"} {
		stamp, text, _ := strings.Cut(lines[i], " ")
		if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil || text != want {
			t.Errorf("line %d with timestamp: %q", i, lines[i])
		}
	}
}

func TestParseLogQuery(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	q, err := parseLogQuery(httptest.NewRequest("GET", "/containerLogs/ns/p/c?sinceTime=2026-01-02T03:00:00Z&tailLines=3&timestamps=true&limitBytes=10", nil), now)
	if err != nil {
		t.Fatal(err)
	}
	if want := (logQuery{since: now.Add(-245 * time.Second), tailLines: 3, limitBytes: 10, timestamps: true}); q != want {
		t.Errorf("%+v, want %+v", q, want)
	}
	q, err = parseLogQuery(httptest.NewRequest("GET", "/containerLogs/ns/p/c?sinceSeconds=5", nil), now)
	if err != nil || !q.since.Equal(now.Add(-5*time.Second)) || q.tailLines != -1 {
		t.Errorf("sinceSeconds: %+v, %v", q, err)
	}
	for _, bad := range []string{"sinceTime=yesterday", "tailLines=-1", "limitBytes=0", "previous=true"} {
		if _, err := parseLogQuery(httptest.NewRequest("GET", "/containerLogs/ns/p/c?"+bad, nil), now); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestIsEchoImage(t *testing.T) {
	for image, want := range map[string]bool{
		"registry.k8s.io/gateway-api/echo-basic:v1.5.1":                  true,
		"gcr.io/k8s-staging-gateway-api/echo-basic:v20231214-v1.0.0-140": true,
		"echo-basic":                true,
		"localhost:5000/echo-basic": true,
		"registry.k8s.io/gateway-api/echo-basic@sha256:0123": true,
		"registry.k8s.io/gateway-api/echo-advanced:v1.5.1":   false,
		"registry.k8s.io/coredns/coredns:v1.12.2":            false,
		"localhost:5000/echo-basic-fork:v1":                  false,
	} {
		if got := isEchoImage(image); got != want {
			t.Errorf("isEchoImage(%q) = %v, want %v", image, got, want)
		}
	}
}

func TestContainerEnv(t *testing.T) {
	s := &Sim{opts: Options{NodeIP: netip.MustParseAddr("10.244.255.254")}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "ns", UID: "u1", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "kubesim-0"},
	}
	c := corev1.Container{
		Name: "web",
		Env: []corev1.EnvVar{
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			{Name: "TLS_SERVER_CERT", Value: "/etc/secret-volume/crt"},
			{Name: "CONF", Value: "/etc/conf"},
			{Name: "OTHER", Value: "/etc/secret-volume-not"},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "secret-volume", MountPath: "/etc/secret-volume"},
			{Name: "conf", MountPath: "/etc/conf/", SubPath: "sub"},
		},
	}
	vols := map[string]string{"secret-volume": "/tmp/v/secret-volume", "conf": "/tmp/v/conf"}
	env, missing, err := s.containerEnv(t.Context(), pod, netip.MustParseAddr("10.244.1.7"), c, vols)
	if err != nil || missing != "" {
		t.Fatal(err, missing)
	}
	want := []string{
		"HOSTNAME=web-1", "POD_NAME=web-1", "NAMESPACE=ns", "POD_IP=10.244.1.7", "APP=web",
		"TLS_SERVER_CERT=/tmp/v/secret-volume/crt", "CONF=/tmp/v/conf/sub", "OTHER=/etc/secret-volume-not",
	}
	if strings.Join(env, " ") != strings.Join(want, " ") {
		t.Errorf("env\n%v\nwant\n%v", env, want)
	}

	c.Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.generation"}}}}
	if _, missing, err := s.containerEnv(t.Context(), pod, netip.MustParseAddr("10.244.1.7"), c, vols); err != nil || missing == "" {
		t.Errorf("unsupported fieldRef: missing %q, err %v; want a message", missing, err)
	}
}

func TestIPAllocator(t *testing.T) {
	node := netip.MustParseAddr("10.244.1.2")
	a, err := newIPAllocator(netip.MustParsePrefix("10.244.0.0/22"), node)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Addr]bool{}
	for {
		ip, err := a.allocate()
		if err != nil {
			break
		}
		b := ip.As4()
		if seen[ip] || ip == node || b[2] == 0 || b[3] == 0 || b[3] == 255 {
			t.Fatalf("allocated %s", ip)
		}
		seen[ip] = true
	}
	// Three /24s of 254 addresses, less the Node's.
	if len(seen) != 3*254-1 {
		t.Errorf("%d addresses allocated, want %d", len(seen), 3*254-1)
	}
	a.release(netip.MustParseAddr("10.244.2.9"))
	if ip, err := a.allocate(); err != nil || ip != netip.MustParseAddr("10.244.2.9") {
		t.Errorf("after release: %s, %v", ip, err)
	}
	if _, err := newIPAllocator(netip.MustParsePrefix("10.244.0.0/24"), node); err == nil {
		t.Error("a single /24 accepted")
	}
}

func TestSetCondition(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &corev1.PodStatus{}
	setCondition(st, corev1.PodReady, false, t0)
	setCondition(st, corev1.PodReady, false, t0.Add(time.Minute))
	if c := st.Conditions[0]; len(st.Conditions) != 1 || !c.LastTransitionTime.Time.Equal(t0) || c.Reason != "ContainersNotReady" {
		t.Errorf("unchanged condition: %+v", st.Conditions)
	}
	setCondition(st, corev1.PodReady, true, t0.Add(2*time.Minute))
	if c := st.Conditions[0]; c.Status != corev1.ConditionTrue || !c.LastTransitionTime.Time.Equal(t0.Add(2*time.Minute)) || c.Reason != "" {
		t.Errorf("changed condition: %+v", c)
	}
}
