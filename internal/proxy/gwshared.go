package proxy

import (
	"crypto/tls"
	"net"
)

// Gateways without addresses of their own share Strait's bind address. A
// Gateway listener on the port of Strait's HTTP or HTTPS listener cannot
// have a socket of its own there, so those listeners serve it: a request
// for a host no Ingress names goes to the Gateway listener of that port
// that takes its host, and a TLS handshake for a name no Ingress
// certificate covers gets that listener's certificate. Ingress hosts come
// first, as they did before the Gateway existed.

// sharedGateway returns the Gateway API handler for a request to host on
// one of Strait's own listeners, or nil when no Gateway listener of that
// port takes the host.
func (g *generation) sharedGateway(p *Proxy, li listenerInfo, host string) *gwHandler {
	if len(g.gwPorts) == 0 || li.listen == 0 {
		return nil
	}
	k := gwKey{port: li.listen}
	gp := g.gwPorts[k]
	if gp == nil {
		return nil
	}
	if _, ok := gp.listeners.get(lower(stripPort(host))); !ok {
		return nil
	}
	return &gwHandler{p: p, key: k, li: li}
}

// sharedGatewayCertificate returns the certificate of the Gateway HTTPS
// listener that takes the handshake's name on the port it came to, or
// nil.
func (g *generation) sharedGatewayCertificate(hello *tls.ClientHelloInfo) *tls.Certificate {
	if len(g.gwPorts) == 0 || hello.Conn == nil {
		return nil
	}
	tcp, ok := hello.Conn.LocalAddr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	gp := g.gwPorts[gwKey{port: int32(tcp.Port)}]
	if gp == nil {
		return nil
	}
	if gl, ok := gp.listeners.get(lower(hello.ServerName)); ok && gl.l.TLS {
		return gl.cert
	}
	return nil
}
