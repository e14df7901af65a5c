package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// The router fuzz targets send arbitrary bytes, as one client connection,
// to a proxy serving a fixed model whose every backend is a recording
// server on loopback. Whatever the bytes, the proxy must not panic (nor
// let net/http recover a panic), must answer with parseable HTTP/1.x
// responses or close, must answer a success only with a backend's
// response, and every request a backend receives must be one well-framed
// HTTP/1.1 request (CRLF lines, no control bytes, at most one of
// Content-Length and chunked, a body Go reads to its end) whose path
// belongs to the route of that backend. The client half-closes after its
// bytes, so that every input ends without waiting for a timeout.

// FuzzRequestPath fuzzes the HTTP/1 engine.
func FuzzRequestPath(f *testing.F) {
	fuzzRouter(f, false)
}

// FuzzRequestPathHandoff fuzzes the HTTP/1 engine handing every request
// over to the net/http handler, which replays the head the engine read.
func FuzzRequestPathHandoff(f *testing.F) {
	fuzzRouter(f, true)
}

// routerSeeds are requests that reach every route of the fuzz model and
// the framing and path cases the engines must get right.
var routerSeeds = []string{
	"GET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
	"GET /exact HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
	"GET /public/a/b?x=1 HTTP/1.1\r\nHost: FUZZ.test:80\r\n\r\n",
	"POST /public/up HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"POST /public HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"POST /public HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	"POST /public HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	"POST /public HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 42\r\n\r\nGET /private HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
	"GET /public HTTP/1.1\r\nHost: fuzz.test\r\n\r\nGET /exact HTTP/1.1\r\nHost: fuzz.test\r\n\r\nHEAD /private HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
	"GET /public/../private/x HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
	"GET /public/%2e%2e/private HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
	"GET //public//./a/ HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
	"GET /public%2f..%2fexact HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
	"GET http://fuzz.test/public/abs HTTP/1.1\r\nHost: other.test\r\n\r\n",
	"GET http://re.test/API/v2/x HTTP/1.1\r\nHost: re.test\r\n\r\n",
	"GET /rw/a%20b/%0d%0aX:%20y?q=1 HTTP/1.1\r\nHost: re.test\r\n\r\n",
	"GET /rw HTTP/1.0\r\nHost: re.test\r\nConnection: keep-alive\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a.wild.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	"PUT /public HTTP/1.1\r\nHost: fuzz.test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
	"GET /public HTTP/1.1\r\nHost: fuzz.test\r\nX-Long: " + strings.Repeat("a", 6000) + "\r\n\r\n",
	"GET /x HTTP/1.1\nHost: nowhere.test\n\n",
	"GET /public HTTP/1.1\r\nHost: fuzz.test\r\nHost: re.test\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
}

func fuzzRouter(f *testing.F, handoff bool) {
	rig := newRouterRig(f, handoff)
	for _, s := range routerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rig.roundTrip(t, data)
	})
}

// routerRig is a proxy and its recording backends, shared by every input
// of a fuzz run.
type routerRig struct {
	addr     string
	problems *problemLog
	backends []*recordingBackend
}

// apiRoute is the regex route of the fuzz model's regex host, as the
// proxy matches it: case-insensitive, anchored at the start only.
var apiRoute = regexp.MustCompile(`(?i)^/api/v[0-9]+`)

func newRouterRig(tb testing.TB, handoff bool) *routerRig {
	problems := &problemLog{}
	logger := slog.New(problems)
	p, err := proxy.New(proxy.Options{Log: logger, Timeouts: proxy.Timeouts{Connect: time.Second, Read: 3 * time.Second, Send: 3 * time.Second}})
	if err != nil {
		tb.Fatalf("proxy.New: %v", err)
	}
	rig := &routerRig{problems: problems}
	start := func(name string, check func(clean, raw string) string) model.Endpoint {
		b := startRecordingBackend(tb, name, check, problems)
		rig.backends = append(rig.backends, b)
		return b.ep
	}
	onFuzzHost := func(clean string) string {
		if clean == "/exact" || underPrefix(clean, "/public") || underPrefix(clean, "/private") {
			return "path routed elsewhere on fuzz.test"
		}
		return ""
	}
	eps := map[string]model.Endpoint{
		"exact": start("exact", func(clean, _ string) string {
			if clean != "/exact" {
				return "exact route got another path"
			}
			return ""
		}),
		"public": start("public", func(clean, _ string) string {
			if !underPrefix(clean, "/public") {
				return "prefix route /public got a path outside it"
			}
			return ""
		}),
		"default": start("default", func(clean, _ string) string { return onFuzzHost(clean) }),
		"api": start("api", func(clean, _ string) string {
			if !apiRoute.MatchString(clean) {
				return "regex route got a path it does not match"
			}
			return ""
		}),
		"rw": start("rw", func(_, raw string) string {
			if !strings.HasPrefix(raw, "/rewritten/") {
				return "rewrite route sent a path that is not its target"
			}
			return ""
		}),
		"wild":  start("wild", func(string, string) string { return "" }),
		"catch": start("catch", func(string, string) string { return "" }),
	}
	be := func(name string) model.Backend { return backend(name, eps[name]) }
	fuzzHost := vhost("fuzz.test", toBackend("default"),
		exactRoute("/exact", "exact"),
		model.Route{Name: "private", PathType: model.PathPrefix, Path: "/private", Action: status(http.StatusForbidden)},
		prefixRoute("/public", "public"))
	reHost := vhost("re.test", status(http.StatusNotFound),
		model.Route{Name: "api", PathType: model.PathPrefix, Path: "/api/v[0-9]+", Action: toBackend("api")},
		model.Route{Name: "rw", PathType: model.PathPrefix, Path: "/rw(/|$)(.*)", Action: toBackend("rw"),
			Policy: model.Policy{Rewrite: &model.Rewrite{Target: "/rewritten/$2", ForwardedPrefix: "/rw"}}})
	reHost.Regex = true
	m := &model.Model{
		Hosts:    []*model.VirtualHost{vhost("*.wild.test", toBackend("wild")), fuzzHost, reHost},
		CatchAll: *vhost(model.CatchAllHost, toBackend("catch")),
		Backends: []model.Backend{be("api"), be("catch"), be("default"), be("exact"), be("public"), be("rw"), be("wild")},
	}
	p.Apply(m)
	if handoff {
		proxy.HandOffAll(p)
	}
	ln, err := proxy.Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy.Listen: %v", err)
	}
	srv := p.H1Server(ln)
	// net/http recovers panics of handlers and writes them to its error
	// log: they must fail the input too.
	proxy.SetHandOffErrorLog(srv, log.New(problems.writer("net/http"), "", 0))
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	tb.Cleanup(func() {
		_ = srv.Close()
		<-done
		p.CloseTunnels()
	})
	rig.addr = ln.Addr().String()
	return rig
}

// roundTrip sends data on a new connection, closes the sending side and
// reads what comes back until the proxy closes.
func (rig *routerRig) roundTrip(t *testing.T, data []byte) {
	c, err := net.DialTimeout("tcp", rig.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Far beyond the proxy's upstream timeouts: only a hang reaches it.
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	writeErr := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		writeErr <- err
	}()
	out, readErr := io.ReadAll(c)
	<-writeErr
	var ne net.Error
	if errors.As(readErr, &ne) && ne.Timeout() {
		t.Fatalf("no end of the answer within 20 s; got %q", out)
	}
	rig.waitBackends()
	if p := rig.problems.take(); p != "" {
		t.Fatalf("%s\ninput %q\nanswer %q", p, data, out)
	}
	if err := checkResponses(data, out); err != nil {
		t.Fatalf("%v\ninput %q\nanswer %q", err, data, out)
	}
}

// waitBackends gives backends a moment to finish requests the proxy
// abandoned (a client gone mid-body), so that what they find is reported
// for this input.
func (rig *routerRig) waitBackends() {
	for range 100 {
		busy := false
		for _, b := range rig.backends {
			if b.busy.Load() > 0 {
				busy = true
			}
		}
		if !busy {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// checkResponses parses the proxy's answer: the first response always,
// the following ones when Go's own parser reads the input as a sequence
// of requests (so that their methods, which decide whether a body
// follows, are known).
func checkResponses(in, out []byte) error {
	if len(out) == 0 {
		return nil
	}
	methods := requestMethods(in)
	if len(methods) == 0 {
		// As servers do, blank lines before the request line are skipped.
		m, _, _ := strings.Cut(strings.TrimLeft(string(in), "\r\n"), " ")
		methods = []string{m}
	}
	br := bufio.NewReader(bytes.NewReader(out))
	for i := 0; i < len(methods); {
		if _, err := br.Peek(1); err == io.EOF {
			return nil
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: methods[i]})
		if err != nil {
			return fmt.Errorf("response %d is not HTTP: %v", i+1, err)
		}
		if resp.ProtoMajor != 1 {
			return fmt.Errorf("response %d is %s, not HTTP/1", i+1, resp.Proto)
		}
		if resp.StatusCode/100 == 2 && resp.Header.Get("X-Backend") == "" {
			// Every backend names itself; the proxy's own answers are
			// never a success.
			return fmt.Errorf("response %d is a %d no backend sent", i+1, resp.StatusCode)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return fmt.Errorf("response %d: body: %v", i+1, err)
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil
		case resp.StatusCode >= 100 && resp.StatusCode < 200:
			// An interim response; the final one follows.
		default:
			i++
		}
	}
	return nil
}

// requestMethods returns the methods of the requests in b, in order, as
// Go's server reads them; nil unless the whole of b reads as complete
// requests.
func requestMethods(b []byte) []string {
	br := bufio.NewReader(bytes.NewReader(b))
	var methods []string
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return methods
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			return nil
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return nil
		}
		methods = append(methods, req.Method)
	}
}

// underPrefix reports whether a cleaned path is matched by an
// element-wise Prefix route.
func underPrefix(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// cleanRequestPath is the normalisation routes are matched against:
// the decoded path with duplicate slashes merged and dot segments
// resolved, a trailing slash kept.
func cleanRequestPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// recordingBackend is an HTTP/1.1 server that checks each request it
// receives and answers it with an empty 200.
type recordingBackend struct {
	name string
	ep   model.Endpoint
	// check says what is wrong with a request for this backend, given
	// its path decoded and cleaned, and as sent; "" when nothing is.
	check    func(clean, raw string) string
	problems *problemLog
	// busy counts requests begun and not yet answered.
	busy atomic.Int64
}

func startRecordingBackend(tb testing.TB, name string, check func(clean, raw string) string, problems *problemLog) *recordingBackend {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	b := &recordingBackend{name: name, check: check, problems: problems}
	tcp := ln.Addr().(*net.TCPAddr)
	b.ep = model.Endpoint{Host: tcp.IP.String(), Port: int32(tcp.Port)}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				stop := context.AfterFunc(ctx, func() { _ = c.Close() })
				defer stop()
				b.serveConn(c)
			}()
		}
	}()
	tb.Cleanup(func() {
		_ = ln.Close()
		cancel()
		wg.Wait()
	})
	return b
}

func (b *recordingBackend) serveConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 1<<20)
	for {
		if _, err := br.Peek(1); err != nil {
			return
		}
		b.busy.Add(1)
		keep := b.serveRequest(c, br)
		b.busy.Add(-1)
		if !keep {
			return
		}
	}
}

// serveRequest reads, checks and answers one request; it reports whether
// the connection may carry another.
func (b *recordingBackend) serveRequest(c net.Conn, br *bufio.Reader) bool {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	head, err := peekHead(br)
	if err != nil {
		if !isClosed(err) {
			b.problems.add(fmt.Sprintf("backend %s: request head: %v", b.name, err))
		}
		return false
	}
	if p := checkFraming(head); p != "" {
		b.problems.add(fmt.Sprintf("backend %s: %s in %q", b.name, p, head))
		return false
	}
	req, err := http.ReadRequest(br)
	if err != nil {
		b.problems.add(fmt.Sprintf("backend %s: Go cannot parse the request: %v: %q", b.name, err, head))
		return false
	}
	if req.ProtoMajor != 1 || req.ProtoMinor != 1 {
		b.problems.add(fmt.Sprintf("backend %s: upstream request is %s: %q", b.name, req.Proto, head))
	}
	raw, _, _ := strings.Cut(req.RequestURI, "?")
	decoded, err := url.PathUnescape(raw)
	if err != nil || !strings.HasPrefix(raw, "/") {
		b.problems.add(fmt.Sprintf("backend %s: request target %q is not an escaped absolute path", b.name, req.RequestURI))
	} else if p := b.check(cleanRequestPath(decoded), raw); p != "" {
		b.problems.add(fmt.Sprintf("backend %s: %s: target %q (clean %q)", b.name, p, req.RequestURI, cleanRequestPath(decoded)))
	}
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		// The proxy gives up a body when its client does; anything
		// else is a body the proxy framed wrongly.
		if !isClosed(err) {
			b.problems.add(fmt.Sprintf("backend %s: request body: %v: %q", b.name, err, head))
		}
		return false
	}
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Backend: " + b.name + "\r\n\r\n"
	upgrade := req.Header.Get("Upgrade") != ""
	if upgrade {
		resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Backend: " + b.name + "\r\nConnection: close\r\n\r\n"
	}
	if _, err := io.WriteString(c, resp); err != nil {
		return false
	}
	return !upgrade
}

// isClosed reports whether err is the peer going away rather than bad
// bytes.
func isClosed(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		(errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "connection reset")
}

// peekHead returns the bytes of the next request head, up to and
// including its blank line, without consuming them.
func peekHead(br *bufio.Reader) ([]byte, error) {
	for {
		n := br.Buffered()
		b, _ := br.Peek(n)
		if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
			return b[:i+4], nil
		}
		if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
			return nil, fmt.Errorf("bare LF line ending in %q", b[:i+2])
		}
		if n == br.Size() {
			return nil, fmt.Errorf("head larger than %d bytes", n)
		}
		// Wait for at least one more byte.
		if _, err := br.Peek(n + 1); err != nil {
			return nil, err
		}
	}
}

// checkFraming looks at a raw request head for what Go's parser forgives:
// lines not ended by CRLF, stray CR, NUL or other control bytes, and body
// framing that is not exactly one of Content-Length and chunked.
func checkFraming(head []byte) string {
	lines := strings.Split(strings.TrimSuffix(string(head), "\r\n\r\n"), "\r\n")
	cl, te := 0, 0
	for i, l := range lines {
		for _, c := range []byte(l) {
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return fmt.Sprintf("control byte %#x in line %d", c, i)
			}
		}
		if i == 0 {
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.TrimSpace(name) != name {
			return fmt.Sprintf("malformed header line %q", l)
		}
		switch strings.ToLower(name) {
		case "content-length":
			cl++
		case "transfer-encoding":
			te++
			if strings.TrimSpace(strings.ToLower(value)) != "chunked" {
				return fmt.Sprintf("Transfer-Encoding %q", value)
			}
		}
	}
	if cl+te > 1 {
		return fmt.Sprintf("%d Content-Length and %d Transfer-Encoding headers", cl, te)
	}
	return ""
}

// problemLog collects what the backends and the proxy's logs find wrong:
// panics recovered by the proxy or by net/http, and bad upstream
// requests. It is an slog.Handler for the proxy's log.
type problemLog struct {
	mu   sync.Mutex
	list []string
}

func (l *problemLog) add(s string) {
	l.mu.Lock()
	l.list = append(l.list, s)
	l.mu.Unlock()
}

// take returns and forgets the problems found so far.
func (l *problemLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.list, "\n")
	l.list = nil
	return s
}

// Enabled keeps only errors: warnings about upstreams are expected.
func (l *problemLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }

// Handle records every error the proxy logs.
func (l *problemLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("proxy logged: " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.add(b.String())
	return nil
}

// WithAttrs and WithGroup keep the handler: the messages are enough.
func (l *problemLog) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup keeps the handler.
func (l *problemLog) WithGroup(string) slog.Handler { return l }

// writer returns a writer recording each line written as a problem of
// source.
func (l *problemLog) writer(source string) io.Writer {
	return problemWriter{l: l, source: source}
}

type problemWriter struct {
	l      *problemLog
	source string
}

func (w problemWriter) Write(b []byte) (int, error) {
	w.l.add(w.source + ": " + string(b))
	return len(b), nil
}
