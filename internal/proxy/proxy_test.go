package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

func TestDirectStatuses(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				vhost("s.test", toBackend("live"),
					model.Route{Name: "unresolved", PathType: model.PathPrefix, Path: "/unresolved", Action: status(http.StatusServiceUnavailable)},
					prefixRoute("/empty", "empty"),
					prefixRoute("/refused", "refused"),
					prefixRoute("/half", "half"),
				),
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{
				backend("live", echoBackend(t, "live")),
				backend("empty"),
				backend("refused", closedPort(t)),
				backend("half", closedPort(t), echoBackend(t, "half-live")),
			},
		}
		h := startProxy(t, eng, proxy.Timeouts{Read: 300 * time.Millisecond}, m, false)
		c := newClient(t)

		checkPlainError(t, "Action{Status: 503}", get(t, c, h.url("/unresolved"), "s.test"), http.StatusServiceUnavailable)
		checkPlainError(t, "backend without endpoints", get(t, c, h.url("/empty"), "s.test"), http.StatusServiceUnavailable)
		checkPlainError(t, "endpoint on a closed port", get(t, c, h.url("/refused"), "s.test"), http.StatusBadGateway)

		start := time.Now()
		r := get(t, c, h.url("/?sleep=3s"), "s.test")
		checkPlainError(t, "backend slower than the read timeout", r, http.StatusGatewayTimeout)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("504 took %v, want about the 300ms read timeout", d)
		}

		// A refused endpoint is skipped for the next one of the same backend.
		for i := 0; i < 6; i++ {
			r := get(t, c, h.url("/half"), "s.test")
			if r.status != http.StatusOK || r.header.Get(echo.BackendHeader) != "half-live" {
				t.Fatalf("request %d to a backend with one dead endpoint: status %d from %q, want 200 from half-live", i, r.status, r.header.Get(echo.BackendHeader))
			}
		}

		// A fast request after the timeout still works: the timed-out
		// connection was not returned to the pool.
		if r := get(t, c, h.url("/"), "s.test"); r.status != http.StatusOK {
			t.Errorf("request after a timeout: status %d", r.status)
		}
	})
}

func TestResponseHeaders(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		const oldDate = "Mon, 01 Jan 2001 00:00:00 GMT"
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Server", "secret-backend/1.2.3")
			h.Set("Date", oldDate)
			h.Set("X-Custom", "kept")
			h.Add("Set-Cookie", "a=1")
			h.Add("Set-Cookie", "b=2")
			h.Set("Cache-Control", "max-age=60")
			h.Set("Content-Type", "text/x-test")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "created")
		}))
		h := startProxy(t, eng, testTimeouts, singleHost("h.test", "b", ep), false)
		r := get(t, newClient(t), h.url("/"), "h.test")
		if r.status != http.StatusCreated || string(r.body) != "created" {
			t.Fatalf("got %d %q, want 201 created", r.status, r.body)
		}
		if v := r.header.Values("Server"); len(v) != 0 {
			t.Errorf("Server = %q, want none", v)
		}
		if v := r.header.Values("Date"); len(v) != 1 || v[0] == oldDate {
			t.Errorf("Date = %q, want exactly one, the proxy's own", v)
		} else if d, err := http.ParseTime(v[0]); err != nil || time.Since(d).Abs() > time.Minute {
			t.Errorf("Date = %q, want about now", v[0])
		}
		for k, want := range map[string][]string{
			"X-Custom":      {"kept"},
			"Set-Cookie":    {"a=1", "b=2"},
			"Cache-Control": {"max-age=60"},
			"Content-Type":  {"text/x-test"},
		} {
			if got := r.header.Values(k); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})
}

func TestResponseStatusesAndBodies(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		pattern := func(n int) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('a' + i%26 + i/26%7)
			}
			return b
		}
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			code, _ := strconv.Atoi(r.URL.Query().Get("code"))
			if code == 0 {
				code = http.StatusOK
			}
			body := pattern(n)
			if r.URL.Path == "/chunked" {
				w.WriteHeader(code)
				rc := http.NewResponseController(w)
				for len(body) > 0 {
					k := min(len(body), 10000)
					_, _ = w.Write(body[:k])
					_ = rc.Flush()
					body = body[k:]
				}
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(n))
			w.WriteHeader(code)
			_, _ = w.Write(body)
		}))
		h := startProxy(t, eng, testTimeouts, singleHost("b.test", "b", ep), false)
		c := newClient(t)

		for _, path := range []string{"/length", "/chunked"} {
			for _, n := range []int{0, 1, 1024, 1 << 20, 1<<20 + 17} {
				r := get(t, c, h.url(fmt.Sprintf("%s?n=%d", path, n)), "b.test")
				if r.status != http.StatusOK {
					t.Errorf("%s n=%d: status %d", path, n, r.status)
					continue
				}
				if !bytes.Equal(r.body, pattern(n)) {
					t.Errorf("%s n=%d: got %d bytes (sha %x), want %d (sha %x)", path, n, len(r.body), sha256.Sum256(r.body), n, sha256.Sum256(pattern(n)))
				}
				if path == "/length" && r.header.Get("Content-Length") != strconv.Itoa(n) {
					t.Errorf("%s n=%d: Content-Length = %q", path, n, r.header.Get("Content-Length"))
				}
			}
		}
		for _, code := range []int{200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 403, 404, 409, 418, 429, 500, 501, 502, 503, 504, 599} {
			n := 5
			if code == 204 || code == 304 {
				n = 0
			}
			r := get(t, c, h.url(fmt.Sprintf("/length?n=%d&code=%d", n, code)), "b.test")
			if r.status != code || !bytes.Equal(r.body, pattern(n)) {
				t.Errorf("status %d: got %d %q, want %d %q", code, r.status, r.body, code, pattern(n))
			}
		}
	})
}

func TestHead(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1234")
			w.Header().Set("X-Method", r.Method)
			if r.Method != http.MethodHead {
				_, _ = w.Write(make([]byte, 1234))
			}
		}))
		h := startProxy(t, eng, testTimeouts, singleHost("head.test", "b", ep), false)
		c := newClient(t)
		for i := 0; i < 3; i++ {
			req, _ := http.NewRequest(http.MethodHead, h.url("/"), nil)
			req.Host = "head.test"
			r := do(t, c, req)
			if r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("Content-Length") != "1234" || r.header.Get("X-Method") != "HEAD" {
				t.Fatalf("HEAD: %d, %d body bytes, Content-Length %q, X-Method %q; want 200, 0, 1234, HEAD",
					r.status, len(r.body), r.header.Get("Content-Length"), r.header.Get("X-Method"))
			}
			// A GET on the same keep-alive connections still lines up.
			if r := get(t, c, h.url("/"), "head.test"); r.status != http.StatusOK || len(r.body) != 1234 {
				t.Fatalf("GET after HEAD: %d with %d bytes", r.status, len(r.body))
			}
		}
	})
}

func TestStreamingServerSentEvents(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, singleHost("sse.test", "sse", echoBackend(t, "sse")), false)
		req, _ := http.NewRequest(http.MethodGet, h.url("/sse?n=4&interval=200ms"), nil)
		req.Host = "sse.test"
		start := time.Now()
		resp, err := newClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("Content-Type = %q", ct)
		}
		var times []time.Duration
		var events []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "data: ") {
				times = append(times, time.Since(start))
				events = append(events, strings.TrimPrefix(line, "data: "))
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("reading stream: %v", err)
		}
		if strings.Join(events, ",") != "1,2,3,4" {
			t.Fatalf("events = %q, want 1..4", events)
		}
		// Each event arrives about when the backend sent it, not all at the
		// end: consecutive events are observed well apart.
		for i := 1; i < len(times); i++ {
			if gap := times[i] - times[i-1]; gap < 100*time.Millisecond {
				t.Errorf("event %d arrived %v after event %d, want about 200ms (arrivals %v): response buffered", i+1, gap, i, times)
			}
		}
	})
}

func TestStreamingLongerThanReadTimeout(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		// proxy-read-timeout bounds the wait between two reads, not the whole
		// response: a stream that sends every 100ms must survive a 300ms read
		// timeout for as long as it keeps sending.
		h := startProxy(t, eng, proxy.Timeouts{Read: 300 * time.Millisecond}, singleHost("sse.test", "sse", echoBackend(t, "sse")), false)
		req, _ := http.NewRequest(http.MethodGet, h.url("/sse?n=12&interval=100ms"), nil)
		req.Host = "sse.test"
		resp, err := newClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var events []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "data: ") {
				events = append(events, strings.TrimPrefix(line, "data: "))
			}
		}
		if err := sc.Err(); err != nil || len(events) != 12 {
			t.Errorf("got %d of 12 events (%q), stream error %v: the stream was cut although the upstream was never silent for 300ms", len(events), events, err)
		}
	})
}

func TestRequestBodies(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, singleHost("body.test", "b", echoBackend(t, "b")), false)
		c := newClient(t)
		text := strings.Repeat("0123456789abcdef-", 6000) // ~100 KB

		t.Run("content-length", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, h.url("/upload"), strings.NewReader(text))
			req.Host = "body.test"
			e := decodeEcho(t, do(t, c, req))
			if e.Body != text {
				t.Errorf("backend got %d bytes, want %d", len(e.Body), len(text))
			}
			if got := e.Headers["Content-Length"]; len(got) != 1 || got[0] != strconv.Itoa(len(text)) {
				t.Errorf("backend Content-Length = %q", got)
			}
		})
		t.Run("chunked", func(t *testing.T) {
			pr, pw := io.Pipe()
			go func() {
				for i := 0; i < len(text); i += 7000 {
					_, _ = io.WriteString(pw, text[i:min(i+7000, len(text))])
					time.Sleep(2 * time.Millisecond)
				}
				_ = pw.Close()
			}()
			req, _ := http.NewRequest(http.MethodPut, h.url("/upload"), pr)
			req.Host = "body.test"
			req.ContentLength = -1
			e := decodeEcho(t, do(t, c, req))
			if e.Body != text {
				t.Errorf("backend got %d bytes, want %d", len(e.Body), len(text))
			}
			if e.Method != http.MethodPut {
				t.Errorf("method = %s", e.Method)
			}
		})
		t.Run("empty", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, h.url("/upload"), http.NoBody)
			req.Host = "body.test"
			e := decodeEcho(t, do(t, c, req))
			if e.Body != "" || e.Method != http.MethodPost {
				t.Errorf("got %s with %q", e.Method, e.Body)
			}
		})
		t.Run("expect-100-continue", func(t *testing.T) {
			tr := &http.Transport{ExpectContinueTimeout: 5 * time.Second}
			defer tr.CloseIdleConnections()
			var got100 atomic.Bool
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{Got100Continue: func() { got100.Store(true) }})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url("/upload"), strings.NewReader(text))
			req.Host = "body.test"
			req.Header.Set("Expect", "100-continue")
			start := time.Now()
			e := decodeEcho(t, do(t, &http.Client{Transport: tr, Timeout: 10 * time.Second}, req))
			if e.Body != text {
				t.Errorf("backend got %d bytes, want %d", len(e.Body), len(text))
			}
			if !got100.Load() {
				t.Error("client got no 100 Continue")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("request took %v: the client waited out its 5s Expect timeout", d)
			}
			if v, ok := e.Headers["Expect"]; ok {
				t.Errorf("Expect passed upstream: %q", v)
			}
		})
	})
}

func TestGenerationSwapUnderLoad(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		stable := echoBackend(t, "stable")
		other := echoBackend(t, "other")
		base := singleHost("stable.test", "stable", stable)
		withOther := &model.Model{
			Hosts: []*model.VirtualHost{
				vhost("other.test", toBackend("other")),
				vhost("stable.test", toBackend("stable")),
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{backend("other", other), backend("stable", stable)},
		}
		h := startProxy(t, eng, testTimeouts, base, false)

		var (
			wg         sync.WaitGroup
			ok, failed atomic.Int64
			mu         sync.Mutex
			firstErr   string
		)
		stop := make(chan struct{})
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := &http.Transport{MaxIdleConnsPerHost: 2}
				defer tr.CloseIdleConnections()
				c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
				for {
					select {
					case <-stop:
						return
					default:
					}
					req, _ := http.NewRequest(http.MethodGet, h.url("/x"), nil)
					req.Host = "stable.test"
					resp, err := c.Do(req)
					var msg string
					if err != nil {
						msg = err.Error()
					} else {
						_, err = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
						if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get(echo.BackendHeader) != "stable" {
							msg = fmt.Sprintf("status %d from %q, body error %v", resp.StatusCode, resp.Header.Get(echo.BackendHeader), err)
						}
					}
					if msg == "" {
						ok.Add(1)
						continue
					}
					failed.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = msg
					}
					mu.Unlock()
				}
			}()
		}
		for i := 0; i < 100; i++ {
			if i%2 == 0 {
				h.p.Apply(withOther)
			} else {
				h.p.Apply(base)
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		if failed.Load() != 0 {
			t.Errorf("%d of %d requests failed during 100 swaps; first: %s", failed.Load(), failed.Load()+ok.Load(), firstErr)
		}
		if ok.Load() < 100 {
			t.Errorf("only %d requests in 1s", ok.Load())
		}
	})
}

func TestSlowUploadWithShortTimeouts(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		// proxy-read-timeout starts once the request is sent, and
		// proxy-send-timeout bounds the wait between two writes: an upload the
		// client trickles over 500ms, to a backend that answers at once, fits
		// both 300ms timeouts.
		ep := echoBackend(t, "b")
		for _, tc := range []struct {
			name string
			to   proxy.Timeouts
		}{
			{"read", proxy.Timeouts{Read: 300 * time.Millisecond}},
			{"send", proxy.Timeouts{Read: 5 * time.Second, Send: 300 * time.Millisecond}},
		} {
			for _, chunked := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/chunked=%v", tc.name, chunked), func(t *testing.T) {
					t.Parallel()
					h := startProxy(t, eng, tc.to, singleHost("up.test", "b", ep), false)
					const piece, pieces = "0123456789", 5
					pr, pw := io.Pipe()
					go func() {
						for i := 0; i < pieces; i++ {
							time.Sleep(100 * time.Millisecond)
							if _, err := io.WriteString(pw, piece); err != nil {
								return
							}
						}
						_ = pw.Close()
					}()
					req, _ := http.NewRequest(http.MethodPost, h.url("/"), pr)
					req.Host = "up.test"
					req.ContentLength = -1
					if !chunked {
						req.ContentLength = int64(len(piece) * pieces)
					}
					r := do(t, newClient(t), req)
					if r.status != http.StatusOK {
						t.Fatalf("slow upload: status %d %q, want 200 from a backend that answers at once", r.status, r.body)
					}
					if e := decodeEcho(t, r); e.Body != strings.Repeat(piece, pieces) {
						t.Errorf("backend got %q", e.Body)
					}
				})
			}
		}
	})
}
