package e2e

import (
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestGracefulShutdown: on SIGTERM with --shutdown-delay, readiness fails
// at once while Strait keeps serving, so clients that leave when readiness
// fails (as endpoint controllers and load balancers do) see no failed
// request; a 10 s request that started before the signal completes; the
// process exits once it has, within delay plus grace period.
func TestGracefulShutdown(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.125.1", "a")
	o := newObjects(t, c, "drain")
	o.service("web")
	o.slice("web", "10.244.125.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "drain.test", "/", "web", nil, "")
	const delay, grace = 2 * time.Second, 15 * time.Second
	s := startStrait(t, c, "--shutdown-delay="+delay.String(), "--shutdown-grace-period="+grace.String())

	// Readiness, as a load balancer would poll it.
	var notReady atomic.Bool
	var notReadyAt atomic.Int64
	stopWatch := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if code, _ := httpGet("http://"+s.healthz+"/healthz", ""); code != 200 && !notReady.Load() {
				notReadyAt.Store(time.Now().UnixNano())
				notReady.Store(true)
			}
		}
	}()
	defer close(stopWatch)

	// Clients send continuously and stop sending new requests 300 ms
	// after readiness fails: the time a load balancer takes to notice.
	var ok, failed, afterSignal atomic.Int64
	var signalled atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if notReady.Load() && time.Since(time.Unix(0, notReadyAt.Load())) > 300*time.Millisecond {
					return
				}
				if r := s.annHTTP("GET", "drain.test", "/x", 0); r.err == nil && r.code == 200 {
					ok.Add(1)
					if signalled.Load() {
						afterSignal.Add(1)
					}
				} else {
					failed.Add(1)
					t.Logf("request failed: %v", r)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)

	long := make(chan annResp, 1)
	go func() {
		c := &http.Client{Timeout: 30 * time.Second}
		long <- annDo(c, "GET", "http://"+s.http+"/slow?sleep=10s", "drain.test", 0)
	}()
	time.Sleep(200 * time.Millisecond)

	start := time.Now()
	signalled.Store(true)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !notReady.Load() || time.Unix(0, notReadyAt.Load()).Sub(start) > 200*time.Millisecond {
		t.Errorf("readiness still passing 200 ms after SIGTERM")
	}
	r := <-long
	var exitAfter time.Duration
	select {
	case <-s.exited:
		exitAfter = time.Since(start)
	case <-time.After(delay + grace + 5*time.Second):
		t.Fatalf("Strait still running %v after SIGTERM", delay+grace+5*time.Second)
	}
	s.exited <- nil // for the cleanup's stop
	t.Logf("continuous requests: %d ok (%d after SIGTERM), %d failed; the 10 s request: %v; exit %v after SIGTERM",
		ok.Load(), afterSignal.Load(), failed.Load(), r, exitAfter.Round(time.Millisecond))
	if failed.Load() != 0 {
		t.Errorf("%d requests failed during the drain", failed.Load())
	}
	if afterSignal.Load() == 0 {
		t.Errorf("no request was served after SIGTERM: the shutdown delay did not keep serving")
	}
	if r.err != nil || r.code != http.StatusOK {
		t.Errorf("the request in flight at SIGTERM: %v, want 200", r)
	}
	if exitAfter < 9*time.Second || exitAfter > delay+grace {
		t.Errorf("exited %v after SIGTERM; want after the 10 s request and within delay+grace (%v)", exitAfter, delay+grace)
	}
}
