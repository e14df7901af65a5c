package annotations

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Run one at a time, e.g.
//
//	go test ./internal/annotations -run XXX -fuzz FuzzParseSize -fuzztime 20s

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "1", "1024", "512k", "512K", "1m", "8M", "1g", "2G", " 1m ", "1.5m", "-1",
		"lots", "", "k", "4611686018427387904", "4611686018427387905", "4294967296g", "4294967297g",
		"9223372036854775807", "9223372036854775808", "+1m", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if n != 0 {
				t.Errorf("ParseSize(%q) = %d with error %v", s, n, err)
			}
			return
		}
		if n < 0 || n > 1<<62 {
			t.Fatalf("ParseSize(%q) = %d, outside [0, 2^62]", s, n)
		}
		// Re-rendered in bytes, the size parses to the same value.
		if back, err := ParseSize(strconv.FormatInt(n, 10)); err != nil || back != n {
			t.Errorf("ParseSize(%q) = %d, but %d re-parses as %d, %v", s, n, n, back, err)
		}
		// A unit multiplies the number before it, whatever its case.
		v := strings.TrimSpace(s)
		mult := map[byte]int64{'k': 1 << 10, 'K': 1 << 10, 'm': 1 << 20, 'M': 1 << 20, 'g': 1 << 30, 'G': 1 << 30}[v[len(v)-1]]
		if mult == 0 {
			return
		}
		num, err := ParseSize(v[:len(v)-1])
		if err != nil || num*mult != n {
			t.Errorf("ParseSize(%q) = %d, but its number parses as %d, %v (×%d)", s, n, num, err, mult)
		}
		other := strings.ToUpper(v)
		if other == v {
			other = strings.ToLower(v)
		}
		if m, err := ParseSize(other); err != nil || m != n {
			t.Errorf("ParseSize(%q) = %d but ParseSize(%q) = %d, %v", s, n, other, m, err)
		}
	})
}

func FuzzParseCIDRs(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.1.2.3/8", "192.168.1.1", "::1", "2001:db8::/32", "2001:db8::1/64",
		" 10.0.0.0/8 , ::1 ", "10.0.0.0/8,,", "", ",", "10.0.0.0/33", "10.0.0.256", "bad", "::ffff:10.0.0.1",
		"::ffff:10.0.0.0/104", "0.0.0.0/0,::/0"} {
		// Not seeded: zoned IPv6 addresses ("fe80::1%eth0/64"), which
		// ParseCIDRs wrongly accepts (see TestParseCIDRs); the fuzzer finds
		// them within a second.
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseCIDRs(s)
		if err != nil {
			if ps != nil {
				t.Errorf("ParseCIDRs(%q) returned %v with error %v", s, ps, err)
			}
			return
		}
		var entries []string
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e != "" {
				entries = append(entries, e)
			}
		}
		if len(ps) == 0 || len(ps) != len(entries) {
			t.Fatalf("ParseCIDRs(%q) = %v: %d prefixes for %d entries", s, ps, len(ps), len(entries))
		}
		strs := make([]string, len(ps))
		for i, p := range ps {
			strs[i] = p.String()
			if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" {
				t.Errorf("ParseCIDRs(%q): prefix %#v is invalid, unmasked or zoned", s, p)
			}
			// The proxy reads translate's p.String() back with ParsePrefix.
			if back, err := netip.ParsePrefix(p.String()); err != nil || back != p {
				t.Errorf("ParseCIDRs(%q): %v does not round-trip through String (%v, %v)", s, p, back, err)
			}
			// The written length is the length used; a bare address is a
			// single host.
			e := entries[i]
			want := p.Addr().BitLen()
			if j := strings.LastIndexByte(e, '/'); j >= 0 {
				want, err = strconv.Atoi(e[j+1:])
				if err != nil {
					t.Errorf("ParseCIDRs(%q): entry %q has a non-numeric length, yet parsed as %v", s, e, p)
					continue
				}
			}
			if p.Bits() != want {
				t.Errorf("ParseCIDRs(%q): entry %q became %v, /%d instead of /%d", s, e, p, p.Bits(), want)
			}
		}
		// The canonical form parses to the same list.
		again, err := ParseCIDRs(strings.Join(strs, ","))
		if err != nil || len(again) != len(ps) {
			t.Fatalf("ParseCIDRs(%q) = %v, whose canonical form re-parses as %v, %v", s, ps, again, err)
		}
		for i := range ps {
			if again[i] != ps[i] {
				t.Errorf("ParseCIDRs(%q)[%d] = %v, re-parsed as %v", s, i, ps[i], again[i])
			}
		}
	})
}

func FuzzParseRedirectURL(f *testing.F) {
	for _, s := range []string{"https://example.com", "http://x/a?b=c&d=e", " https://x/trim ", "https://x$request_uri",
		"/relative", "ftp://x", "https://x:8080/", "https://", "https://x/%41", "https://x/#f", "HTTPS://X/",
		"https://x/\r\nSet-Cookie: a=b", "http:x", "http:/x", "https://x:port/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseRedirectURL(s)
		if err != nil {
			if u != "" {
				t.Errorf("parseRedirectURL(%q) = %q with error %v", s, u, err)
			}
			return
		}
		// The value goes into a Location header as it is: no header
		// injection, no nginx variable, no escape.
		if u != strings.TrimSpace(s) {
			t.Errorf("parseRedirectURL(%q) = %q, want the trimmed value", s, u)
		}
		for _, c := range u {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~/:,?&=", c)) {
				t.Fatalf("parseRedirectURL(%q) = %q, which contains %q", s, u, c)
			}
		}
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			t.Errorf("parseRedirectURL(%q) = %q, which is not an absolute http(s) URL (%v)", s, u, err)
		}
		if again, err := parseRedirectURL(u); err != nil || again != u {
			t.Errorf("parseRedirectURL is not idempotent on %q: %q, %v", u, again, err)
		}
	})
}

func FuzzParseBoolInt(f *testing.F) {
	for _, s := range []string{"true", "True", "TRUE", "t", "1", "0", "false", "F", "true ", "yes", "", "60", "60s",
		"-1", "+7", "301", "308", "309", "99999999999999999999", "0x10", "007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := ParseBool(s); err == nil {
			if back, err := ParseBool(strconv.FormatBool(b)); err != nil || back != b {
				t.Errorf("ParseBool(%q) = %v, which does not round-trip", s, b)
			}
			if s != strings.TrimSpace(s) {
				t.Errorf("ParseBool(%q) = %v; values are not trimmed", s, b)
			}
		}
		n, err := ParseInt(s)
		if err == nil {
			if back, err := ParseInt(strconv.Itoa(n)); err != nil || back != n {
				t.Errorf("ParseInt(%q) = %d, which does not round-trip", s, n)
			}
		} else if n != 0 {
			t.Errorf("ParseInt(%q) = %d with error %v", s, n, err)
		}
		sec, serr := ParseSeconds(s)
		switch {
		case err == nil && n >= 0 && (serr != nil || sec != n):
			t.Errorf("ParseSeconds(%q) = %d, %v; ParseInt gave %d", s, sec, serr, n)
		case (err != nil || n < 0) && serr == nil:
			t.Errorf("ParseSeconds(%q) = %d, want an error (ParseInt %d, %v)", s, sec, n, err)
		}
		for _, r := range [][2]int{{300, 308}, {300, 307}} {
			code, cerr := ParseRedirectCode(r[0], r[1])(s)
			inRange := err == nil && n >= r[0] && n <= r[1]
			if inRange != (cerr == nil) || (cerr == nil && code != n) {
				t.Errorf("ParseRedirectCode(%d, %d)(%q) = %d, %v; ParseInt gave %d, %v", r[0], r[1], s, code, cerr, n, err)
			}
		}
	})
}
