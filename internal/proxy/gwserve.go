package proxy

import (
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
)

// GatewayServer returns the net/http server for the Gateway API listeners
// of one port. gateway names the Gateway ("namespace/name") when ln is
// bound to an address of that Gateway's own, or is "" when ln serves the
// port for every Gateway without addresses. tlsOn terminates TLS with the
// certificates of the listeners (HTTP/2 and HTTP/1.1 by ALPN); in clear
// text, HTTP/2 with prior knowledge (h2c, as gRPC clients speak it) is
// served beside HTTP/1.1.
func (p *Proxy) GatewayServer(ln net.Listener, gateway string, tlsOn bool) *http.Server {
	li := listenerInfo{scheme: "http", port: "80"}
	key := gwKey{gateway: gateway}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		li.port, key.port = strconv.Itoa(tcp.Port), int32(tcp.Port)
	}
	if tlsOn {
		li.scheme = "https"
	}
	srv := p.plainServer(li)
	srv.Handler = &gwHandler{p: p, key: key, li: li}
	if !tlsOn {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
		return srv
	}
	srv.TLSConfig = &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return p.gen.Load().tls.gateway[key], nil
		},
	}
	p.configureHTTP2(srv)
	return srv
}

// compileGatewayTLS makes the TLS configuration of each Gateway API port
// with HTTPS listeners: the TLS listener's versions, suites and session
// tickets, and the certificate of the listener whose hostname the
// handshake names, else of the port's first HTTPS listener.
func compileGatewayTLS(base *tls.Config, ports map[gwKey]*gwPort) map[gwKey]*tls.Config {
	var out map[gwKey]*tls.Config
	for k, gp := range ports {
		if gp.first == nil {
			continue
		}
		c := base.Clone()
		c.GetCertificate = gp.certificate
		if out == nil {
			out = map[gwKey]*tls.Config{}
		}
		out[k] = c
	}
	return out
}

// certificate picks a handshake's certificate.
func (gp *gwPort) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if gl, ok := gp.listeners.get(lower(hello.ServerName)); ok && gl.cert != nil {
		return gl.cert, nil
	}
	return gp.first.cert, nil
}
