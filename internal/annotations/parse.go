package annotations

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The parsers follow ingress-nginx's value rules (catalogue section 0):
// booleans as Go's strconv.ParseBool without trimming, integers without
// units, strings trimmed.

// ParseBool accepts 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
func ParseBool(raw string) (bool, error) {
	return strconv.ParseBool(raw)
}

// ParseInt accepts a plain decimal integer; "60s" is invalid, as in
// ingress-nginx.
func ParseInt(raw string) (int, error) {
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	return n, nil
}

// ParseSeconds accepts a non-negative integer number of seconds.
func ParseSeconds(raw string) (int, error) {
	n, err := ParseInt(raw)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errors.New("negative")
	}
	return n, nil
}

// ParseSize accepts nginx sizes: bytes, or a number with k/K, m/M or g/G.
func ParseSize(raw string) (int64, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return 0, errors.New("empty size")
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult, s = 1<<10, s[:len(s)-1]
	case 'm', 'M':
		mult, s = 1<<20, s[:len(s)-1]
	case 'g', 'G':
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a size (bytes, or a number followed by k, m or g)")
	}
	if n > (1<<62)/mult {
		return 0, errors.New("size too large")
	}
	return n * mult, nil
}

// ParseCIDRs accepts a comma-separated list of IP addresses and CIDR
// ranges. Any bad entry fails the whole list: an access list that drops
// entries silently would open or close more than it says.
func ParseCIDRs(raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err == nil && a.Zone() != "" {
			// A zone names a local interface, meaningless for clients.
			err = errors.New("zoned address")
		}
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	if len(out) == 0 {
		return nil, errors.New("no address ranges")
	}
	return out, nil
}

// ParseRedirectCode accepts a 3xx code in [lo, hi].
func ParseRedirectCode(lo, hi int) func(string) (int, error) {
	return func(raw string) (int, error) {
		n, err := ParseInt(raw)
		if err != nil {
			return 0, err
		}
		if n < lo || n > hi {
			return 0, fmt.Errorf("not a redirect code between %d and %d", lo, hi)
		}
		return n, nil
	}
}

// ParseList splits a comma-separated list, trimming entries and dropping
// empty ones.
func ParseList(raw string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(raw, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out, nil
}
