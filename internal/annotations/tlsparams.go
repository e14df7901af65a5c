package annotations

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// TLSVersions is a range of TLS versions, named as nginx names them
// ("TLSv1.2"). Go's TLS stack takes a range, not a set: a list with a gap
// ("TLSv1 TLSv1.2") allows the versions in between too.
type TLSVersions struct {
	Min, Max string
}

// tlsVersionNames are the protocol names of nginx's ssl_protocols that Go
// speaks, oldest first.
var tlsVersionNames = []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// ParseTLSVersions reads an nginx protocol list: names separated by spaces
// (commas are accepted too). SSLv2 and SSLv3 are refused: Go never speaks
// them.
func ParseTLSVersions(raw string) (TLSVersions, error) {
	lo, hi := -1, -1
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
		i := -1
		for j, n := range tlsVersionNames {
			if strings.EqualFold(f, n) {
				i = j
			}
		}
		if i < 0 {
			if strings.EqualFold(f, "SSLv2") || strings.EqualFold(f, "SSLv3") {
				return TLSVersions{}, fmt.Errorf("%q is not supported (TLSv1 to TLSv1.3 are)", f)
			}
			return TLSVersions{}, fmt.Errorf("%q is not a TLS version (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)", f)
		}
		if lo < 0 || i < lo {
			lo = i
		}
		if i > hi {
			hi = i
		}
	}
	if lo < 0 {
		return TLSVersions{}, errors.New("no TLS version")
	}
	return TLSVersions{Min: tlsVersionNames[lo], Max: tlsVersionNames[hi]}, nil
}

// TLSVersionID returns Go's constant for a version name from
// ParseTLSVersions, or 0.
func TLSVersionID(name string) uint16 {
	switch name {
	case "TLSv1":
		return tls.VersionTLS10
	case "TLSv1.1":
		return tls.VersionTLS11
	case "TLSv1.2":
		return tls.VersionTLS12
	case "TLSv1.3":
		return tls.VersionTLS13
	}
	return 0
}

// openSSLCiphers maps the OpenSSL names of the TLS 1.0 to 1.2 suites Go
// implements to Go's suite names.
var openSSLCiphers = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA256":     "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-RSA-AES128-SHA256":       "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"AES128-GCM-SHA256":             "TLS_RSA_WITH_AES_128_GCM_SHA256",
	"AES256-GCM-SHA384":             "TLS_RSA_WITH_AES_256_GCM_SHA384",
	"AES128-SHA256":                 "TLS_RSA_WITH_AES_128_CBC_SHA256",
	"AES128-SHA":                    "TLS_RSA_WITH_AES_128_CBC_SHA",
	"AES256-SHA":                    "TLS_RSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-DES-CBC3-SHA":        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
	"DES-CBC3-SHA":                  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
}

// openSSLGroups are OpenSSL's cipher-string keywords that select families
// of suites. Go's default suites are all strong, so a list that names one
// gets Go's defaults.
var openSSLGroups = map[string]bool{
	"DEFAULT": true, "ALL": true, "HIGH": true, "MEDIUM": true, "COMPLEMENTOFDEFAULT": true,
	"ECDHE": true, "EECDH": true, "kECDHE": true, "kEECDH": true, "aRSA": true, "aECDSA": true, "RSA": true,
	"AES": true, "AES128": true, "AES256": true, "AESGCM": true, "CHACHA20": true, "SHA": true, "SHA1": true,
	"SHA256": true, "SHA384": true, "TLSv1.2": true, "TLSv1": true, "SSLv3": true, "FIPS": true,
}

// ParseCipherSuites reads an OpenSSL cipher string (entries separated by
// ":", "," or spaces) into Go's names of the TLS 1.0 to 1.2 suites, sorted.
// Nil means Go's default suites: the list names a family keyword (HIGH,
// DEFAULT, ...). Exclusions ("!aNULL", "-RC4"), "+" reorderings and "@"
// commands change nothing Go offers and are accepted; so are TLS 1.3
// suites (TLS_AES_128_GCM_SHA256, ...), which Go does not let anyone
// choose. Suites OpenSSL knows but Go lacks (DHE, CAMELLIA, RC4, ...) are
// skipped; a list of nothing else, or with a name neither knows, is an
// error.
func ParseCipherSuites(raw string) ([]string, error) {
	set := map[string]bool{}
	group, named := false, false
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ':' || r == ',' || r == ' ' || r == '\t' }) {
		switch {
		case f[0] == '!' || f[0] == '-' || f[0] == '+' || f[0] == '@':
			continue
		case strings.HasPrefix(f, "TLS_"):
			// TLS 1.3 suites (TLS_AES_*, TLS_CHACHA20_*): always on in Go.
			if !strings.HasPrefix(f, "TLS_AES_") && !strings.HasPrefix(f, "TLS_CHACHA20_") {
				return nil, fmt.Errorf("unknown cipher %q", f)
			}
			continue
		}
		if isCipherGroup(f) {
			group = true
			continue
		}
		if g, ok := openSSLCiphers[f]; ok {
			set[g] = true
			named = true
			continue
		}
		if unavailableCipher(f) {
			named = true
			continue
		}
		return nil, fmt.Errorf("unknown cipher %q", f)
	}
	if group {
		return nil, nil
	}
	if !named {
		return nil, errors.New("no cipher")
	}
	if len(set) == 0 {
		return nil, errors.New("none of the ciphers is available in Go's TLS stack")
	}
	out := make([]string, 0, len(set))
	for g := range set {
		out = append(out, g)
	}
	sort.Strings(out)
	return out, nil
}

// isCipherGroup reports a family keyword, or an intersection of them
// ("ECDHE+AESGCM").
func isCipherGroup(f string) bool {
	for _, part := range strings.Split(f, "+") {
		if !openSSLGroups[part] {
			return false
		}
	}
	return true
}

// unavailableCipher recognises OpenSSL suite names that Go's TLS stack
// does not implement.
func unavailableCipher(name string) bool {
	if !validCipherName(name) {
		return false
	}
	for _, p := range []string{"DHE-", "EDH-", "ADH-", "AECDH-", "PSK-", "SRP-", "RSA-PSK-", "DHE-PSK-", "ECDHE-PSK-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, s := range []string{"CAMELLIA", "ARIA", "CCM", "RC4", "SEED", "IDEA", "NULL", "DES-CBC-", "EXP-"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func validCipherName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// CipherSuiteIDs returns Go's identifiers for names from ParseCipherSuites,
// skipping names it does not know.
func CipherSuiteIDs(names []string) []uint16 {
	if len(names) == 0 {
		return nil
	}
	ids := map[string]uint16{}
	for _, s := range tls.CipherSuites() {
		ids[s.Name] = s.ID
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids[s.Name] = s.ID
	}
	out := make([]uint16, 0, len(names))
	for _, n := range names {
		if id, ok := ids[n]; ok {
			out = append(out, id)
		}
	}
	return out
}

// SSLProtocols is the ConfigMap key ssl-protocols: the TLS versions the
// HTTPS listener accepts.
var SSLProtocols = Value[TLSVersions]{
	Key:   Key{Name: "ssl-protocols", Default: "TLSv1.2 TLSv1.3"},
	Parse: ParseTLSVersions,
}

// SSLCiphers is the ConfigMap key ssl-ciphers: the TLS 1.2 suites the HTTPS
// listener offers.
var SSLCiphers = Value[[]string]{
	Key:   Key{Name: "ssl-ciphers", Default: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256"},
	Parse: ParseCipherSuites,
}
