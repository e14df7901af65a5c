package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// use-proxy-protocol: a load balancer in front of Strait prefixes each
// connection with a PROXY protocol header (v1 text or v2 binary) naming the
// client. The listeners wrap their connections while the current
// generation has it on; the header is read on the connection's first use,
// never in the accept loop, and a connection without a valid header is
// refused, as nginx's listen ... proxy_protocol does.

// proxyHeaderTimeout is proxy-protocol-header-timeout's default.
const proxyHeaderTimeout = 5 * time.Second

// errProxyHeader marks a connection without a valid PROXY header.
var errProxyHeader = errors.New("invalid PROXY protocol header")

// proxyProtoListener wraps accepted connections when the generation says
// so.
type proxyProtoListener struct {
	net.Listener
	p *Proxy
}

// ProxyProtocolListener returns ln reading PROXY protocol headers from its
// connections whenever the current model enables use-proxy-protocol.
func (p *Proxy) ProxyProtocolListener(ln net.Listener) net.Listener {
	return &proxyProtoListener{Listener: ln, p: p}
}

// Accept returns the next connection, wrapped when PROXY headers are
// expected.
func (l *proxyProtoListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	g := l.p.gen.Load()
	if !g.proxyProtocol {
		return c, nil
	}
	return &proxyConn{Conn: c, timeout: g.proxyProtocolTimeout}, nil
}

// proxyConn is a connection whose first bytes are a PROXY header.
type proxyConn struct {
	net.Conn
	// timeout bounds reading the header (proxy-protocol-header-timeout).
	timeout time.Duration
	once    sync.Once
	err     error
	remote  net.Addr
	rest    []byte // bytes read past the header
}

func (c *proxyConn) init() {
	c.once.Do(func() {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		c.remote, c.rest, c.err = readProxyHeader(c.Conn)
		_ = c.Conn.SetReadDeadline(time.Time{})
		if c.err != nil {
			_ = c.Conn.Close()
		}
	})
}

// Read returns the bytes after the header.
func (c *proxyConn) Read(b []byte) (int, error) {
	c.init()
	if c.err != nil {
		return 0, c.err
	}
	if len(c.rest) > 0 {
		n := copy(b, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// RemoteAddr is the client the header names (the peer for LOCAL and
// UNKNOWN headers).
func (c *proxyConn) RemoteAddr() net.Addr {
	c.init()
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

// NetConn is the accepted connection.
func (c *proxyConn) NetConn() net.Conn { return c.Conn }

// CloseWrite half-closes the connection, when it can be.
func (c *proxyConn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}

var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// readProxyHeader reads a v1 or v2 header from c. remote is nil when the
// header names no client (LOCAL, UNKNOWN); rest holds bytes read after it.
func readProxyHeader(c net.Conn) (remote net.Addr, rest []byte, err error) {
	buf := make([]byte, 0, 256)
	tmp := make([]byte, 256)
	need := func(n int) error {
		for len(buf) < n {
			k, err := c.Read(tmp[:min(len(tmp), cap(buf)-len(buf))])
			if k == 0 && err != nil {
				return err
			}
			buf = append(buf, tmp[:k]...)
		}
		return nil
	}
	if err := need(16); err != nil {
		return nil, nil, err
	}
	if bytes.HasPrefix(buf, proxyV2Sig) {
		n := 16 + int(binary.BigEndian.Uint16(buf[14:16]))
		if n > cap(buf) {
			bigger := make([]byte, len(buf), n)
			copy(bigger, buf)
			buf = bigger
		}
		if err := need(n); err != nil {
			return nil, nil, err
		}
		remote, err := parseProxyV2(buf[:n])
		return remote, buf[n:], err
	}
	if !bytes.HasPrefix(buf, []byte("PROXY ")) {
		return nil, nil, errProxyHeader
	}
	for {
		if i := bytes.Index(buf, []byte("\r\n")); i >= 0 {
			remote, err := parseProxyV1(string(buf[:i]))
			return remote, buf[i+2:], err
		}
		if len(buf) >= 107 {
			return nil, nil, errProxyHeader
		}
		if err := need(len(buf) + 1); err != nil {
			return nil, nil, err
		}
	}
}

// parseProxyV1 parses "PROXY TCP4 src dst sport dport".
func parseProxyV1(line string) (net.Addr, error) {
	f := bytes.Fields([]byte(line))
	if len(f) >= 2 && string(f[1]) == "UNKNOWN" {
		return nil, nil
	}
	if len(f) != 6 || (string(f[1]) != "TCP4" && string(f[1]) != "TCP6") {
		return nil, errProxyHeader
	}
	ip, err := netip.ParseAddr(string(f[2]))
	if err != nil || ip.Is4() != (string(f[1]) == "TCP4") || ip.Zone() != "" {
		return nil, errProxyHeader
	}
	port, err := strconv.ParseUint(string(f[4]), 10, 16)
	if err != nil {
		return nil, errProxyHeader
	}
	if _, err := netip.ParseAddr(string(f[3])); err != nil {
		return nil, errProxyHeader
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))), nil
}

// parseProxyV2 parses a complete binary header.
func parseProxyV2(h []byte) (net.Addr, error) {
	verCmd, fam := h[12], h[13]
	if verCmd>>4 != 2 {
		return nil, errProxyHeader
	}
	switch verCmd & 0xf {
	case 0: // LOCAL: a health check by the balancer itself
		return nil, nil
	case 1:
	default:
		return nil, errProxyHeader
	}
	addr := h[16:]
	switch fam {
	case 0x11: // TCP over IPv4
		if len(addr) < 12 {
			return nil, errProxyHeader
		}
		ip := netip.AddrFrom4([4]byte(addr[0:4]))
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, binary.BigEndian.Uint16(addr[8:10]))), nil
	case 0x21: // TCP over IPv6
		if len(addr) < 36 {
			return nil, errProxyHeader
		}
		ip := netip.AddrFrom16([16]byte(addr[0:16]))
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, binary.BigEndian.Uint16(addr[32:34]))), nil
	case 0x00: // UNSPEC
		return nil, nil
	}
	return nil, errProxyHeader
}
