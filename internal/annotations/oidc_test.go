package annotations

import (
	"reflect"
	"testing"
)

func TestOIDCParsers(t *testing.T) {
	ok := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := func(name string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, v := range []string{"https://login.example.com", "http://10.0.0.1:5556/dex", "https://a.example/realms/x/"} {
		_, err := parseIssuer(v)
		ok(v, err)
	}
	for _, v := range []string{"login.example.com", "ftp://x", "https://", "https://a?b=1", "https://a#f", "https://u:p@a"} {
		_, err := parseIssuer(v)
		bad(v, err)
	}

	if s, err := parseScopes("openid, email  groups,email"); err != nil || !reflect.DeepEqual(s, []string{"openid", "email", "groups"}) {
		t.Errorf("scopes = %v, %v", s, err)
	}
	for _, v := range []string{"email profile", `openid "x"`, "openid a\\b"} {
		_, err := parseScopes(v)
		bad(v, err)
	}

	for _, v := range []string{"/oauth2/callback", "/cb"} {
		_, err := parseOIDCPath(v)
		ok(v, err)
	}
	for _, v := range []string{"", "/", "cb", "/a?b", "/a#b", "/a%2f", "/a b"} {
		_, err := parseOIDCPath(v)
		bad(v, err)
	}

	for _, v := range []string{"/bye", "https://example.com/bye?x=1"} {
		_, err := parsePostLogout(v)
		ok(v, err)
	}
	for _, v := range []string{"//evil.example", "javascript:alert(1)", "bye", "https://"} {
		_, err := parsePostLogout(v)
		bad(v, err)
	}

	h, err := parseClaimHeaders("email:X-Auth-Email, groups:x-auth-groups ,https://example.com/role:X-Role")
	want := []ClaimHeader{{"email", "X-Auth-Email"}, {"groups", "X-Auth-Groups"}, {"https://example.com/role", "X-Role"}}
	if err != nil || !reflect.DeepEqual(h, want) {
		t.Errorf("claim headers = %v, %v", h, err)
	}
	for _, v := range []string{"email", "email:", ":X-A", "email:X A", "email:X-A,sub:x-a", "em ail:X-A", ","} {
		_, err := parseClaimHeaders(v)
		bad(v, err)
	}

	r, err := parseClaimRules("email_verified=true, hd = example.com")
	if err != nil || !reflect.DeepEqual(r, []ClaimRule{{"email_verified", "true"}, {"hd", "example.com"}}) {
		t.Errorf("claim rules = %v, %v", r, err)
	}
	for _, v := range []string{"email_verified", "=x", "a=", "a b=c", ","} {
		_, err := parseClaimRules(v)
		bad(v, err)
	}

	for _, v := range []string{"_strait_oidc", "s.id-1"} {
		_, err := parseCookieName(v)
		ok(v, err)
	}
	for _, v := range []string{"a b", "a;b", "a=b", "é", "", "x123456789012345678901234567890123456789012345678901234567890abcde"} {
		_, err := parseCookieName(v)
		bad(v, err)
	}

	if n, err := parseSessionMaxAge("1d12h"); err != nil || n != 129600 {
		t.Errorf("1d12h = %d, %v", n, err)
	}
	for _, v := range []string{"59", "30s", "-1", "1x"} {
		_, err := parseSessionMaxAge(v)
		bad(v, err)
	}
	_, err = parseNonEmptyList(" , ")
	bad("empty groups", err)
}

// TestOIDCKeysHaveStraitPrefix keeps Strait's own annotations apart from
// ingress-nginx's: they are read only under strait.dev/.
func TestOIDCKeysHaveStraitPrefix(t *testing.T) {
	for _, a := range implemented() {
		k := a.Describe()
		if len(k.Name) > 5 && k.Name[:5] == "oidc-" && k.Prefix != StraitPrefix {
			t.Errorf("%s has prefix %q", k.Name, k.Prefix)
		}
	}
	m := map[string]string{Prefix + "oidc-issuer": "https://a.example"}
	if _, ok, _ := OIDCIssuer.Lookup(m, StraitPrefix); ok {
		t.Error("oidc-issuer read under the ingress-nginx prefix")
	}
}
