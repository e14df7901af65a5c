package e2e

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

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
	// Long-lived connections: WebSockets on both engines, and an HTTP/2
	// connection with a 5 s stream in flight.
	wsPlain := watchWebSocket(t, "ws://"+s.http+"/", "drain.test")
	wsTLS := watchWebSocket(t, "wss://"+s.https+"/", "drain.test")
	h2 := watchH2(t, s.https, "drain.test", "/slow?sleep=5s")
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
	for _, ws := range []*wsWatch{wsPlain, wsTLS} {
		res := <-ws.done
		t.Logf("%s: %d messages echoed, then %v at %v after SIGTERM", ws.url, res.echoed, res.err, res.at.Sub(start).Round(time.Millisecond))
		var ce *websocket.CloseError
		if !errors.As(res.err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("%s ended with %v, want a close frame with status 1001", ws.url, res.err)
		}
		if res.at.Sub(start) > delay+grace {
			t.Errorf("%s: close frame %v after SIGTERM, want it within delay+grace (%v)", ws.url, res.at.Sub(start), delay+grace)
		}
		if res.at.Sub(start) < delay+grace/2 {
			t.Errorf("%s: closed %v after SIGTERM, want it kept open through most of the grace period", ws.url, res.at.Sub(start))
		}
	}
	hr := <-h2
	t.Logf("HTTP/2: GOAWAY after %v, the stream in flight ended with status %d after %v",
		hr.goAway.Sub(start).Round(time.Millisecond), hr.status, hr.ended.Sub(start).Round(time.Millisecond))
	if hr.goAway.IsZero() || hr.goAway.Sub(start) < delay {
		t.Errorf("HTTP/2 connection: GOAWAY at %v after SIGTERM, want one once the shutdown delay (%v) ends", hr.goAway.Sub(start), delay)
	}
	if hr.status != http.StatusOK {
		t.Errorf("HTTP/2 stream in flight at the GOAWAY: status %d (%v), want 200", hr.status, hr.err)
	}
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

// wsWatch is a WebSocket kept busy until it ends.
type wsWatch struct {
	url  string
	done chan wsEnd
}

type wsEnd struct {
	echoed int
	err    error
	at     time.Time
}

// watchWebSocket opens a WebSocket and echoes a message through it every
// 100 ms until it ends, reporting how.
func watchWebSocket(t *testing.T, url, host string) *wsWatch {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: host}}
	ws, _, err := d.Dial(url, http.Header{"Host": {host}})
	if err != nil {
		t.Fatalf("WebSocket %s: %v", url, err)
	}
	w := &wsWatch{url: url, done: make(chan wsEnd, 1)}
	go func() {
		defer ws.Close()
		n := 0
		for {
			_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := ws.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
				// The server's close frame may already be waiting.
				_ = ws.SetReadDeadline(time.Now().Add(time.Second))
				_, _, rerr := ws.ReadMessage()
				w.done <- wsEnd{n, rerr, time.Now()}
				return
			}
			_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, _, err := ws.ReadMessage(); err != nil {
				w.done <- wsEnd{n, err, time.Now()}
				return
			}
			n++
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return w
}

// h2End reports what an HTTP/2 connection saw.
type h2End struct {
	goAway, ended time.Time
	status        int
	err           error
}

// watchH2 opens an HTTP/2 connection over TLS, sends one GET and reports
// when a GOAWAY arrives and how the stream ends.
func watchH2(t *testing.T, addr, host, path string) chan h2End {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectionState().NegotiatedProtocol != "h2" {
		t.Fatalf("ALPN %q, want h2", c.ConnectionState().NegotiatedProtocol)
	}
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", host}, {":path", path}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	out := make(chan h2End, 1)
	go func() {
		defer c.Close()
		var res h2End
		dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
			if f.Name == ":status" {
				res.status, _ = strconv.Atoi(f.Value)
			}
		})
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				res.err = err
				out <- res
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					_ = fr.WriteSettingsAck()
				}
			case *http2.GoAwayFrame:
				if res.goAway.IsZero() {
					res.goAway = time.Now()
				}
			case *http2.HeadersFrame:
				if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
					res.err = err
				}
				if f.StreamEnded() {
					res.ended = time.Now()
					out <- res
					return
				}
			case *http2.DataFrame:
				if f.StreamEnded() {
					res.ended = time.Now()
					out <- res
					return
				}
			}
		}
	}()
	return out
}

// TestSecondSignalExitsAtOnce: SIGQUIT starts the same graceful shutdown as
// SIGTERM (readiness fails, serving goes on through the delay); a second
// signal ends the process at once, whatever delay is left.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.125.2", "a")
	o := newObjects(t, c, "quit")
	o.service("web")
	o.slice("web", "10.244.125.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "quit.test", "/", "web", nil, "")
	s := startStrait(t, c, "--shutdown-delay=60s")
	waitFor(t, 10*time.Second, "the route to serve", func() bool { return s.annHTTP("GET", "quit.test", "/", 0).code == 200 })

	if err := s.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "readiness to fail after SIGQUIT", func() bool {
		code, _ := httpGet("http://"+s.healthz+"/healthz", "")
		return code == http.StatusServiceUnavailable
	})
	if r := s.annHTTP("GET", "quit.test", "/", 0); r.err != nil || r.code != 200 {
		t.Errorf("during the shutdown delay: %v, want 200", r)
	}
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		t.Logf("exited %v after the second signal: %v", time.Since(start).Round(time.Millisecond), err)
		if err == nil {
			t.Errorf("exit status 0 after a forced exit, want non-zero")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after the second signal (60 s shutdown delay)")
	}
	s.exited <- nil
}
