package translate

import (
	"slices"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// External authentication (catalogue section 1.6): an Ingress's own
// auth-url group, else the ConfigMap's global-auth-* group unless the
// Ingress opts out with enable-global-auth "false"; neither for paths
// under no-auth-locations.

// defaultNoAuthLocation is no-auth-locations' default.
const defaultNoAuthLocation = "/.well-known/acme-challenge"

// globalAuth is the ConfigMap's external authentication.
type globalAuth struct {
	// auth is nil when global-auth-url is unset.
	auth *model.ExternalAuth
	// broken is set when a global-auth-* key is malformed: the paths
	// global auth would cover answer 503 rather than go unauthenticated.
	broken bool
	// noAuthLocations are Ingress path prefixes never authenticated.
	noAuthLocations []string
}

// ingressAuth is what an Ingress's annotations say about external auth.
type ingressAuth struct {
	// own is the Ingress's auth-url group; nil without auth-url.
	own *model.ExternalAuth
	// global is enable-global-auth.
	global bool
}

// readGlobalAuth reads global-auth-* and no-auth-locations.
func (t *translator) readGlobalAuth(ref model.ObjectRef, data map[string]string) globalAuth {
	g := globalAuth{noAuthLocations: []string{defaultNoAuthLocation}}
	if v, ok := data["no-auth-locations"]; ok {
		g.noAuthLocations, _ = annotations.ParseList(v)
	}
	g.auth, g.broken = readAuthGroup(data, true, func(key string, err error, what string) {
		t.problem(ref, "data."+key, "InvalidConfiguration", "%v; %s", err, what)
	})
	return g
}

// ingressAuth reads an Ingress's auth-url group and enable-global-auth. A
// malformed value that would weaken authentication makes failClosed true.
func (t *translator) ingressAuth(a map[string]string, bad func(error, string)) (ia ingressAuth, failClosed bool) {
	ia.global = true
	read(a, &annotations.EnableGlobalAuth, &ia.global, bad, "using the default (true)")
	ia.own, failClosed = readAuthGroup(a, false, func(_ string, err error, what string) { bad(err, what) })
	return ia, failClosed
}

// authFor returns the external auth of a path of an Ingress, by its
// Ingress path (prefix match against no-auth-locations, as ingress-nginx
// does); broken reports a malformed global auth that covers the path.
func (t *translator) authFor(ia ingressAuth, ingressPath string) (ea *model.ExternalAuth, broken bool) {
	g := &t.settings.auth
	if t.authExempt(ingressPath) {
		return nil, false
	}
	if ia.own != nil {
		return ia.own, false
	}
	if !ia.global {
		return nil, false
	}
	return g.auth, g.broken
}

// readAuthGroup reads auth-url and its companions from annotations, or
// global-auth-url and its companions from the ConfigMap (global). Values
// whose loss would weaken authentication (the URL, method, response
// headers, request redirect, always-set-cookie) make failClosed true;
// the sign-in URL and its parameter fall back as in ingress-nginx.
func readAuthGroup(m map[string]string, global bool, report func(key string, err error, what string)) (ea *model.ExternalAuth, failClosed bool) {
	closed := "the Ingress's paths answer 503 until it is fixed"
	if global {
		closed = "the paths global-auth-url covers answer 503 until it is fixed"
	}
	name := func(k annotations.Key) string {
		if global {
			return "global-" + k.Name
		}
		return annotations.Prefix + k.Name
	}
	u, ok, err := lookupAuth(m, global, &annotations.AuthURL)
	if err != nil {
		report(name(annotations.AuthURL.Key), err, closed)
		return nil, true
	}
	if !ok {
		return nil, false
	}
	ea = &model.ExternalAuth{URL: templateParts(u)}
	fail := func(k annotations.Key, err error) {
		report(name(k), err, closed)
		failClosed = true
	}
	if v, ok, err := lookupAuth(m, global, &annotations.AuthMethod); err != nil {
		fail(annotations.AuthMethod.Key, err)
	} else if ok && v != "GET" {
		ea.Method = v
	}
	if v, ok, err := lookupAuth(m, global, &annotations.AuthSignin); err != nil {
		report(name(annotations.AuthSignin.Key), err, "no sign-in redirect: a 401 goes to the client")
	} else if ok {
		ea.SignIn = templateParts(v)
		ea.SignInRedirectParam = "rd"
		if p, ok, err := lookupAuth(m, global, &annotations.AuthSigninRedirectParam); err != nil {
			report(name(annotations.AuthSigninRedirectParam.Key), err, "using the default rd")
		} else if ok {
			ea.SignInRedirectParam = p
		}
	}
	if v, ok, err := lookupAuth(m, global, &annotations.AuthResponseHeaders); err != nil {
		fail(annotations.AuthResponseHeaders.Key, err)
	} else if ok {
		// Order does not matter; sorted, the model is canonical.
		ea.ResponseHeaders = slices.Sorted(slices.Values(v))
	}
	if v, ok, err := lookupAuth(m, global, &annotations.AuthRequestRedirect); err != nil {
		fail(annotations.AuthRequestRedirect.Key, err)
	} else if ok {
		ea.RequestRedirect = v
	}
	if v, ok, err := lookupAuth(m, global, &annotations.AuthAlwaysSetCookie); err != nil {
		fail(annotations.AuthAlwaysSetCookie.Key, err)
	} else if ok {
		ea.AlwaysSetCookie = v
	}
	if failClosed {
		return nil, true
	}
	return ea, false
}

// lookupAuth reads an annotation, or its global- ConfigMap counterpart.
func lookupAuth[T any](m map[string]string, global bool, v *annotations.Value[T]) (T, bool, error) {
	if !global {
		return v.Lookup(m, annotations.Prefix)
	}
	g := annotations.Value[T]{Key: annotations.Key{Name: "global-" + v.Name}, Parse: v.Parse}
	return g.Lookup(m, "")
}

func templateParts(t annotations.URLTemplate) []model.TemplatePart {
	out := make([]model.TemplatePart, len(t.Parts))
	for i, p := range t.Parts {
		out[i] = model.TemplatePart{Text: p.Text, Var: string(p.Var)}
	}
	return out
}
