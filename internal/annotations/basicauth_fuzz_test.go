package annotations

import (
	"strings"
	"testing"
)

func FuzzParseBasicAuth(f *testing.F) {
	for _, s := range []string{"basic", " basic ", "digest", "Basic", "basicx", "auth-file", "auth-map", "htpasswd",
		"ns/name", "name", "a.b-c", "ns/", "/name", "a/b/c", "UPPER", "-x", "x-", "a..b", "Protected Area",
		"realm \"x\"", "a\r\nb", "ünïcode", strings.Repeat("a", 254)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []*Value[string]{&AuthType, &AuthSecretType} {
			if got, err := v.Parse(s); err == nil && got != strings.TrimSpace(s) {
				t.Errorf("%s: Parse(%q) = %q, want the trimmed value", v.Name, s, got)
			}
		}
		if got, err := AuthType.Parse(s); err == nil && got != AuthTypeBasic && got != AuthTypeDigest {
			t.Errorf("auth-type: Parse(%q) = %q", s, got)
		}
		if got, err := AuthSecretType.Parse(s); err == nil && got != AuthSecretTypeFile && got != AuthSecretTypeMap {
			t.Errorf("auth-secret-type: Parse(%q) = %q", s, got)
		}
		if ref, err := AuthSecret.Parse(s); err == nil {
			// The reference names one object: at most one slash, only
			// the characters of Kubernetes names.
			if strings.Count(ref, "/") > 1 || strings.Trim(ref, "abcdefghijklmnopqrstuvwxyz0123456789-./") != "" {
				t.Errorf("auth-secret: Parse(%q) = %q", s, ref)
			}
			ns, name, _ := strings.Cut(ref, "/")
			if ns == "" || name == "" && strings.Contains(ref, "/") || len(name) > 253 {
				t.Errorf("auth-secret: Parse(%q) = %q, with an empty or long part", s, ref)
			}
		}
		if realm, err := AuthRealm.Parse(s); err == nil {
			// The realm goes between quotes in a header: no quote, no
			// backslash, no control character.
			if strings.ContainsAny(realm, "\"\\\r\n\t\x00") || realm != strings.TrimSpace(s) {
				t.Errorf("auth-realm: Parse(%q) = %q", s, realm)
			}
			for _, c := range realm {
				if c > 0x7e || c < 0x20 {
					t.Errorf("auth-realm: Parse(%q) = %q holds %q", s, realm, c)
				}
			}
		}
	})
}
