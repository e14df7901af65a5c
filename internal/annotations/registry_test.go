package annotations

import (
	"regexp"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/golden"
)

// TestDocsUpToDate keeps docs/annotations.md generated from the registry;
// regenerate it with `go test ./internal/annotations -update`.
func TestDocsUpToDate(t *testing.T) {
	golden.Check(t, "../../docs/annotations.md", Markdown(All()))
}

// riskList is ingress-nginx's annotations-risk list (v1.15): the 137
// annotations the registry must describe.
var riskList = strings.Fields(`
affinity affinity-canary-behavior affinity-mode allowlist-source-range app-root
auth-always-set-cookie auth-cache-duration auth-cache-key auth-keepalive
auth-keepalive-requests auth-keepalive-share-vars auth-keepalive-timeout auth-method
auth-proxy-set-headers auth-realm auth-request-redirect auth-response-headers auth-secret
auth-secret-type auth-signin auth-signin-redirect-param auth-snippet auth-tls-error-page
auth-tls-match-cn auth-tls-pass-certificate-to-upstream auth-tls-secret
auth-tls-verify-client auth-tls-verify-depth auth-type auth-url backend-protocol canary
canary-by-cookie canary-by-header canary-by-header-pattern canary-by-header-value
canary-weight canary-weight-total client-body-buffer-size configuration-snippet
connection-proxy-header cors-allow-credentials cors-allow-headers cors-allow-methods
cors-allow-origin cors-expose-headers cors-max-age custom-headers custom-http-errors
default-backend denylist-source-range disable-proxy-intercept-errors enable-access-log
enable-cors enable-global-auth enable-modsecurity enable-opentelemetry
enable-owasp-core-rules enable-rewrite-log fastcgi-index fastcgi-params-configmap
force-ssl-redirect from-to-www-redirect http2-push-preload limit-allowlist
limit-burst-multiplier limit-connections limit-rate limit-rate-after limit-rpm limit-rps
load-balance mirror-host mirror-request-body mirror-target modsecurity-snippet
modsecurity-transaction-id opentelemetry-operation-name opentelemetry-trust-incoming-span
permanent-redirect permanent-redirect-code preserve-trailing-slash proxy-body-size
proxy-buffer-size proxy-buffering proxy-buffers-number proxy-busy-buffers-size
proxy-connect-timeout proxy-cookie-domain proxy-cookie-path proxy-http-version
proxy-max-temp-file-size proxy-next-upstream proxy-next-upstream-timeout
proxy-next-upstream-tries proxy-read-timeout proxy-redirect-from proxy-redirect-to
proxy-request-buffering proxy-send-timeout proxy-ssl-ciphers proxy-ssl-name
proxy-ssl-protocols proxy-ssl-secret proxy-ssl-server-name proxy-ssl-verify
proxy-ssl-verify-depth relative-redirects rewrite-target satisfy server-alias
server-snippet service-upstream session-cookie-change-on-failure
session-cookie-conditional-samesite-none session-cookie-domain session-cookie-expires
session-cookie-max-age session-cookie-name session-cookie-partitioned session-cookie-path
session-cookie-samesite session-cookie-secure ssl-ciphers ssl-passthrough
ssl-prefer-server-ciphers ssl-redirect stream-snippet temporal-redirect
temporal-redirect-code upstream-hash-by upstream-hash-by-subset
upstream-hash-by-subset-size upstream-vhost use-port-in-redirects use-regex
x-forwarded-prefix
`)

var keyName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestRegistryConsistent(t *testing.T) {
	c := All()

	if len(riskList) != 137 {
		t.Fatalf("riskList has %d names, want 137", len(riskList))
	}
	if len(c.Annotations) < 137 {
		t.Errorf("%d annotations, want at least the 137 of ingress-nginx", len(c.Annotations))
	}
	for _, n := range riskList {
		if k, ok := c.Annotation(n); !ok || k.Name != n {
			t.Errorf("annotation %s of ingress-nginx's risk list is missing", n)
		}
	}
	for _, alias := range []struct{ alias, canonical string }{
		{"whitelist-source-range", "allowlist-source-range"},
		{"limit-whitelist", "limit-allowlist"},
	} {
		if k, ok := c.Annotation(alias.alias); !ok || k.Name != alias.canonical {
			t.Errorf("%s should be an alias of %s", alias.alias, alias.canonical)
		}
	}

	checkName := func(kind, n string) {
		t.Helper()
		if strings.Contains(n, Prefix) || strings.Contains(n, strings.TrimSuffix(Prefix, "/")) {
			t.Errorf("%s %q contains the prefix", kind, n)
		}
		if strings.IndexFunc(n, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }) >= 0 {
			t.Errorf("%s %q contains whitespace", kind, n)
		}
		if !keyName.MatchString(n) {
			t.Errorf("%s %q is not lower-case words joined by -", kind, n)
		}
	}
	checkSupport := func(kind string, k Key) {
		t.Helper()
		if k.Doc == "" {
			t.Errorf("%s %s has no Doc", kind, k.Name)
		}
		switch k.Support {
		case Supported:
		case Differs, Ignored:
			if k.Notes == "" {
				t.Errorf("%s %s is %q but has no Notes saying how or why", kind, k.Name, k.Support)
			}
		case Unsupported:
			if k.Notes == "" && k.Doc == "" {
				t.Errorf("%s %s is unsupported and has neither Notes nor Doc", kind, k.Name)
			}
		default:
			t.Errorf("%s %s has unknown Support %q", kind, k.Name, k.Support)
		}
		if k.Risk < RiskLow || k.Risk > RiskCritical {
			t.Errorf("%s %s has unknown Risk %d", kind, k.Name, k.Risk)
		}
	}

	cms := map[string]Key{}
	for _, k := range c.ConfigMapKeys {
		checkName("ConfigMap key", k.Name)
		checkSupport("ConfigMap key", k)
		if _, dup := cms[k.Name]; dup {
			t.Errorf("ConfigMap key %s is listed twice", k.Name)
		}
		cms[k.Name] = k
		if k.Scope != "" || k.ConfigMapKey != "" || len(k.Aliases) != 0 {
			t.Errorf("ConfigMap key %s sets Scope, ConfigMapKey or Aliases, which are for annotations", k.Name)
		}
	}

	names := map[string]string{}
	for _, k := range c.Annotations {
		checkSupport("annotation", k)
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			checkName("annotation", n)
			if other, dup := names[n]; dup {
				t.Errorf("annotation name %s is used by %s and %s", n, other, k.Name)
			}
			names[n] = k.Name
		}
		switch k.Scope {
		case ScopeLocation, ScopeHost, ScopeBackend, ScopeIngress:
		default:
			t.Errorf("annotation %s has unknown Scope %q", k.Name, k.Scope)
		}
		if strings.HasSuffix(k.Name, "-snippet") && (k.Risk != RiskCritical || k.Support != Unsupported) {
			t.Errorf("annotation %s is %v and %q; every snippet must be Critical and unsupported", k.Name, k.Risk, k.Support)
		}
		if k.ConfigMapKey != "" {
			cm, ok := cms[k.ConfigMapKey]
			switch {
			case !ok:
				t.Errorf("annotation %s names ConfigMap key %s, which is not in the registry", k.Name, k.ConfigMapKey)
			case k.Default != "" && k.Default != cm.Default:
				t.Errorf("annotation %s defaults to %q but its ConfigMap key %s to %q", k.Name, k.Default, cm.Name, cm.Default)
			}
		}
	}
}

func TestOtherAnnotationsSorted(t *testing.T) {
	for _, keys := range [][]Key{otherAnnotations(), configMapKeys()} {
		for i := 1; i < len(keys); i++ {
			if keys[i-1].Name >= keys[i].Name {
				t.Errorf("%s is listed after %s; keep the table in alphabetical order", keys[i].Name, keys[i-1].Name)
			}
		}
	}
}

func TestMarkdownEscapesCells(t *testing.T) {
	md := string(Markdown(Catalogue{Annotations: []Key{{
		Name: "x", Scope: ScopeLocation, Support: Unsupported, Default: "a|b",
		Doc: "one | two <b>\nthree *", Notes: "n|m",
	}}}))
	want := "| `x` | location | Low | `a\\|b` | not supported | one \\| two &lt;b&gt; three \\*<br>**Note:** n\\|m |\n"
	if !strings.Contains(md, want) {
		t.Errorf("row not rendered as\n%s\nin\n%s", want, md)
	}
}
