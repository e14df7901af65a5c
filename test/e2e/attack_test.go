package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/kubetest"
)

// limitHits reads strait_limit_triggered_total for one limit.
func (s *strait) limitHits(limit string) float64 {
	return s.metric(`strait_limit_triggered_total{limit="` + limit + `"}`)
}

// raiseFileLimit lifts the open-file limit to its maximum; Strait,
// started afterwards, inherits it.
func raiseFileLimit(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
}

// TestSlowlorisAndRapidReset: with max-worker-connections 2048, 2000
// connections trickling a request head a byte every 2 s to the plain port
// and 300 more to the TLS port (half of them within the TLS handshake),
// and HTTP/2 clients opening and resetting streams in tight loops, a
// well-behaved client on a kept-alive connection of each listener has
// every request served; the metrics show the connection cap, the
// pressure sweep and the rapid-reset guard at work. Latencies before and
// during the attack are printed, not asserted.
func TestSlowlorisAndRapidReset(t *testing.T) {
	raiseFileLimit(t)
	c := kubetest.Start(t)
	annBackend(t, "10.244.134.1", "a")
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"},
		Data: map[string]string{"max-worker-connections": "2048"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "attack")
	o.service("web")
	o.slice("web", "10.244.134.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "atk.test"
	annIngress(o, "app", host, "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	plain := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	h2 := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: host}}}
	t.Cleanup(plain.CloseIdleConnections)
	t.Cleanup(h2.CloseIdleConnections)
	// measure sends sequential GETs on each client for d and returns the
	// latencies; every request must succeed.
	measure := func(phase string, d time.Duration) (lat, lat2 []time.Duration) {
		one := func(cl *http.Client, url string, wantMajor int) (time.Duration, bool) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Host = host
			start := time.Now()
			resp, err := cl.Do(req)
			if err != nil {
				t.Errorf("%s: GET %s: %v", phase, url, err)
				return 0, false
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ProtoMajor != wantMajor {
				t.Errorf("%s: GET %s: %d %s", phase, url, resp.StatusCode, resp.Proto)
				return 0, false
			}
			return time.Since(start), true
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for end := time.Now().Add(d); time.Now().Before(end); {
				if l, ok := one(h2, "https://"+s.https+"/h2", 2); ok {
					lat2 = append(lat2, l)
				}
			}
		}()
		for end := time.Now().Add(d); time.Now().Before(end); {
			if l, ok := one(plain, "http://"+s.http+"/plain", 1); ok {
				lat = append(lat, l)
			}
		}
		wg.Wait()
		return lat, lat2
	}
	before, before2 := measure("before the attack", 3*time.Second)

	stop := make(chan struct{})
	var attackers sync.WaitGroup
	var slowConns, resetConns atomic.Int64
	// trickle holds connections that send a request head a byte every
	// 2 s, opening a new one whenever one is closed.
	trickle := func(addr string, tlsHandshake bool) {
		defer attackers.Done()
		head := []byte("GET / HTTP/1.1\r\nHost: " + host + "\r\nX-Slow: " + string(bytes.Repeat([]byte("s"), 200)))
		for {
			select {
			case <-stop:
				return
			default:
			}
			conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			slowConns.Add(1)
			var w io.Writer = conn
			if tlsHandshake {
				tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"http/1.1"}})
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				if tc.Handshake() != nil {
					_ = conn.Close()
					continue
				}
				w = tc
			} else if addr == s.https {
				// A ClientHello never finished.
				head = []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}
			}
		bytes:
			for i := 0; ; i = (i + 1) % len(head) {
				if _, err := w.Write(head[i : i+1]); err != nil {
					break
				}
				select {
				case <-stop:
					break bytes
				case <-time.After(2 * time.Second):
				}
			}
			_ = conn.Close()
		}
	}
	for range 2000 {
		attackers.Add(1)
		go trickle(s.http, false)
	}
	for i := range 300 {
		attackers.Add(1)
		go trickle(s.https, i%2 == 0)
	}
	// rapidReset opens HTTP/2 connections and resets every stream it
	// opens, in a tight loop, until the connection is closed.
	rapidReset := func() {
		defer attackers.Done()
		var hbuf bytes.Buffer
		enc := hpack.NewEncoder(&hbuf)
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", host}, {":path", "/"}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		block := hbuf.Bytes()
		for {
			select {
			case <-stop:
				return
			default:
			}
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.https,
				&tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"h2"}})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			resetConns.Add(1)
			go func() { _, _ = io.Copy(io.Discard, conn) }()
			fr := http2.NewFramer(conn, conn)
			_, err = io.WriteString(conn, http2.ClientPreface)
			if err == nil {
				err = fr.WriteSettings()
			}
			for id := uint32(1); err == nil && id < 1<<20; id += 2 {
				if err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true, EndStream: true}); err == nil {
					err = fr.WriteRSTStream(id, http2.ErrCodeCancel)
				}
			}
			_ = conn.Close()
			time.Sleep(50 * time.Millisecond)
		}
	}
	for range 4 {
		attackers.Add(1)
		go rapidReset()
	}
	// Let the attack fill the connection cap.
	time.Sleep(2 * time.Second)
	during, during2 := measure("during the attack", 6*time.Second)
	close(stop)
	attackers.Wait()

	t.Logf("plain HTTP/1.1 before the attack: %s", percentiles(before))
	t.Logf("plain HTTP/1.1 during the attack: %s", percentiles(during))
	t.Logf("HTTP/2 before the attack: %s", percentiles(before2))
	t.Logf("HTTP/2 during the attack: %s", percentiles(during2))
	t.Logf("attack connections opened: %d trickling, %d rapid-reset", slowConns.Load(), resetConns.Load())
	for _, l := range []string{"connections", "slowloris", "h2_rapid_reset", "header_timeout", "send_timeout", "h2_streams", "h2_continuation"} {
		t.Logf("strait_limit_triggered_total{limit=%q} %v", l, s.limitHits(l))
	}
	t.Logf("strait_client_connections %v", s.metric("strait_client_connections"))
	for _, l := range []string{"connections", "slowloris", "h2_rapid_reset"} {
		if s.limitHits(l) < 1 {
			t.Errorf("limit %s never triggered", l)
		}
	}
	if t.Failed() {
		b, _ := os.ReadFile(s.log)
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "level=WARN") && n < 40 {
				t.Log(line)
				n++
			}
		}
	}
	if len(during) == 0 || len(during2) == 0 {
		t.Error("no well-behaved request completed during the attack")
	}
}
