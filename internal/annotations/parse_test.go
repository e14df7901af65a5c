package annotations

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseBool(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{in: "1", want: true},
		{in: "t", want: true},
		{in: "T", want: true},
		{in: "TRUE", want: true},
		{in: "true", want: true},
		{in: "True", want: true},
		{in: "0"},
		{in: "f"},
		{in: "F"},
		{in: "FALSE"},
		{in: "false"},
		{in: "False"},
		// strconv.ParseBool, untrimmed, as ingress-nginx.
		{in: "true ", wantErr: true},
		{in: " false", wantErr: true},
		{in: "yes", wantErr: true},
		{in: "on", wantErr: true},
		{in: "tRUE", wantErr: true},
		{in: "2", wantErr: true},
		{in: "", wantErr: true},
	} {
		got, err := ParseBool(c.in)
		if (err != nil) != c.wantErr || (err == nil && got != c.want) {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestParseInt(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "120", want: 120},
		{in: "007", want: 7},
		{in: "-5", want: -5},
		{in: "+7", want: 7}, // strconv.Atoi, as ingress-nginx
		{in: "60s", wantErr: true},
		{in: "1.5", wantErr: true},
		{in: " 1", wantErr: true},
		{in: "1 ", wantErr: true},
		{in: "0x10", wantErr: true},
		{in: "1e3", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
		{in: "", wantErr: true},
		{in: "-", wantErr: true},
	} {
		got, err := ParseInt(c.in)
		if (err != nil) != c.wantErr || (err == nil && got != c.want) {
			t.Errorf("ParseInt(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "5", want: 5},
		{in: "3600", want: 3600},
		{in: "-1", wantErr: true},
		{in: "60s", wantErr: true},
		{in: "1m", wantErr: true},
		{in: "", wantErr: true},
		{in: "ten", wantErr: true},
	} {
		got, err := ParseSeconds(c.in)
		if (err != nil) != c.wantErr || (err == nil && got != c.want) {
			t.Errorf("ParseSeconds(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestParseSize(t *testing.T) {
	const k, m, g = 1 << 10, 1 << 20, 1 << 30
	for _, c := range []struct {
		in      string
		want    int64
		wantErr string // substring of the error; "" for success
	}{
		{in: "0", want: 0},
		{in: "0k", want: 0},
		{in: "1", want: 1},
		{in: "1024", want: 1024},
		{in: "512k", want: 512 * k},
		{in: "512K", want: 512 * k},
		{in: "1m", want: m},
		{in: "8M", want: 8 * m},
		{in: "1g", want: g},
		{in: "2G", want: 2 * g},
		{in: " 1m ", want: m}, // strings are trimmed
		{in: "010k", want: 10 * k},
		// The largest sizes accepted: 2^62 bytes, in any unit.
		{in: "4611686018427387904", want: 1 << 62},
		{in: "4294967296g", want: 1 << 62},
		{in: "4398046511104m", want: 1 << 62},
		{in: "4503599627370496k", want: 1 << 62},
		// Overflow.
		{in: "4611686018427387905", wantErr: "too large"},
		{in: "4294967297g", wantErr: "too large"},
		{in: "4398046511105M", wantErr: "too large"},
		{in: "9223372036854775807k", wantErr: "too large"},
		{in: "9223372036854775808", wantErr: "not a size"}, // beyond int64
		{in: "99999999999999999999g", wantErr: "not a size"},
		// Negative.
		{in: "-1", wantErr: "not a size"},
		{in: "-1k", wantErr: "not a size"},
		// Junk.
		{in: "", wantErr: "empty"},
		{in: "   ", wantErr: "empty"},
		{in: "lots", wantErr: "not a size"},
		{in: "1.5m", wantErr: "not a size"},
		{in: "1 m", wantErr: "not a size"},
		{in: "m", wantErr: "not a size"},
		{in: "k", wantErr: "not a size"},
		{in: "1kb", wantErr: "not a size"},
		{in: "1mk", wantErr: "not a size"},
		{in: "1t", wantErr: "not a size"},
		{in: "1T", wantErr: "not a size"},
		{in: "0x10", wantErr: "not a size"},
		{in: "1e6", wantErr: "not a size"},
		{in: "1_000", wantErr: "not a size"},
	} {
		got, err := ParseSize(c.in)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ParseSize(%q): %v, want %d", c.in, err, c.want)
		case c.wantErr == "" && got != c.want:
			t.Errorf("ParseSize(%q) = %d, want %d", c.in, got, c.want)
		case c.wantErr != "" && err == nil:
			t.Errorf("ParseSize(%q) = %d, want an error containing %q", c.in, got, c.wantErr)
		case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
			t.Errorf("ParseSize(%q): error %q, want one containing %q", c.in, err, c.wantErr)
		}
	}
}

func TestParseCIDRs(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}}, // host bits masked
		{in: "192.168.1.10", want: []string{"192.168.1.10/32"}},
		{in: "0.0.0.0/0", want: []string{"0.0.0.0/0"}},
		{in: "2001:db8::/32", want: []string{"2001:db8::/32"}},
		{in: "2001:db8::1/32", want: []string{"2001:db8::/32"}},
		{in: "2001:DB8::1", want: []string{"2001:db8::1/128"}},
		{in: "::1", want: []string{"::1/128"}},
		{in: "::/0", want: []string{"::/0"}},
		{in: "::ffff:10.0.0.1", want: []string{"::ffff:10.0.0.1/128"}},
		{in: "10.0.0.0/8,192.168.0.0/16", want: []string{"10.0.0.0/8", "192.168.0.0/16"}},
		{in: " 10.0.0.0/8 , 192.168.1.1 ,\t::1 ", want: []string{"10.0.0.0/8", "192.168.1.1/32", "::1/128"}},
		{in: "10.0.0.0/8,,", want: []string{"10.0.0.0/8"}},
		{in: ",10.0.0.1", want: []string{"10.0.0.1/32"}},
		{in: "10.0.0.1,10.0.0.1", want: []string{"10.0.0.1/32", "10.0.0.1/32"}},

		{in: "", wantErr: "no address ranges"},
		{in: "  ", wantErr: "no address ranges"},
		{in: " , ,", wantErr: "no address ranges"},
		{in: "10.0.0.0/33", wantErr: `"10.0.0.0/33" is neither`},
		{in: "2001:db8::/129", wantErr: "neither"},
		{in: "10.0.0.256", wantErr: "neither"},
		{in: "10.0.0", wantErr: "neither"},
		{in: "10.0.0.0/-1", wantErr: "neither"},
		{in: "10.0.0.0/8/8", wantErr: "neither"},
		{in: "host.example.com", wantErr: "neither"},
		{in: "10.0.0.0 - 10.0.0.255", wantErr: "neither"},
		{in: "10.0.0.0/8 192.168.0.0/16", wantErr: "neither"}, // spaces do not separate
		// IPv6 zones are refused by nginx's allow/deny and by ingress-nginx's
		// net.ParseCIDR/net.ParseIP. netip.ParseAddr takes everything after
		// "%" as the zone, so "fe80::1%eth0/64" parses as the address
		// fe80::1 with zone "eth0/64", and PrefixFrom drops the zone: the
		// list silently becomes fe80::1/128, narrower than written.
		{in: "fe80::1%eth0/64", wantErr: "neither"},
		{in: "fe80::1%eth0", wantErr: "neither"},
		{in: "10.0.0.0/8,2001:db8::%x/32", wantErr: "neither"},
		// One bad entry fails the whole list.
		{in: "10.0.0.0/8, not-an-ip", wantErr: `"not-an-ip" is neither`},
		{in: "bad,10.0.0.0/8", wantErr: `"bad"`},
	} {
		got, err := ParseCIDRs(c.in)
		if c.wantErr != "" {
			switch {
			case err == nil:
				t.Errorf("ParseCIDRs(%q) = %v, want an error containing %q", c.in, got, c.wantErr)
			case !strings.Contains(err.Error(), c.wantErr):
				t.Errorf("ParseCIDRs(%q): error %q, want one containing %q", c.in, err, c.wantErr)
			case got != nil:
				t.Errorf("ParseCIDRs(%q) returned %v with its error; want no partial list", c.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCIDRs(%q): %v", c.in, err)
			continue
		}
		var s []string
		for _, p := range got {
			if !p.IsValid() || p != p.Masked() {
				t.Errorf("ParseCIDRs(%q): prefix %v is invalid or not masked", c.in, p)
			}
			s = append(s, p.String())
		}
		if !reflect.DeepEqual(s, c.want) {
			t.Errorf("ParseCIDRs(%q) = %v, want %v", c.in, s, c.want)
		}
	}
}

func TestParseRedirectCode(t *testing.T) {
	perm, temp := ParseRedirectCode(300, 308), ParseRedirectCode(300, 307)
	for _, c := range []struct {
		parse   func(string) (int, error)
		name    string
		in      string
		wantErr string
	}{
		{perm, "300-308", "300", ""},
		{perm, "300-308", "301", ""},
		{perm, "300-308", "308", ""},
		{perm, "300-308", "299", "between 300 and 308"},
		{perm, "300-308", "309", "between 300 and 308"},
		{perm, "300-308", "399", "between 300 and 308"},
		{perm, "300-308", "200", "between 300 and 308"},
		{perm, "300-308", "-301", "between 300 and 308"},
		{perm, "300-308", "301s", "not an integer"},
		{perm, "300-308", "", "not an integer"},
		{temp, "300-307", "302", ""},
		{temp, "300-307", "307", ""},
		{temp, "300-307", "308", "between 300 and 307"},
	} {
		got, err := c.parse(c.in)
		switch {
		case c.wantErr == "" && (err != nil || got != atoiMust(t, c.in)):
			t.Errorf("ParseRedirectCode(%s)(%q) = %d, %v", c.name, c.in, got, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ParseRedirectCode(%s)(%q) = %d, %v; want an error containing %q", c.name, c.in, got, err, c.wantErr)
		}
	}
}

func atoiMust(t *testing.T, s string) int {
	t.Helper()
	n, err := ParseInt(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestParseRedirectURL(t *testing.T) {
	for _, c := range []struct {
		in, want string // want "" for an error
	}{
		{"https://example.com", "https://example.com"},
		{"http://example.com/", "http://example.com/"},
		{"https://new.example.com/a/b?c=d&e=f", "https://new.example.com/a/b?c=d&e=f"},
		{"https://example.com:8443/x", "https://example.com:8443/x"},
		{"https://example.com/a,b~c_d.e-f", "https://example.com/a,b~c_d.e-f"},
		{"  https://example.com/trimmed \n", "https://example.com/trimmed"},
		{"https://10.0.0.1/", "https://10.0.0.1/"},

		{"https://x$request_uri", ""}, // nginx variable
		{"https://x/$1", ""},
		{"https://x/a%20b", ""}, // escapes
		{"https://x/#frag", ""},
		{"https://x/a b", ""},
		{"https://x/\r\nX-Injected: 1", ""},
		{"https://x/\"", ""},
		{"https://x/'", ""},
		{"https://x/;a", ""},
		{"https://x/{a}", ""},
		{"https://user@x/", ""},
		{"https://[::1]/", ""}, // brackets are outside the charset
		{"https://exämple.com/", ""},
		{"/relative", ""},
		{"relative/path", ""},
		{"example.com/path", ""},
		{"//example.com/path", ""},
		{"ftp://x", ""},
		{"javascript:alert", ""},
		{"https://", ""},
		{"https:///path", ""},
		{"https:", ""},
		{"", ""},
		{"   ", ""},
	} {
		for _, v := range []*Value[string]{&PermanentRedirect, &TemporalRedirect} {
			got, err := v.Parse(c.in)
			if c.want == "" {
				if err == nil {
					t.Errorf("%s.Parse(%q) = %q, want an error", v.Name, c.in, got)
				}
				continue
			}
			if err != nil || got != c.want {
				t.Errorf("%s.Parse(%q) = %q, %v; want %q", v.Name, c.in, got, err, c.want)
			}
		}
	}
}

func TestValueLookup(t *testing.T) {
	p := Prefix
	t.Run("absent", func(t *testing.T) {
		for _, m := range []map[string]string{nil, {}, {"other": "1", p + "ssl-redirect-x": "true", "ssl-redirect": "false"}} {
			v, ok, err := SSLRedirect.Lookup(m, p)
			if v || ok || err != nil {
				t.Errorf("Lookup(%v) = %v, %v, %v; want absent", m, v, ok, err)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		for _, raw := range []string{"", " ", "\t\n"} {
			v, ok, err := ProxyReadTimeout.Lookup(map[string]string{p + "proxy-read-timeout": raw}, p)
			if v != 0 || ok || err != nil {
				t.Errorf("Lookup(%q) = %v, %v, %v; an empty value is not set", raw, v, ok, err)
			}
		}
	})
	t.Run("present", func(t *testing.T) {
		v, ok, err := ProxyBodySize.Lookup(map[string]string{p + "proxy-body-size": "8m"}, p)
		if v != 8<<20 || !ok || err != nil {
			t.Errorf("Lookup = %v, %v, %v; want 8m", v, ok, err)
		}
	})
	t.Run("no prefix (ConfigMap)", func(t *testing.T) {
		v, ok, err := ProxyBodySize.Lookup(map[string]string{"proxy-body-size": "2k", p + "proxy-body-size": "1g"}, "")
		if v != 2048 || !ok || err != nil {
			t.Errorf("Lookup = %v, %v, %v; want 2k", v, ok, err)
		}
	})
	t.Run("alias", func(t *testing.T) {
		for _, c := range []struct {
			m    map[string]string
			want string
		}{
			{map[string]string{p + "whitelist-source-range": "10.0.0.0/8"}, "10.0.0.0/8"},
			{map[string]string{p + "allowlist-source-range": "", p + "whitelist-source-range": "10.0.0.0/8"}, "10.0.0.0/8"},
			{map[string]string{p + "allowlist-source-range": "  ", p + "whitelist-source-range": "10.0.0.0/8"}, "10.0.0.0/8"},
			{map[string]string{p + "allowlist-source-range": "192.168.0.0/16", p + "whitelist-source-range": "10.0.0.0/8"}, "192.168.0.0/16"},
			// The canonical value wins even when the alias is malformed.
			{map[string]string{p + "allowlist-source-range": "192.168.0.0/16", p + "whitelist-source-range": "bad"}, "192.168.0.0/16"},
		} {
			v, ok, err := AllowlistSourceRange.Lookup(c.m, p)
			if err != nil || !ok || len(v) != 1 || v[0].String() != c.want {
				t.Errorf("Lookup(%v) = %v, %v, %v; want [%s]", c.m, v, ok, err, c.want)
			}
		}
	})
	t.Run("error names key and value", func(t *testing.T) {
		for _, c := range []struct {
			lookup func() error
			want   []string
		}{
			{func() error {
				_, _, err := SSLRedirect.Lookup(map[string]string{p + "ssl-redirect": "true "}, p)
				return err
			}, []string{`nginx.ingress.kubernetes.io/ssl-redirect: invalid value "true "`}},
			{func() error {
				_, _, err := AllowlistSourceRange.Lookup(map[string]string{p + "whitelist-source-range": "10.0.0.0/8,bad"}, p)
				return err
			}, []string{`nginx.ingress.kubernetes.io/whitelist-source-range: invalid value "10.0.0.0/8,bad"`, `"bad" is neither`}},
			{func() error {
				_, _, err := ProxyConnectTimeout.Lookup(map[string]string{"proxy-connect-timeout": "5s"}, "")
				return err
			}, []string{`proxy-connect-timeout: invalid value "5s": not an integer`}},
			{func() error {
				_, _, err := PermanentRedirectCode.Lookup(map[string]string{p + "permanent-redirect-code": "399"}, p)
				return err
			}, []string{`nginx.ingress.kubernetes.io/permanent-redirect-code: invalid value "399"`, "between 300 and 308"}},
		} {
			err := c.lookup()
			if err == nil {
				t.Errorf("no error; want one containing %q", c.want)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		}
	})
	t.Run("error reports ok", func(t *testing.T) {
		// A malformed value is present: callers must not mistake it for an
		// absent one and silently use the default.
		_, ok, err := ProxyReadTimeout.Lookup(map[string]string{p + "proxy-read-timeout": "60s"}, p)
		if err == nil || !ok {
			t.Errorf("Lookup of a malformed value = ok %v, err %v; want ok and an error", ok, err)
		}
	})
}

// TestImplementedDefaultsParse guards translate's assumption (it panics
// otherwise) that every implemented annotation's documented Default parses
// with its own parser, and the ConfigMap key's catalogue default too.
func TestImplementedDefaultsParse(t *testing.T) {
	type defaultParser struct {
		key   Key
		parse func(string) error
	}
	var tv []defaultParser
	for _, a := range implemented() {
		tv = append(tv, defaultParser{key: a.Describe(), parse: a.CheckValue})
	}
	cms := map[string]Key{}
	for _, k := range configMapKeys() {
		cms[k.Name] = k
	}
	for _, v := range tv {
		if v.key.Default != "" {
			if err := v.parse(v.key.Default); err != nil {
				t.Errorf("%s: Default %q does not parse: %v", v.key.Name, v.key.Default, err)
			}
		}
		if v.key.ConfigMapKey == "" {
			continue
		}
		cm, ok := cms[v.key.ConfigMapKey]
		if !ok {
			t.Errorf("%s: ConfigMap key %s is not in the catalogue", v.key.Name, v.key.ConfigMapKey)
			continue
		}
		if cm.Default != "" {
			if err := v.parse(cm.Default); err != nil {
				t.Errorf("ConfigMap key %s: Default %q does not parse with %s's parser: %v", cm.Name, cm.Default, v.key.Name, err)
			}
		}
	}
}

// TestParsedPrefixesRoundTrip checks the contract between translate and the
// proxy: translate writes prefix.String() into the model and the proxy
// reads it back with netip.ParsePrefix, dropping what does not parse.
func TestParsedPrefixesRoundTrip(t *testing.T) {
	ps, err := ParseCIDRs("10.1.2.3/8, 192.168.1.1, ::1, 2001:db8::5/48, ::ffff:10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		back, err := netip.ParsePrefix(p.String())
		if err != nil || back != p {
			t.Errorf("prefix %v: String %q parses back as %v, %v", p, p.String(), back, err)
		}
	}
}

func TestParseTLSParams(t *testing.T) {
	for _, c := range []struct {
		in       string
		min, max string
		bad      bool
	}{
		{"TLSv1.2 TLSv1.3", "TLSv1.2", "TLSv1.3", false},
		{"TLSv1.3", "TLSv1.3", "TLSv1.3", false},
		{"TLSv1 TLSv1.2", "TLSv1", "TLSv1.2", false},
		{"SSLv3 TLSv1.2", "", "", true},
		{"TLSv2", "", "", true},
	} {
		v, err := ParseTLSVersions(c.in)
		if (err != nil) != c.bad || v.Min != c.min || v.Max != c.max {
			t.Errorf("ParseTLSVersions(%q) = %v, %v", c.in, v, err)
		}
	}
	for _, c := range []struct {
		in   string
		want string
		bad  bool
	}{
		{SSLCiphers.Default, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 " +
			"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false},
		{"HIGH:!aNULL:!MD5", "", false},
		{"DEFAULT", "", false},
		{"AES128-SHA:!RC4", "TLS_RSA_WITH_AES_128_CBC_SHA", false},
		{"DHE-RSA-AES128-GCM-SHA256", "", true},
		{"ECDHE-RSA-AES128-GCM-SHA256:BOGUS-CIPHER", "", true},
		{"!aNULL", "", true},
	} {
		v, err := ParseCipherSuites(c.in)
		if (err != nil) != c.bad || strings.Join(v, " ") != c.want {
			t.Errorf("ParseCipherSuites(%q) = %v, %v", c.in, v, err)
		}
	}
}
