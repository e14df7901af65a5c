package proxy

import (
	"crypto/rand"
	"crypto/tls"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// serverTLS are a generation's TLS listener configurations: ssl-protocols
// and ssl-ciphers, with and without a request for a client certificate.
type serverTLS struct {
	plain, clientCert *tls.Config
	// gateway are the Gateway API HTTPS ports' configurations.
	gateway map[gwKey]*tls.Config
}

// compileServerTLS builds the listener configurations of a generation.
// Certificates are still picked by SNI from the generation current at
// the handshake.
func (p *Proxy) compileServerTLS(params *model.TLSParams, noHTTP2 bool) serverTLS {
	if params == nil {
		// ingress-nginx's defaults.
		v, _ := annotations.SSLProtocols.Parse(annotations.SSLProtocols.Default)
		cs, _ := annotations.SSLCiphers.Parse(annotations.SSLCiphers.Default)
		params = &model.TLSParams{MinVersion: v.Min, MaxVersion: v.Max, CipherSuites: cs}
	}
	c := &tls.Config{
		MinVersion:   annotations.TLSVersionID(params.MinVersion),
		MaxVersion:   annotations.TLSVersionID(params.MaxVersion),
		CipherSuites: annotations.CipherSuiteIDs(params.CipherSuites),
		NextProtos:   []string{"h2", "http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return p.certificate(hello), nil
		},
	}
	if noHTTP2 {
		c.NextProtos = []string{"http/1.1"}
	}
	cc := c.Clone()
	// Verification happens per request (clientAuth.check), so that a bad
	// certificate gets 400 and not a failed handshake.
	cc.ClientAuth = tls.RequestClientCert
	// Session tickets outlive generations, but never cross from a
	// configuration that asked for no certificate to one that asks: the
	// resumed session would carry none.
	c.SetSessionTicketKeys([][32]byte{p.ticketKeys[0]})
	cc.SetSessionTicketKeys([][32]byte{p.ticketKeys[1]})
	return serverTLS{plain: c, clientCert: cc}
}

// certificate picks the server certificate for an SNI name from the
// current generation.
func (p *Proxy) certificate(hello *tls.ClientHelloInfo) *tls.Certificate {
	g := p.gen.Load()
	name := hello.ServerName
	if c := g.certificate(name); c != nil {
		return c
	}
	if c := g.sharedGatewayCertificate(hello); c != nil {
		return c
	}
	if g.defaultCert != nil {
		return g.defaultCert
	}
	return p.certs.def
}

// configForClient picks the listener configuration for a handshake: the
// current generation's, asking for a client certificate when the SNI
// host checks them.
func (p *Proxy) configForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	g := p.gen.Load()
	if g.host(hello.ServerName).clientAuth.requestsCertificate() {
		return g.tls.clientCert, nil
	}
	return g.tls.plain, nil
}

// applyTLS completes a compiled generation with its TLS settings: the
// listener configurations and the hosts' client-certificate checks.
func (p *Proxy) applyTLS(g *generation, m *model.Model) {
	// Hosts' client-certificate checks are compiled with the hosts
	// (finishHost).
	g.tls = p.compileServerTLS(m.ServerTLS, m.NoHTTP2)
	g.tls.gateway = compileGatewayTLS(g.tls.plain, g.gwPorts)
}

// setClientAuth sets a host's client-certificate check. Its routes are
// served by the net/http handler on every listener: over plain HTTP it
// still removes the ssl-client-* headers clients send, which upstreams
// trust.
func (vh *vhost) setClientAuth(ca *clientAuth) {
	vh.clientAuth = ca
	for _, r := range vh.exact {
		r.full = true
	}
	for _, r := range vh.prefix {
		r.full = true
	}
	for _, r := range vh.regex {
		r.full = true
	}
	vh.def.full = true
}

// newTicketKeys returns the session ticket keys of the TLS listener's two
// configurations.
func newTicketKeys() (keys [2][32]byte, err error) {
	for i := range keys {
		if _, err = rand.Read(keys[i][:]); err != nil {
			return keys, err
		}
	}
	return keys, nil
}
