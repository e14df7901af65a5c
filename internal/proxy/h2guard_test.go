package proxy_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// limitedProxy returns a proxy with the given flag-set limits serving m.
func limitedProxy(t *testing.T, lim proxy.ClientLimits, m *model.Model) *proxy.Proxy {
	t.Helper()
	p, err := proxy.New(proxy.Options{Timeouts: testTimeouts, ClientLimits: lim, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(m)
	t.Cleanup(p.CloseTunnels)
	return p
}

// serveLimited runs a listener of p behind its LimitListener, as strait
// serve does: the HTTP/1 engine when h1, else net/http (TLS when tlsOn).
func serveLimited(t *testing.T, p *proxy.Proxy, h1, tlsOn bool) string {
	t.Helper()
	raw, err := proxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := p.LimitListener(raw)
	done := make(chan error, 1)
	if h1 {
		srv := p.H1Server(ln)
		go func() { done <- srv.Serve() }()
		t.Cleanup(func() { _ = srv.Close(); <-done })
	} else {
		srv := p.Server(ln, tlsOn)
		go func() { done <- proxy.Serve(srv, ln) }()
		t.Cleanup(func() { _ = srv.Close(); <-done })
	}
	return raw.Addr().String()
}

// h2Client is a raw HTTP/2 client connection.
type h2Client struct {
	t    *testing.T
	c    *tls.Conn
	fr   *http2.Framer
	hbuf bytes.Buffer
	enc  *hpack.Encoder
	dec  *hpack.Decoder
}

func dialH2(t *testing.T, addr string) *h2Client {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{InsecureSkipVerify: true, ServerName: "h2.test", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN %q, want h2", p)
	}
	t.Cleanup(func() { _ = c.Close() })
	h := &h2Client{t: t, c: c, fr: http2.NewFramer(c, c)}
	h.enc = hpack.NewEncoder(&h.hbuf)
	h.dec = hpack.NewDecoder(4096, nil)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := h.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return h
}

// head returns the HPACK block of a GET of path.
func (h *h2Client) head(path string, extra ...string) []byte {
	h.hbuf.Reset()
	kv := append([]string{":method", "GET", ":scheme", "https", ":authority", "h2.test", ":path", path}, extra...)
	for i := 0; i+1 < len(kv); i += 2 {
		_ = h.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(h.hbuf.Bytes())
}

// awaitEnd reads frames until the server sends GOAWAY or the connection
// ends; it returns the GOAWAY code, "none" without one.
func (h *h2Client) awaitEnd() string {
	_ = h.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			return "none"
		}
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			return ga.ErrCode.String()
		}
	}
}

// response reads frames until stream id ends and returns its status
// (":status"), 0 when the connection ends first.
func (h *h2Client) response(id uint32) string {
	h.t.Helper()
	_ = h.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	status := ""
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			h.t.Errorf("stream %d: %v before the response ended", id, err)
			return ""
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = h.fr.WriteSettingsAck()
			}
		case *http2.GoAwayFrame:
			h.t.Errorf("stream %d: GOAWAY %v", id, f.ErrCode)
			return ""
		case *http2.HeadersFrame:
			if f.StreamID == id {
				fields, err := h.dec.DecodeFull(f.HeaderBlockFragment())
				if err != nil {
					h.t.Errorf("stream %d: %v", id, err)
				}
				for _, hf := range fields {
					if hf.Name == ":status" {
						status = hf.Value
					}
				}
				if f.StreamEnded() {
					return status
				}
			} else {
				_, _ = h.dec.DecodeFull(f.HeaderBlockFragment())
			}
		case *http2.DataFrame:
			if f.StreamID == id && f.StreamEnded() {
				return status
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				h.t.Errorf("stream %d reset: %v", id, f.ErrCode)
				return ""
			}
		}
	}
}

func h2Model(t *testing.T) *model.Model {
	return singleHost("h2.test", "echo", echoBackend(t, "echo"))
}

// TestH2RapidReset: a client opening streams and resetting them at once,
// in a tight loop, gets GOAWAY ENHANCE_YOUR_CALM once it passes
// --http2-max-resets, and the limit is counted.
func TestH2RapidReset(t *testing.T) {
	t.Parallel()
	p := limitedProxy(t, proxy.ClientLimits{HTTP2MaxResets: 50}, h2Model(t))
	addr := serveLimited(t, p, false, true)
	h := dialH2(t, addr)
	go func() {
		for id := uint32(1); id < 2000; id += 2 {
			if h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.head("/"), EndHeaders: true, EndStream: true}) != nil ||
				h.fr.WriteRSTStream(id, http2.ErrCodeCancel) != nil {
				return
			}
		}
	}()
	if code := h.awaitEnd(); code != http2.ErrCodeEnhanceYourCalm.String() {
		t.Errorf("rapid reset: connection ended with GOAWAY code %v, want ENHANCE_YOUR_CALM", code)
	}
	if n := p.LimitHits(proxy.LimitH2RapidReset); n != 1 {
		t.Errorf("h2_rapid_reset counted %d times, want 1", n)
	}
}

// TestH2ContinuationFlood: a header block spread over more CONTINUATION
// frames than --http2-max-continuations, or growing past twice the head
// limit, ends the connection with GOAWAY ENHANCE_YOUR_CALM.
func TestH2ContinuationFlood(t *testing.T) {
	t.Parallel()
	p := limitedProxy(t, proxy.ClientLimits{HTTP2MaxContinuations: 8}, h2Model(t))
	addr := serveLimited(t, p, false, true)
	// Empty frames, and frames of a few bytes: the count ends them.
	for i, frag := range [][]byte{nil, {0x40, 0x01, 'x', 0x01, 'y'}} {
		h := dialH2(t, addr)
		block := h.head("/")
		if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true}); err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if h.fr.WriteContinuation(1, false, frag) != nil {
				break
			}
		}
		if code := h.awaitEnd(); code != http2.ErrCodeEnhanceYourCalm.String() {
			t.Errorf("flood %d: connection ended with GOAWAY code %v, want ENHANCE_YOUR_CALM", i, code)
		}
	}
	// Few but large frames: five of 16 KiB against twice the 32 KiB head
	// (of a value Huffman coding does not shorten).
	h := dialH2(t, addr)
	const frame = 16 << 10
	pad := h.head("/", "x-pad", string(bytes.Repeat([]byte("~"), 5*frame)))
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: pad[:frame], EndStream: true}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 5; i++ {
		if h.fr.WriteContinuation(1, false, pad[i*frame:(i+1)*frame]) != nil {
			break
		}
	}
	if code := h.awaitEnd(); code != http2.ErrCodeEnhanceYourCalm.String() {
		t.Errorf("large block: connection ended with GOAWAY code %v, want ENHANCE_YOUR_CALM", code)
	}
	if n := p.LimitHits(proxy.LimitH2Continuation); n != 3 {
		t.Errorf("h2_continuation counted %d times, want 3", n)
	}
}

// TestH2NormalTrafficUnaffected: resets under the limit, a header block
// in a few CONTINUATION frames and ordinary requests are served on the
// same connection, and nothing is counted.
func TestH2NormalTrafficUnaffected(t *testing.T) {
	t.Parallel()
	p := limitedProxy(t, proxy.ClientLimits{HTTP2MaxResets: 50}, h2Model(t))
	addr := serveLimited(t, p, false, true)
	h := dialH2(t, addr)
	id := uint32(1)
	for round := range 3 {
		// 30 resets a round, a second apart: under 50 at once and 50 a
		// second.
		for range 30 {
			if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.head("/"), EndHeaders: true, EndStream: true}); err != nil {
				t.Fatal(err)
			}
			if err := h.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
				t.Fatal(err)
			}
			id += 2
		}
		block := h.head("/ok", "x-round", string(rune('a'+round)))
		third := len(block) / 3
		if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:third], EndStream: true}); err != nil {
			t.Fatal(err)
		}
		_ = h.fr.WriteContinuation(id, false, block[third:2*third])
		_ = h.fr.WriteContinuation(id, true, block[2*third:])
		if st := h.response(id); st != "200" {
			t.Fatalf("round %d: status %q, want 200", round, st)
		}
		id += 2
		time.Sleep(time.Second)
	}
	// An ordinary HTTP/2 client.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	t.Cleanup(c.CloseIdleConnections)
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/x", nil)
		req.Host = "h2.test"
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("GET over HTTP/2: %d %s", resp.StatusCode, resp.Proto)
		}
	}
	for l := proxy.Limit(0); l <= proxy.LimitH2Continuation; l++ {
		if n := p.LimitHits(l); n != 0 {
			t.Errorf("%s counted %d times, want 0", l, n)
		}
	}
}

// TestH2MaxConcurrentStreams: http2-max-concurrent-streams is announced in
// SETTINGS to new connections, a live change included, and a stream
// beyond it is refused and counted.
func TestH2MaxConcurrentStreams(t *testing.T) {
	t.Parallel()
	m := h2Model(t)
	m.Client.HTTP2MaxConcurrentStreams = 2
	p := limitedProxy(t, proxy.ClientLimits{}, m)
	addr := serveLimited(t, p, false, true)
	announced := func(h *h2Client) uint32 {
		_ = h.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			f, err := h.fr.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
				v, _ := s.Value(http2.SettingMaxConcurrentStreams)
				_ = h.fr.WriteSettingsAck()
				return v
			}
		}
	}
	h := dialH2(t, addr)
	if n := announced(h); n != 2 {
		t.Fatalf("SETTINGS_MAX_CONCURRENT_STREAMS %d, want 2", n)
	}
	// Wait for the server to see the acknowledgement: a stream over the
	// limit is then the client's fault.
	_ = h.fr.WritePing(false, [8]byte{1})
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if pf, ok := f.(*http2.PingFrame); ok && pf.IsAck() {
			break
		}
	}
	for id := uint32(1); id <= 5; id += 2 {
		if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.head("/?sleep=1s"), EndHeaders: true, EndStream: true}); err != nil {
			t.Fatal(err)
		}
	}
	refused := false
	_ = h.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !refused {
		f, err := h.fr.ReadFrame()
		if err != nil {
			t.Fatalf("no stream refused: %v", err)
		}
		if rst, ok := f.(*http2.RSTStreamFrame); ok && rst.StreamID == 5 {
			refused = true
		}
	}
	if n := p.LimitHits(proxy.LimitH2Streams); n != 1 {
		t.Errorf("h2_streams counted %d times, want 1", n)
	}

	m2 := h2Model(t)
	m2.Client.HTTP2MaxConcurrentStreams = 7
	p.Apply(m2)
	if n := announced(dialH2(t, addr)); n != 7 {
		t.Errorf("after the change, SETTINGS_MAX_CONCURRENT_STREAMS %d, want 7", n)
	}
	m2.Client.HTTP2MaxConcurrentStreams = 0
	p.Apply(m2)
	if n := announced(dialH2(t, addr)); n != 128 {
		t.Errorf("by default, SETTINGS_MAX_CONCURRENT_STREAMS %d, want 128", n)
	}
}

// TestH2SendTimeout: an HTTP/2 client that never opens a stream's
// flow-control window has that stream ended after --client-send-timeout,
// counted as send_timeout, while its connection stays usable.
func TestH2SendTimeout(t *testing.T) {
	t.Parallel()
	big := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			_, _ = io.WriteString(w, "ok")
			return
		case "/pause", "/pause-length":
			// Silent for longer than the send timeout between writes,
			// with and without a length.
			if r.URL.Path == "/pause-length" {
				w.Header().Set("Content-Length", "2")
			}
			_, _ = io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			time.Sleep(700 * time.Millisecond)
			_, _ = io.WriteString(w, "b")
			return
		}
		buf := make([]byte, 64<<10)
		for range 64 {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	_, ep := backendServer(t, big)
	m := singleHost("h2.test", "big", ep)
	p := limitedProxy(t, proxy.ClientLimits{SendTimeout: 300 * time.Millisecond}, m)
	addr := serveLimited(t, p, false, true)
	h := dialH2(t, addr)
	// Stream windows of 0: no DATA may be sent until WINDOW_UPDATE.
	if err := h.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0}); err != nil {
		t.Fatal(err)
	}
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.head("/"), EndHeaders: true, EndStream: true}); err != nil {
		t.Fatal(err)
	}
	if got := h.awaitReset(1); got == "response" {
		t.Fatal("the stream completed: it was not reset")
	}
	if !waitFor(2*time.Second, func() bool { return p.LimitHits(proxy.LimitSendTimeout) == 1 }) {
		t.Errorf("send_timeout counted %d times, want 1", p.LimitHits(proxy.LimitSendTimeout))
	}
	// The connection still serves a small response.
	_ = h.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
	_ = h.fr.WriteWindowUpdate(0, 1<<30)
	_ = h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: h.head("/small"), EndHeaders: true, EndStream: true})
	if st := h.response(3); st != "200" {
		t.Errorf("after the reset stream, a new one: status %q, want 200", st)
	}

	// A stream whose upstream pauses longer than the send timeout, with
	// a client that reads, is not cut.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	t.Cleanup(c.CloseIdleConnections)
	for _, path := range []string{"/pause", "/pause-length"} {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+path, nil)
		req.Host = "h2.test"
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "ab" || resp.ProtoMajor != 2 {
			t.Errorf("paused stream %s: %q, %v (%s); want \"ab\" over HTTP/2", path, b, err, resp.Proto)
		}
	}
	if n := p.LimitHits(proxy.LimitSendTimeout); n != 1 {
		t.Errorf("send_timeout counted %d times in all, want 1", n)
	}
}

// TestH2KeepAliveRequests: an HTTP/2 connection that served
// keep-alive-requests requests gets a graceful GOAWAY with the last one,
// as nginx's keepalive_requests does, and that last response completes.
func TestH2KeepAliveRequests(t *testing.T) {
	t.Parallel()
	m := singleHost("h2.test", "web", echoBackend(t, "a"))
	m.Client = model.Client{KeepAliveRequests: 3}
	p := limitedProxy(t, proxy.ClientLimits{}, m)
	addr := serveLimited(t, p, false, true)
	h := dialH2(t, addr)
	for id := uint32(1); id <= 3; id += 2 {
		if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.head("/"), EndHeaders: true, EndStream: true}); err != nil {
			t.Fatal(err)
		}
		if st := h.response(id); st != "200" {
			t.Fatalf("request %d: status %q, want 200", (id+1)/2, st)
		}
	}
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: h.head("/"), EndHeaders: true, EndStream: true}); err != nil {
		t.Fatal(err)
	}
	_ = h.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var goAway *http2.GoAwayFrame
	ended := false
	for !ended || goAway == nil {
		f, err := h.fr.ReadFrame()
		if err != nil {
			t.Fatalf("third request: GOAWAY %v, response complete %v, then %v", goAway != nil, ended, err)
		}
		switch f := f.(type) {
		case *http2.GoAwayFrame:
			goAway = f
		case *http2.HeadersFrame:
			_, _ = h.dec.DecodeFull(f.HeaderBlockFragment())
			ended = ended || f.StreamID == 5 && f.StreamEnded()
		case *http2.DataFrame:
			ended = ended || f.StreamID == 5 && f.StreamEnded()
		case *http2.RSTStreamFrame:
			t.Fatalf("stream %d reset: %v", f.StreamID, f.ErrCode)
		}
	}
	if goAway.ErrCode != http2.ErrCodeNo || goAway.LastStreamID != 5 {
		t.Errorf("GOAWAY %v with last stream %d, want NO_ERROR and 5", goAway.ErrCode, goAway.LastStreamID)
	}
}
