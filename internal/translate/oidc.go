package translate

import (
	"encoding/base64"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// oidcKeys are the strait.dev/oidc-* annotations other than the issuer,
// which mean nothing without it.
func oidcKeys() []annotations.Key {
	return []annotations.Key{
		annotations.OIDCClientID.Key, annotations.OIDCClientSecret.Key, annotations.OIDCCookieSecret.Key,
		annotations.OIDCScopes.Key, annotations.OIDCRedirectPath.Key, annotations.OIDCLogoutPath.Key,
		annotations.OIDCPostLogoutRedirect.Key, annotations.OIDCClaimHeaders.Key, annotations.OIDCGroupsClaim.Key,
		annotations.OIDCAllowedGroups.Key, annotations.OIDCRequiredClaims.Key, annotations.OIDCCookieName.Key,
		annotations.OIDCSessionMaxAge.Key,
	}
}

// oidcPolicy reads strait.dev/oidc-* and the Secrets they name. Login
// that cannot be set up as written fails closed: the Ingress's paths
// answer 503 rather than serve without authentication. Translate only
// reads the snapshot; the issuer is contacted by the data plane.
func (t *translator) oidcPolicy(ing *networkingv1.Ingress, ref model.ObjectRef, a map[string]string, bad func(error, string)) (o *model.OIDC, failClosed bool) {
	const closed = "the Ingress's paths answer 503 until it is fixed"
	p := annotations.StraitPrefix
	issuer, on, err := annotations.OIDCIssuer.Lookup(a, p)
	if err != nil {
		bad(err, closed)
		return nil, true
	}
	if !on {
		for _, k := range oidcKeys() {
			if _, present := a[p+k.Name]; present {
				bad(fmt.Errorf("%s%s is set without %soidc-issuer", p, k.Name, p), "it has no effect")
			}
		}
		return nil, false
	}
	o = &model.OIDC{Issuer: issuer}
	// Each value falls back to its registry default when absent; any
	// malformed one fails the whole policy.
	fail := false
	str := func(v *annotations.Value[string], dst *string) {
		if !oidcRead(a, v, dst, bad, closed) {
			fail = true
		}
	}
	str(&annotations.OIDCClientID, &o.ClientID)
	str(&annotations.OIDCRedirectPath, &o.RedirectPath)
	str(&annotations.OIDCLogoutPath, &o.LogoutPath)
	str(&annotations.OIDCPostLogoutRedirect, &o.PostLogoutRedirect)
	str(&annotations.OIDCGroupsClaim, &o.GroupsClaim)
	str(&annotations.OIDCCookieName, &o.CookieName)
	var clientRef, cookieRef string
	str(&annotations.OIDCClientSecret, &clientRef)
	str(&annotations.OIDCCookieSecret, &cookieRef)
	fail = !oidcRead(a, &annotations.OIDCScopes, &o.Scopes, bad, closed) || fail
	fail = !oidcRead(a, &annotations.OIDCAllowedGroups, &o.AllowedGroups, bad, closed) || fail
	fail = !oidcRead(a, &annotations.OIDCSessionMaxAge, &o.SessionMaxAge, bad, closed) || fail
	var headers []annotations.ClaimHeader
	var rules []annotations.ClaimRule
	fail = !oidcRead(a, &annotations.OIDCClaimHeaders, &headers, bad, closed) || fail
	fail = !oidcRead(a, &annotations.OIDCRequiredClaims, &rules, bad, closed) || fail
	if fail {
		return nil, true
	}
	for _, h := range headers {
		o.ClaimHeaders = append(o.ClaimHeaders, model.ClaimHeader{Claim: h.Claim, Header: h.Header})
	}
	for _, r := range rules {
		o.RequiredClaims = append(o.RequiredClaims, model.ClaimRule{Claim: r.Claim, Value: r.Value})
	}
	if o.ClientID == "" {
		bad(fmt.Errorf("%soidc-issuer needs %soidc-client-id", p, p), closed)
		return nil, true
	}
	if cookieRef == "" {
		bad(fmt.Errorf("%soidc-issuer needs %soidc-cookie-secret", p, p), closed)
		return nil, true
	}
	if o.RedirectPath == o.LogoutPath {
		bad(fmt.Errorf("%soidc-redirect-path and %soidc-logout-path are both %q", p, p, o.RedirectPath), closed)
		return nil, true
	}
	key, cookieName, ok := t.oidcSecret(ing, annotations.OIDCCookieSecret.Key, cookieRef, "cookie-secret", bad)
	if !ok {
		return nil, true
	}
	// What a Secret holds is the Secret's problem, not the Ingress's
	// (as for basic auth's users): a warning at admission.
	if o.CookieKey, err = cookieKey(key); err != nil {
		t.problem(ref, "metadata.annotations", "InvalidAuthSecret", "%s%s %q: key cookie-secret: %v; %s", p, annotations.OIDCCookieSecret.Name, cookieRef, err, closed)
		return nil, true
	}
	o.CookieSecretRef = cookieName
	if clientRef != "" {
		secret, secretName, ok := t.oidcSecret(ing, annotations.OIDCClientSecret.Key, clientRef, "client-secret", bad)
		if !ok {
			return nil, true
		}
		if strings.TrimSpace(string(secret)) == "" {
			t.problem(ref, "metadata.annotations", "InvalidAuthSecret", "%s%s %q: key client-secret is empty; %s", p, annotations.OIDCClientSecret.Name, clientRef, closed)
			return nil, true
		}
		o.ClientSecret, o.ClientSecretRef = strings.TrimSpace(string(secret)), secretName
	}
	o.SetFingerprint()
	for _, k := range []struct {
		key  annotations.Key
		path string
	}{{annotations.OIDCRedirectPath.Key, o.RedirectPath}, {annotations.OIDCLogoutPath.Key, o.LogoutPath}} {
		// Another Ingress of the host with the same login may serve it,
		// so this is a warning, not a refusal.
		if !ingressCovers(ing, k.path) {
			t.problem(ref, "metadata.annotations["+p+k.key.Name+"]", "OIDCPathNotRouted",
				"%s%s %q is not under a path of this Ingress: unless another Ingress of the host with the same login serves it, logins cannot complete; add a path that covers it (an Exact path is enough)", p, k.key.Name, k.path)
		}
	}
	return o, false
}

// ingressCovers reports whether every rule of an Ingress with paths has a
// path that matches path, so that the callback and logout reach the
// route that carries the policy on each of its hosts.
func ingressCovers(ing *networkingv1.Ingress, path string) bool {
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		covered := false
		for _, ip := range r.HTTP.Paths {
			p := ip.Path
			if p == "" {
				p = "/"
			}
			if ip.PathType != nil && *ip.PathType == networkingv1.PathTypeExact {
				covered = covered || p == path
				continue
			}
			p = strings.TrimRight(p, "/")
			covered = covered || p == "" || path == p || strings.HasPrefix(path, p+"/")
		}
		if !covered {
			return false
		}
	}
	return true
}

// oidcRead reads an oidc-* annotation into *dst, or its default when it
// is absent; it reports false when the value is malformed.
func oidcRead[T any](a map[string]string, v *annotations.Value[T], dst *T, bad func(error, string), closed string) bool {
	val, ok, err := v.Lookup(a, annotations.StraitPrefix)
	if err != nil {
		bad(err, closed)
		return false
	}
	if ok {
		*dst = val
		return true
	}
	if v.Default != "" {
		def, err := v.Parse(v.Default)
		if err != nil {
			// The registry's own default must parse; a test guards it.
			panic(v.Name + ": default does not parse: " + err.Error())
		}
		*dst = def
	}
	return true
}

// oidcSecret reads one key of a Secret named by an oidc-* annotation,
// with basic auth's rules for other namespaces.
func (t *translator) oidcSecret(ing *networkingv1.Ingress, k annotations.Key, sref, key string, bad func(error, string)) (data []byte, ref string, ok bool) {
	const closed = "the Ingress's paths answer 503 until it is fixed"
	ns, name, qualified := strings.Cut(sref, "/")
	if !qualified {
		ns, name = ing.Namespace, sref
	}
	what := fmt.Sprintf("%s%s %q: Secret %s/%s", annotations.StraitPrefix, k.Name, sref, ns, name)
	if ns != ing.Namespace && !t.settings.crossNamespace {
		bad(fmt.Errorf(`%s is in another namespace, which needs allow-cross-namespace-resources: "true" in the ConfigMap`, what), closed)
		return nil, "", false
	}
	s := t.secretObj(ns, name)
	if s == nil {
		bad(notFound("Secret", "%s not found", what), closed)
		return nil, "", false
	}
	data, ok = s.Data[key]
	if !ok {
		bad(fmt.Errorf("%s has no key %s", what, key), closed)
		return nil, "", false
	}
	return data, ns + "/" + name, true
}

// cookieKey accepts 32 raw bytes, or their standard or URL-safe base64
// (with or without padding). Anything else is refused rather than
// stretched: a short key would weaken every session.
func cookieKey(b []byte) ([]byte, error) {
	if len(b) == 32 {
		return b, nil
	}
	s := strings.TrimSpace(string(b))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, fmt.Errorf("must be 32 bytes, or their base64 (got %d bytes)", len(b))
}
