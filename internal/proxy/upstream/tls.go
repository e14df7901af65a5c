package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// nginxUpstreamName is the name nginx verifies upstream certificates
// against (and sends as SNI) when proxy-ssl-name is not set: ingress-nginx
// proxies to its upstream "upstream_balancer".
const nginxUpstreamName = "upstream_balancer"

// tlsIdentity names what a backend's connections are: "" for clear text,
// "tls" for nginx's default TLS, "tls-<fingerprint>" with proxy-ssl-*.
// Pools are keyed by address and identity, so that connections are never
// shared between TLS settings.
func tlsIdentity(secure bool, bt *model.BackendTLS, h2 bool) string {
	if !secure {
		if h2 {
			return "h2c"
		}
		return ""
	}
	id := "tls"
	if bt != nil {
		id += "-" + bt.Fingerprint
	}
	if h2 {
		id += "/h2"
	}
	return id
}

// clientTLS builds the TLS client configuration for a backend. Without
// proxy-ssl-* it is nginx's default: no client certificate, no
// verification, no SNI. alpn is the one protocol offered.
func clientTLS(bt *model.BackendTLS, alpn string) (*tls.Config, error) {
	//nolint:gosec // nginx's proxy_ssl_verify off; verification, when on, is VerifyConnection's.
	c := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{alpn}}
	if bt == nil {
		return c, nil
	}
	pair, err := tls.X509KeyPair(bt.CertPEM, bt.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("proxy-ssl-secret %s: %w", bt.Secret, err)
	}
	c.Certificates = []tls.Certificate{pair}
	name := bt.ServerName
	if name == "" {
		name = nginxUpstreamName
	}
	if bt.SNI {
		c.ServerName = name
	}
	c.MinVersion = annotations.TLSVersionID(bt.Params.MinVersion)
	c.MaxVersion = annotations.TLSVersionID(bt.Params.MaxVersion)
	c.CipherSuites = annotations.CipherSuiteIDs(bt.Params.CipherSuites)
	if bt.Verify {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(bt.CAPEM) {
			return nil, fmt.Errorf("proxy-ssl-secret %s: ca.crt holds no certificate", bt.Secret)
		}
		depth := bt.VerifyDepth
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, roots, name, depth, x509.ExtKeyUsageServerAuth)
		}
	}
	return c, nil
}

// verifyChain checks a peer's chain against roots, and its name when name
// is not empty. depth is the number of CA certificates allowed above the
// peer's, as OpenSSL's verify depth counts them.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, name string, depth int, usage x509.ExtKeyUsage) error {
	if len(certs) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return err
	}
	for _, ch := range chains {
		if len(ch)-1 <= depth {
			return nil
		}
	}
	return errors.New("certificate chain too long")
}

// VerifyChain is verifyChain for client certificates: no name is checked.
func VerifyChain(certs []*x509.Certificate, roots *x509.CertPool, depth int) error {
	return verifyChain(certs, roots, "", depth, x509.ExtKeyUsageClientAuth)
}

// newH2Transport returns the HTTP/2 transport of a gRPC backend: h2c with
// prior knowledge when conf is nil, else h2 over TLS with conf. It keeps
// one connection per endpoint address, multiplexing requests over it.
func newH2Transport(dialer *net.Dialer, conf *tls.Config) *http.Transport {
	t := &http.Transport{
		DialContext:        dialer.DialContext,
		ForceAttemptHTTP2:  true,
		DisableCompression: true,
		IdleConnTimeout:    DefaultIdleTimeout,
	}
	var ps http.Protocols
	if conf == nil {
		ps.SetUnencryptedHTTP2(true)
	} else {
		ps.SetHTTP2(true)
		t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(nc, conf)
			hctx, cancel := context.WithTimeout(ctx, dialerTimeout(dialer))
			defer cancel()
			if err := tc.HandshakeContext(hctx); err != nil {
				_ = nc.Close()
				return nil, err
			}
			return tc, nil
		}
	}
	t.Protocols = &ps
	return t
}

func dialerTimeout(d *net.Dialer) time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultConnectTimeout
}
