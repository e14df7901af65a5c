package proxy

import (
	"net/netip"
	"net/textproto"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// forwarding is the compiled model.Forwarding: how much of what clients
// (or the proxies in front) say about the original request is trusted. Nil
// means nothing is, the default, and costs nothing per request.
type forwarding struct {
	useForwarded bool // use-forwarded-headers
	computeFull  bool // compute-full-forwarded-for
	realIP       bool // enable-real-ip, or implied by use-forwarded-headers
	realIPHeader string
	trusted      []netip.Prefix // proxy-real-ip-cidr
}

func compileForwarding(f *model.Forwarding) *forwarding {
	if !f.UseForwardedHeaders && !f.EnableRealIP {
		return nil
	}
	fw := &forwarding{
		useForwarded: f.UseForwardedHeaders,
		computeFull:  f.UseForwardedHeaders && f.ComputeFullForwardedFor,
		realIP:       true,
		realIPHeader: f.RealIPHeader,
		trusted:      prefixes(f.TrustedCIDRs),
	}
	if fw.realIPHeader == "" {
		fw.realIPHeader = "X-Forwarded-For"
	}
	return fw
}

// forwardedIn is what a request says about itself.
type forwardedIn struct {
	peer                string // the connection's remote address
	xff                 string // incoming X-Forwarded-For values, joined with ", "
	realIPValue         string // the realip header's value
	proto, port, fwHost string // incoming X-Forwarded-Proto, -Port, first -Host
}

// forwardedOut is what goes upstream.
type forwardedOut struct {
	client string // X-Real-IP, and the address access lists see
	xff    string // X-Forwarded-For
	proto  string // "" keeps the listener's scheme
	port   string // "" keeps the listener's port
	host   string // "" keeps the request's Host
}

// compute applies nginx's realip module (real_ip_recursive on: the rightmost
// address not in the trusted ranges, when the peer itself is trusted) and
// ingress-nginx's use-forwarded-headers rules.
func (fw *forwarding) compute(in *forwardedIn) forwardedOut {
	out := forwardedOut{client: in.peer}
	if fw.realIP && in.realIPValue != "" && fw.isTrusted(in.peer) {
		addrs := strings.Split(in.realIPValue, ",")
		client := ""
		for i := len(addrs) - 1; i >= 0; i-- {
			a := strings.TrimSpace(addrs[i])
			if _, err := netip.ParseAddr(a); err != nil {
				break
			}
			client = a
			if !fw.isTrusted(a) {
				break
			}
		}
		if client != "" {
			out.client = client
		}
	}
	out.xff = out.client
	if !fw.useForwarded {
		return out
	}
	if fw.computeFull && in.xff != "" {
		out.xff = in.xff + ", " + in.peer
	}
	out.proto, out.port, out.host = in.proto, in.port, in.fwHost
	return out
}

func (fw *forwarding) isTrusted(a string) bool {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range fw.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// fromFields computes the forwarded values of an HTTP/1 engine request.
func (fw *forwarding) fromFields(fields []field, peer string) forwardedOut {
	in := forwardedIn{peer: peer}
	var xff []string
	for i := range fields {
		f := &fields[i]
		switch {
		case equalFold(f.name, "x-forwarded-for"):
			xff = append(xff, string(f.value))
		case equalFold(f.name, "x-forwarded-proto") && in.proto == "":
			in.proto = string(f.value)
		case equalFold(f.name, "x-forwarded-port") && in.port == "":
			in.port = string(f.value)
		case equalFold(f.name, "x-forwarded-host") && in.fwHost == "":
			in.fwHost = string(f.value)
		}
		if in.realIPValue == "" && equalFoldBytes(f.name, []byte(fw.realIPHeader)) && len(f.name) == len(fw.realIPHeader) {
			in.realIPValue = string(f.value)
		}
	}
	in.xff = strings.Join(xff, ", ")
	if strings.EqualFold(fw.realIPHeader, "X-Forwarded-For") {
		in.realIPValue = in.xff
	}
	return fw.compute(&in)
}

// fromHeader computes the forwarded values of a net/http request.
func (fw *forwarding) fromHeader(h map[string][]string, peer string) forwardedOut {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	in := forwardedIn{peer: peer, xff: strings.Join(h["X-Forwarded-For"], ", "),
		proto: get("X-Forwarded-Proto"), port: get("X-Forwarded-Port"), fwHost: get("X-Forwarded-Host")}
	in.realIPValue = strings.Join(h[canonicalKey(fw.realIPHeader)], ", ")
	return fw.compute(&in)
}

func canonicalKey(k string) string { return textproto.CanonicalMIMEHeaderKey(k) }
