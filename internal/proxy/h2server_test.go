package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/straitgw/strait/internal/proxy"
)

// h2Backend answers /upload with the length and SHA-256 of the body it
// read, /download?n=N with N bytes of a fixed pattern, and /wait by
// reporting its arrival on gone and then its cancellation.
func h2Backend(gone chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/upload":
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
		case "/download":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			_, _ = w.Write(pattern(n))
		case "/wait":
			gone <- struct{}{}
			<-r.Context().Done()
			gone <- struct{}{}
		default:
			_, _ = io.WriteString(w, "ok")
		}
	})
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// h2HTTPClient is Go's HTTP/2 client for the proxy's TLS address.
func h2HTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true,
		ExpectContinueTimeout: 10 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// TestH2BodiesBothWays: request and response bodies far larger than the
// flow-control windows cross intact, on concurrent streams of one
// connection; a client expecting 100 Continue gets it at once.
func TestH2BodiesBothWays(t *testing.T) {
	t.Parallel()
	_, ep := backendServer(t, h2Backend(nil))
	p := limitedProxy(t, proxy.ClientLimits{}, singleHost("h2.test", "b", ep))
	addr := serveLimited(t, p, false, true)
	c := h2HTTPClient(t)
	do := func(method, path string, body []byte, expect bool) (string, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, _ := http.NewRequest(method, "https://"+addr+path, rd)
		req.Host = "h2.test"
		if expect {
			req.Header.Set("Expect", "100-continue")
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			return "", fmt.Errorf("%s %s: %d over %s", method, path, resp.StatusCode, resp.Proto)
		}
		return string(b), nil
	}
	up := pattern(3 << 20)
	down := 5 << 20
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			got, err := do(http.MethodPost, "/upload", up[:len(up)-i], false)
			if want := fmt.Sprintf("%d %s", len(up)-i, sum(up[:len(up)-i])); err == nil && got != want {
				err = fmt.Errorf("upload %d: backend read %q, want %q", i, got, want)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			got, err := do(http.MethodGet, fmt.Sprintf("/download?n=%d", down-i), nil, false)
			if want := sum(pattern(down - i)); err == nil && sum([]byte(got)) != want {
				err = fmt.Errorf("download %d: %d bytes, not the backend's %d", i, len(got), down-i)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	start := time.Now()
	got, err := do(http.MethodPost, "/upload", up[:1000], true)
	if err != nil || got != fmt.Sprintf("1000 %s", sum(up[:1000])) {
		t.Errorf("upload with Expect: %q, %v", got, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("upload with Expect took %v: no 100 Continue", d)
	}
}

// awaitReset reads frames until stream id is reset or its response ends;
// it returns the reset's code, or "response" for a response.
func (h *h2Client) awaitReset(id uint32) string {
	h.t.Helper()
	_ = h.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			h.t.Fatalf("stream %d: %v", id, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = h.fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			_, _ = h.dec.DecodeFull(f.HeaderBlockFragment())
			if f.StreamID == id && f.StreamEnded() {
				return "response"
			}
		case *http2.DataFrame:
			if f.StreamID == id && f.StreamEnded() {
				return "response"
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return f.ErrCode.String()
			}
		case *http2.GoAwayFrame:
			h.t.Fatalf("stream %d: GOAWAY %v", id, f.ErrCode)
		}
	}
}

// TestH2MalformedRequests: requests HTTP/2 calls malformed (RFC 9113,
// 8.1.1 and 8.2) are reset with PROTOCOL_ERROR, never forwarded, and the
// connection goes on serving.
func TestH2MalformedRequests(t *testing.T) {
	t.Parallel()
	_, ep := backendServer(t, h2Backend(nil))
	p := limitedProxy(t, proxy.ClientLimits{}, singleHost("h2.test", "b", ep))
	addr := serveLimited(t, p, false, true)
	h := dialH2(t, addr)
	id := uint32(1)
	fields := func(kv ...string) []byte {
		h.hbuf.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			_ = h.enc.WriteField(hpackField(kv[i], kv[i+1]))
		}
		return bytes.Clone(h.hbuf.Bytes())
	}
	cases := []struct {
		name  string
		block func() []byte // encoded when sent: HPACK's table follows the order
		end   bool
		data  []byte // sent with END_STREAM after the headers, unless nil
	}{
		{"connection header", func() []byte { return h.head("/", "connection", "keep-alive") }, true, nil},
		{"transfer-encoding", func() []byte { return h.head("/", "transfer-encoding", "chunked") }, true, nil},
		{"te other than trailers", func() []byte { return h.head("/", "te", "gzip") }, true, nil},
		{"no :path", func() []byte { return fields(":method", "GET", ":scheme", "https", ":authority", "h2.test") }, true, nil},
		{"no :scheme", func() []byte { return fields(":method", "GET", ":path", "/", ":authority", "h2.test") }, true, nil},
		{":protocol", func() []byte { return h.head("/", ":protocol", "websocket") }, true, nil},
		{"CONNECT with a path", func() []byte {
			return fields(":method", "CONNECT", ":scheme", "https", ":path", "/", ":authority", "h2.test")
		}, true, nil},
		{"content-length without a body", func() []byte { return h.head("/upload", "content-length", "5") }, true, nil},
		{"body shorter than content-length", func() []byte { return h.head("/upload", "content-length", "5") }, false, []byte("abc")},
		{"body longer than content-length", func() []byte { return h.head("/upload", "content-length", "2") }, false, []byte("abc")},
		{"two content-lengths", func() []byte { return h.head("/upload", "content-length", "3", "content-length", "4") }, false, []byte("abc")},
	}
	for _, tc := range cases {
		if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: tc.block(), EndHeaders: true, EndStream: tc.end}); err != nil {
			t.Fatal(err)
		}
		if tc.data != nil {
			_ = h.fr.WriteData(id, true, tc.data)
		}
		if got := h.awaitReset(id); got != http2.ErrCodeProtocol.String() {
			t.Errorf("%s: stream ended with %s, want reset PROTOCOL_ERROR", tc.name, got)
		}
		id += 2
		// The connection still serves.
		_ = h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.head("/"), EndHeaders: true, EndStream: true})
		if st := h.response(id); st != "200" {
			t.Fatalf("after %s: status %q, want 200", tc.name, st)
		}
		id += 2
	}
	// A body matching its length, in two DATA frames, is forwarded.
	_ = h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.head("/upload", "content-length", "5"), EndHeaders: true})
	_ = h.fr.WriteData(id, false, []byte("ab"))
	_ = h.fr.WriteData(id, true, []byte("cde"))
	if st := h.response(id); st != "200" {
		t.Errorf("a well-formed upload: status %q, want 200", st)
	}
}

// TestH2ClientResetCancelsUpstream: a stream the client resets cancels its
// upstream request; a PING is answered meanwhile.
func TestH2ClientResetCancelsUpstream(t *testing.T) {
	t.Parallel()
	gone := make(chan struct{}, 1)
	_, ep := backendServer(t, h2Backend(gone))
	p := limitedProxy(t, proxy.ClientLimits{}, singleHost("h2.test", "b", ep))
	addr := serveLimited(t, p, false, true)
	h := dialH2(t, addr)
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.head("/wait"), EndHeaders: true, EndStream: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the backend")
	}
	_ = h.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_ = h.fr.WritePing(false, [8]byte{'s', 't', 'r', 'a', 'i', 't'})
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if pf, ok := f.(*http2.PingFrame); ok {
			if !pf.IsAck() || pf.Data != [8]byte{'s', 't', 'r', 'a', 'i', 't'} {
				t.Errorf("PING answered with %v ack %v", pf.Data, pf.IsAck())
			}
			break
		}
	}
	_ = h.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend's request was not cancelled after the client reset the stream")
	}
}

// TestH2GracefulShutdown: shutting the server down sends GOAWAY NO_ERROR
// naming the last stream; the stream in flight completes, and the
// connection then closes.
func TestH2GracefulShutdown(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = io.WriteString(w, "done")
	})
	_, ep := backendServer(t, slow)
	p := limitedProxy(t, proxy.ClientLimits{}, singleHost("h2.test", "b", ep))
	raw, err := proxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.Server(raw, true)
	served := make(chan error, 1)
	go func() { served <- proxy.Serve(srv, raw) }()
	h := dialH2(t, raw.Addr().String())
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.head("/"), EndHeaders: true, EndStream: true}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the request reaches the backend
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	_ = h.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var goAway *http2.GoAwayFrame
	for goAway == nil {
		f, err := h.fr.ReadFrame()
		if err != nil {
			t.Fatalf("no GOAWAY: %v", err)
		}
		goAway, _ = f.(*http2.GoAwayFrame)
	}
	if goAway.ErrCode != http2.ErrCodeNo || goAway.LastStreamID != 1 {
		t.Errorf("GOAWAY %v naming stream %d, want NO_ERROR and 1", goAway.ErrCode, goAway.LastStreamID)
	}
	close(release)
	if st := h.response(1); st != "200" {
		t.Errorf("the stream in flight: status %q, want 200", st)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := h.fr.ReadFrame(); err == nil {
		t.Error("the connection is still open after shutdown")
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func hpackField(name, value string) hpack.HeaderField {
	return hpack.HeaderField{Name: name, Value: value}
}

// TestStreamingHeadFirst: the head of a response without a length
// reaches the client while the upstream pauses before its body, over
// HTTP/2, HTTP/1.1 with TLS and the plain HTTP/1 engine.
func TestStreamingHeadFirst(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	pause := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	_, ep := backendServer(t, pause)
	t.Cleanup(func() { close(release) }) // before the backend's own
	p := limitedProxy(t, proxy.ClientLimits{}, singleHost("h2.test", "b", ep))
	addr := serveLimited(t, p, false, true)
	plain := serveLimited(t, p, true, false)
	for _, h2 := range []bool{true, false, false} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: h2}
		url := "https://" + addr + "/events"
		if !h2 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		if !h2 && plain != "" {
			url, plain = "http://"+plain+"/events", ""
		}
		t.Cleanup(tr.CloseIdleConnections)
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Host = "h2.test"
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		resp, err := tr.RoundTrip(req.WithContext(ctx))
		if err != nil {
			t.Errorf("%s: no head while the upstream pauses: %v", url, err)
			cancel()
			continue
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || (resp.ProtoMajor == 2) != h2 {
			t.Errorf("%s: %d %s %q", url, resp.StatusCode, resp.Proto, resp.Header.Get("Content-Type"))
		}
		resp.Body.Close()
		cancel()
	}
}
