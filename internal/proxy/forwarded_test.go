package proxy

import "testing"

// TestForwardingCompute checks nginx's realip rules (recursive, trusted
// ranges) and ingress-nginx's use-forwarded-headers and
// compute-full-forwarded-for.
func TestForwardingCompute(t *testing.T) {
	all := &forwarding{useForwarded: true, realIP: true, realIPHeader: "X-Forwarded-For", trusted: prefixes([]string{"0.0.0.0/0"})}
	lb := &forwarding{useForwarded: true, computeFull: true, realIP: true, realIPHeader: "X-Forwarded-For", trusted: prefixes([]string{"10.0.0.0/8"})}
	cases := []struct {
		name string
		fw   *forwarding
		in   forwardedIn
		want forwardedOut
	}{
		{"default trust: leftmost address", all, forwardedIn{peer: "10.1.1.1", xff: "203.0.113.9, 198.51.100.2", realIPValue: "203.0.113.9, 198.51.100.2", proto: "https", port: "443", fwHost: "shop.example"},
			forwardedOut{client: "203.0.113.9", xff: "203.0.113.9", proto: "https", port: "443", host: "shop.example"}},
		{"no header: the peer", all, forwardedIn{peer: "10.1.1.1"}, forwardedOut{client: "10.1.1.1", xff: "10.1.1.1"}},
		{"trusted LB: rightmost untrusted, full XFF", lb, forwardedIn{peer: "10.1.1.1", xff: "1.2.3.4, 203.0.113.9, 10.2.2.2", realIPValue: "1.2.3.4, 203.0.113.9, 10.2.2.2"},
			forwardedOut{client: "203.0.113.9", xff: "1.2.3.4, 203.0.113.9, 10.2.2.2, 10.1.1.1"}},
		{"untrusted peer: header ignored", lb, forwardedIn{peer: "192.0.2.7", xff: "1.2.3.4", realIPValue: "1.2.3.4"},
			forwardedOut{client: "192.0.2.7", xff: "1.2.3.4, 192.0.2.7"}},
		{"garbage entry stops the walk", lb, forwardedIn{peer: "10.1.1.1", realIPValue: "1.2.3.4, junk, 10.2.2.2"},
			forwardedOut{client: "10.2.2.2", xff: "10.2.2.2"}},
		{"real IP only: other headers ignored", &forwarding{realIP: true, realIPHeader: "CF-Connecting-IP", trusted: prefixes([]string{"0.0.0.0/0"})},
			forwardedIn{peer: "10.1.1.1", realIPValue: "203.0.113.5", proto: "https", fwHost: "evil"},
			forwardedOut{client: "203.0.113.5", xff: "203.0.113.5"}},
	}
	for _, c := range cases {
		if got := c.fw.compute(&c.in); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}
