package annotations

import (
	"strings"
	"testing"
)

func FuzzParseTLSVersions(f *testing.F) {
	for _, s := range []string{"TLSv1.2 TLSv1.3", "TLSv1.2", "TLSv1 TLSv1.1 TLSv1.2", "tlsv1.3", "TLSv1.3,TLSv1.2", "SSLv3 TLSv1.2",
		"", " ", "TLSv1.4", "TLSv1  TLSv1.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTLSVersions(s)
		if err != nil {
			if v != (TLSVersions{}) {
				t.Errorf("ParseTLSVersions(%q) = %v with error %v", s, v, err)
			}
			return
		}
		lo, hi := TLSVersionID(v.Min), TLSVersionID(v.Max)
		if lo == 0 || hi == 0 || lo > hi {
			t.Fatalf("ParseTLSVersions(%q) = %v: not a range of known versions", s, v)
		}
		// The range re-parses to itself.
		if back, err := ParseTLSVersions(v.Min + " " + v.Max); err != nil || back != v {
			t.Errorf("ParseTLSVersions(%q) = %v, but its bounds re-parse as %v, %v", s, v, back, err)
		}
	})
}

func FuzzParseCipherSuites(f *testing.F) {
	for _, s := range []string{SSLCiphers.Default, "DEFAULT", "HIGH:!aNULL:!MD5", "ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA:AES256-SHA",
		"ECDHE+AESGCM:@STRENGTH", "DHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES256-GCM-SHA384", "bogus", "", ":::",
		"!RC4", "RC4-SHA", "TLS_BOGUS", "ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-CHACHA20-POLY1305", "@SECLEVEL=2:HIGH"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ParseCipherSuites(s)
		if err != nil {
			if names != nil {
				t.Errorf("ParseCipherSuites(%q) = %v with error %v", s, names, err)
			}
			return
		}
		// Every name is one Go knows, in order, without repeats.
		if ids := CipherSuiteIDs(names); len(ids) != len(names) {
			t.Fatalf("ParseCipherSuites(%q) = %v: Go knows only %d of them", s, names, len(ids))
		}
		for i := 1; i < len(names); i++ {
			if names[i-1] >= names[i] {
				t.Fatalf("ParseCipherSuites(%q) = %v: not sorted and unique", s, names)
			}
		}
		// The separators are interchangeable.
		other := strings.NewReplacer(":", ",", ",", ":").Replace(s)
		if again, err := ParseCipherSuites(other); err != nil || strings.Join(again, " ") != strings.Join(names, " ") {
			t.Errorf("ParseCipherSuites(%q) = %v but ParseCipherSuites(%q) = %v, %v", s, names, other, again, err)
		}
	})
}
