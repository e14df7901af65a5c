package proxy_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
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

// testTimeouts are the upstream timeouts of most tests: long enough that
// nothing in a passing test comes near them. Tests of the timeouts
// themselves use shorter ones.
var testTimeouts = proxy.Timeouts{Read: 5 * time.Second}

// engine is the server behind the plain-HTTP listener: Strait's own
// HTTP/1 engine (what strait serve runs) or net/http (Proxy.Server). The TLS
// listener always uses net/http.
type engine string

const (
	engineH1      engine = "h1"
	engineNetHTTP engine = "net-http"
	// engineHandoff is the HTTP/1 engine handing every request over to
	// the net/http handler, as it does for routes it does not serve.
	engineHandoff engine = "h1-handoff"
)

// forEngines runs f, in parallel, once for each plain-HTTP engine.
func forEngines(t *testing.T, f func(t *testing.T, e engine)) {
	t.Parallel()
	for _, e := range []engine{engineH1, engineNetHTTP, engineHandoff} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			f(t, e)
		})
	}
}

// harness is one proxy serving one plain-HTTP listener and, optionally, one
// TLS listener, on loopback.
type harness struct {
	t       *testing.T
	p       *proxy.Proxy
	addr    string // plain HTTP listener, "127.0.0.1:port"
	port    int
	tlsAddr string // TLS listener, "" unless started with tls
}

// startProxy starts a proxy with the given timeouts and model, listening
// for plain HTTP with engine e and, when withTLS, for HTTPS on a second
// listener.
func startProxy(t *testing.T, e engine, to proxy.Timeouts, m *model.Model, withTLS bool) *harness {
	t.Helper()
	// The proxy's warnings (refused connects, timeouts) are expected in
	// these tests; the assertions say what matters.
	p, err := proxy.New(proxy.Options{Timeouts: to, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	if m != nil {
		p.Apply(m)
	}
	h := &harness{t: t, p: p}
	if e == engineHandoff {
		proxy.HandOffAll(p)
	}
	if e == engineH1 || e == engineHandoff {
		h.addr = serveH1(t, p)
	} else {
		h.addr = serve(t, p, false)
	}
	_, ps, _ := net.SplitHostPort(h.addr)
	h.port, _ = strconv.Atoi(ps)
	if withTLS {
		h.tlsAddr = serve(t, p, true)
	}
	t.Cleanup(p.CloseTunnels)
	return h
}

// serve runs one listener of p and returns its address.
func serve(t *testing.T, p *proxy.Proxy, tlsOn bool) string {
	t.Helper()
	ln, err := proxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy.Listen: %v", err)
	}
	srv := p.Server(ln, tlsOn)
	done := make(chan error, 1)
	go func() { done <- proxy.Serve(srv, ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Errorf("proxy.Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// serveH1 runs a plain listener of p with the HTTP/1 engine and returns
// its address.
func serveH1(t *testing.T, p *proxy.Proxy) string {
	t.Helper()
	ln, err := proxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy.Listen: %v", err)
	}
	srv := p.H1Server(ln)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Errorf("H1Server.Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// url returns an http URL on the plain listener.
func (h *harness) url(path string) string { return "http://" + h.addr + path }

// backendServer starts an httptest server for handler and returns it with
// its model endpoint.
func backendServer(t *testing.T, handler http.Handler) (*httptest.Server, model.Endpoint) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv, endpointOf(t, srv.Listener.Addr())
}

// echoBackend starts an echo server named name and returns its endpoint.
func echoBackend(t *testing.T, name string) model.Endpoint {
	t.Helper()
	_, ep := backendServer(t, echo.New(name))
	return ep
}

// endpointOf converts a loopback listener address to a model endpoint.
func endpointOf(t *testing.T, a net.Addr) model.Endpoint {
	t.Helper()
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		t.Fatalf("address %v is not TCP", a)
	}
	return model.Endpoint{Host: tcp.IP.String(), Port: int32(tcp.Port)}
}

// closedPort returns a loopback endpoint nobody listens on.
func closedPort(t *testing.T) model.Endpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := endpointOf(t, ln.Addr())
	_ = ln.Close()
	return ep
}

// Model builders.

func backend(name string, eps ...model.Endpoint) model.Backend {
	return model.Backend{Name: name, Protocol: model.ProtocolHTTP, Endpoints: eps}
}

func exactRoute(path, backend string) model.Route {
	return model.Route{Name: "exact:" + path, PathType: model.PathExact, Path: path, Action: model.Action{Backend: backend}}
}

func prefixRoute(path, backend string) model.Route {
	return model.Route{Name: "prefix:" + path, PathType: model.PathPrefix, Path: path, Action: model.Action{Backend: backend}}
}

func toBackend(name string) model.Action { return model.Action{Backend: name} }

func status(code int) model.Action { return model.Action{Status: code} }

func vhost(name string, def model.Action, routes ...model.Route) *model.VirtualHost {
	return &model.VirtualHost{Name: name, Default: def, Routes: routes}
}

// catchAll404 is the catch-all of a model without a default backend.
func catchAll404() model.VirtualHost {
	return model.VirtualHost{Name: model.CatchAllHost, Default: status(http.StatusNotFound)}
}

// singleHost is a model with one host whose every path goes to one backend.
func singleHost(host, name string, eps ...model.Endpoint) *model.Model {
	return &model.Model{
		Hosts:    []*model.VirtualHost{vhost(host, toBackend(name))},
		CatchAll: catchAll404(),
		Backends: []model.Backend{backend(name, eps...)},
	}
}

// HTTP clients.

// newClient returns a client with its own transport (so connections are not
// shared between tests), following no redirects.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 4,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// result is a response with its body read.
type result struct {
	status int
	header http.Header
	body   []byte
	proto  string
}

// get sends GET url with the given Host and reads the whole response.
func get(t *testing.T, c *http.Client, url, host string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	return do(t, c, req)
}

// do sends req and reads the whole response.
func do(t *testing.T, c *http.Client, req *http.Request) result {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %s): %v", req.Method, req.URL, req.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body, proto: resp.Proto}
}

// decodeEcho parses an echo backend's JSON answer.
func decodeEcho(t *testing.T, r result) echo.Echo {
	t.Helper()
	var e echo.Echo
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("status %d, body %q is not an echo: %v", r.status, r.body, err)
	}
	return e
}

// raw sends one request, written byte for byte as given, on a new
// connection to addr and reads one response. method tells the response
// parser whether a body follows.
func raw(t *testing.T, addr, method, request string) result {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response to %q: %v", request, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body of response to %q: %v", request, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body, proto: resp.Proto}
}

// rawGet sends "GET target" with Host host and Connection: close.
func rawGet(t *testing.T, addr, host, target string) result {
	t.Helper()
	return raw(t, addr, http.MethodGet, "GET "+target+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// countingBackend starts handler behind a listener that counts accepted
// connections.
func countingBackend(t *testing.T, handler http.Handler) (*countingListener, model.Endpoint) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	srv := httptest.NewUnstartedServer(handler)
	_ = srv.Listener.Close()
	srv.Listener = cl
	srv.Start()
	t.Cleanup(srv.Close)
	return cl, endpointOf(t, ln.Addr())
}

// rawBackend is a hand-written HTTP/1.1 server on a TCP listener: for each
// request on a connection it waits delay, writes response and, after
// closeAfter, closes the connection without a word (no Connection: close).
// It counts accepted connections.
type rawBackend struct {
	ln       net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
}

func startRawBackend(t *testing.T, delay, closeAfter time.Duration, response string) (*rawBackend, model.Endpoint) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{ln: ln}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.accepted.Add(1)
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				time.Sleep(delay)
				if _, err := io.WriteString(c, response); err != nil {
					return
				}
				time.Sleep(closeAfter)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		b.wg.Wait()
	})
	return b, endpointOf(t, ln.Addr())
}

// Certificates.

// testCert is a self-signed ECDSA P-256 certificate for names, with cn as
// its common name, PEM encoded.
func testCert(t *testing.T, cn string, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// handshake connects to addr with TLS, sending serverName as SNI (none
// when empty), and returns the connection state.
func handshake(t *testing.T, addr, serverName string, alpn ...string) tls.ConnectionState {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, // the tests inspect the certificate themselves
		NextProtos:         alpn,
	})
	if err != nil {
		t.Fatalf("TLS handshake with SNI %q: %v", serverName, err)
	}
	defer c.Close()
	return c.ConnectionState()
}

// peerCN is the common name of the leaf certificate of a handshake.
func peerCN(t *testing.T, st tls.ConnectionState) string {
	t.Helper()
	if len(st.PeerCertificates) == 0 {
		t.Fatal("no peer certificate")
	}
	return st.PeerCertificates[0].Subject.CommonName
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// plainErrorBody is what the proxy answers for its own errors.
func plainErrorBody(code int) string {
	return strconv.Itoa(code) + " " + http.StatusText(code) + "\n"
}

// checkPlainError asserts a proxy-generated error response: the status, a
// plain-text body naming only the status.
func checkPlainError(t *testing.T, what string, r result, code int) {
	t.Helper()
	if r.status != code {
		t.Errorf("%s: status = %d, want %d (body %q)", what, r.status, code, r.body)
		return
	}
	if got, want := string(r.body), plainErrorBody(code); got != want {
		t.Errorf("%s: body = %q, want %q", what, got, want)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("%s: Content-Type = %q, want text/plain", what, ct)
	}
}
