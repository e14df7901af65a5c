package proxy_test

import (
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
)

const defaultCN = "Strait Default Certificate"

// tlsModel serves exact.example.com and *.example.com, each with its own
// certificate, from one echo backend.
func tlsModel(t *testing.T, ep model.Endpoint, exactCert, wildCert model.Certificate) *model.Model {
	return &model.Model{
		Hosts: []*model.VirtualHost{
			vhost("*.example.com", toBackend("echo")),
			vhost("exact.example.com", toBackend("echo")),
		},
		CatchAll:     catchAll404(),
		Backends:     []model.Backend{backend("echo", ep)},
		Certificates: []model.Certificate{exactCert, wildCert},
		SNI: []model.SNIBinding{
			{Host: "*.example.com", Certificate: wildCert.Name},
			{Host: "exact.example.com", Certificate: exactCert.Name},
		},
	}
}

func newCert(t *testing.T, name, cn string, hosts ...string) model.Certificate {
	c, k := testCert(t, cn, hosts...)
	return model.NewCertificate(name, c, k)
}

func TestTLSCertificateSelection(t *testing.T) {
	t.Parallel()
	exact := newCert(t, "ns/exact", "exact-cert", "exact.example.com")
	wild := newCert(t, "ns/wild", "wild-cert", "*.example.com")
	h := startProxy(t, engineNetHTTP, testTimeouts, tlsModel(t, echoBackend(t, "echo"), exact, wild), true)
	for _, tc := range []struct{ sni, want string }{
		{"exact.example.com", "exact-cert"},
		{"EXACT.example.com", "exact-cert"},
		{"a.example.com", "wild-cert"},
		{"other.example.com", "wild-cert"},
		{"a.b.example.com", defaultCN},
		{"example.com", defaultCN},
		{"unknown.test", defaultCN},
		{"", defaultCN}, // no SNI at all: the client dials an IP address
	} {
		if got := peerCN(t, handshake(t, h.tlsAddr, tc.sni)); got != tc.want {
			t.Errorf("SNI %q: served %q, want %q", tc.sni, got, tc.want)
		}
	}
}

func TestTLSALPN(t *testing.T) {
	t.Parallel()
	exact := newCert(t, "ns/exact", "exact-cert", "exact.example.com")
	wild := newCert(t, "ns/wild", "wild-cert", "*.example.com")
	h := startProxy(t, engineNetHTTP, testTimeouts, tlsModel(t, echoBackend(t, "echo"), exact, wild), true)

	if p := handshake(t, h.tlsAddr, "exact.example.com", "h2", "http/1.1").NegotiatedProtocol; p != "h2" {
		t.Errorf("client offering h2 and http/1.1 got %q, want h2", p)
	}
	if p := handshake(t, h.tlsAddr, "exact.example.com", "http/1.1").NegotiatedProtocol; p != "http/1.1" {
		t.Errorf("client offering http/1.1 only got %q, want http/1.1", p)
	}

	for _, tc := range []struct {
		name      string
		h2        bool
		wantProto string
		wantALPN  string
	}{
		{"http2", true, "HTTP/2.0", "h2"},
		{"http1", false, "HTTP/1.1", "http/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tcfg := &tls.Config{InsecureSkipVerify: true, ServerName: "a.example.com"}
			tr := &http.Transport{TLSClientConfig: tcfg, ForceAttemptHTTP2: tc.h2}
			if !tc.h2 {
				tcfg.NextProtos = []string{"http/1.1"}
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			for i := 0; i < 3; i++ {
				req, _ := http.NewRequest(http.MethodGet, "https://"+h.tlsAddr+"/x", nil)
				req.Host = "a.example.com"
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				r := result{status: resp.StatusCode, proto: resp.Proto, header: resp.Header}
				_ = resp.Body.Close()
				if r.status != http.StatusOK || r.proto != tc.wantProto {
					t.Fatalf("got %d over %s, want 200 over %s", r.status, r.proto, tc.wantProto)
				}
				if resp.TLS == nil || resp.TLS.NegotiatedProtocol != tc.wantALPN {
					t.Errorf("negotiated %q, want %q", resp.TLS.NegotiatedProtocol, tc.wantALPN)
				}
				if cn := resp.TLS.PeerCertificates[0].Subject.CommonName; cn != "wild-cert" {
					t.Errorf("served %q, want wild-cert", cn)
				}
			}
		})
	}
}

func TestTLSCertificateSwap(t *testing.T) {
	t.Parallel()
	ep := echoBackend(t, "echo")
	wild := newCert(t, "ns/wild", "wild-cert", "*.example.com")
	one := newCert(t, "ns/exact", "exact-one", "exact.example.com")
	h := startProxy(t, engineNetHTTP, testTimeouts, tlsModel(t, ep, one, wild), true)
	if got := peerCN(t, handshake(t, h.tlsAddr, "exact.example.com")); got != "exact-one" {
		t.Fatalf("before the swap: served %q", got)
	}

	// Same Secret name, new content.
	two := newCert(t, "ns/exact", "exact-two", "exact.example.com")
	h.p.Apply(tlsModel(t, ep, two, wild))
	if got := peerCN(t, handshake(t, h.tlsAddr, "exact.example.com")); got != "exact-two" {
		t.Errorf("after swapping the certificate: served %q, want exact-two", got)
	}

	// Dropping the binding falls back to the wildcard, then the default.
	m := tlsModel(t, ep, two, wild)
	m.SNI = m.SNI[:1]
	h.p.Apply(m)
	if got := peerCN(t, handshake(t, h.tlsAddr, "exact.example.com")); got != "wild-cert" {
		t.Errorf("without the exact binding: served %q, want wild-cert", got)
	}
	m.SNI, m.Certificates = nil, nil
	h.p.Apply(m)
	if got := peerCN(t, handshake(t, h.tlsAddr, "exact.example.com")); got != defaultCN {
		t.Errorf("without bindings: served %q, want the default", got)
	}
}
