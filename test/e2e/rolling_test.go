package e2e

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestRollingReplacement: a new Strait starts on the ports the running one
// holds (SO_REUSEPORT), becomes ready, and the old one is sent SIGTERM and
// drains; done ten times in a row under continuous load over HTTP/1.1 on
// both ports, with keep-alive connections, no request fails.
func TestRollingReplacement(t *testing.T) {
	// Connections still queued on a closing listener move to another
	// listener of the same port instead of being reset (Linux 5.14+);
	// docs/architecture.md asks hosts that roll this way to set it too.
	if err := os.WriteFile("/proc/sys/net/ipv4/tcp_migrate_req", []byte("1"), 0o644); err != nil {
		t.Fatalf("enabling net.ipv4.tcp_migrate_req in the test network namespace: %v", err)
	}
	c := kubetest.Start(t)
	annBackend(t, "10.244.126.1", "a")
	annBackend(t, "10.244.126.2", "b")
	o := newObjects(t, c, "rolling")
	o.service("web")
	o.slice("web", "10.244.126.1", "10.244.126.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "roll.test", "/", "web", nil, "")

	env := []string{"POD_NAMESPACE=default"}
	args := []string{"serve", "--kubeconfig", c.Kubeconfig, "--shutdown-delay=1s", "--shutdown-grace-period=10s"}
	addrs := freeAddrs(t, 2)
	httpAddr, httpsAddr := addrs[0], addrs[1]
	cur := startStraitAt(t, env, httpAddr, httpsAddr, args...)

	plain := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	secure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 8,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true, ServerName: "roll.test"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, httpsAddr)
		},
	}}
	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := func(c *http.Client, url string, method string) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			r := annDo(c, method, url, "roll.test", 0)
			if r.err == nil && r.code == http.StatusOK {
				ok.Add(1)
			} else {
				failed.Add(1)
				t.Logf("%s %s: %v", method, url, r)
			}
		}
	}
	for range 3 {
		wg.Add(2)
		go client(plain, "http://"+httpAddr+"/x", http.MethodGet)
		go client(secure, "https://roll.test/x", http.MethodGet)
	}
	// A POST is never retried by the client: it shows a connection lost
	// with a request on it.
	wg.Add(1)
	go client(plain, "http://"+httpAddr+"/post", http.MethodPost)

	const rounds = 10
	for i := range rounds {
		time.Sleep(300 * time.Millisecond)
		next := startStraitAt(t, env, httpAddr, httpsAddr, args...)
		before := ok.Load()
		start := time.Now()
		if err := cur.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-cur.exited:
			if err != nil {
				t.Errorf("round %d: old Strait exited with %v", i+1, err)
			}
			cur.exited <- nil
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: old Strait still running 20 s after SIGTERM", i+1)
		}
		t.Logf("round %d: old process drained and exited in %v; %d requests served meanwhile", i+1, time.Since(start).Round(time.Millisecond), ok.Load()-before)
		cur = next
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	total := ok.Load() + failed.Load()
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(ok.Load()) / float64(total)
	}
	t.Logf("%d replacements on the same ports: %d requests, %d ok, %d failed: %.3f%% success", rounds, total, ok.Load(), failed.Load(), pct)
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Errorf("%d of %d requests failed across %d replacements, want none", failed.Load(), total, rounds)
	}
}
