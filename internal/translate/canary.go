package translate

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// canaryValues are the annotations that shape a canary's traffic; they
// mean nothing without canary: "true".
func canaryValues() []string {
	return []string{annotations.CanaryByHeader.Name, annotations.CanaryByHeaderValue.Name, annotations.CanaryByHeaderPattern.Name,
		annotations.CanaryByCookie.Name, annotations.CanaryWeight.Name, annotations.CanaryWeightTotal.Name}
}

// isCanary reports whether ing is a canary Ingress. A malformed canary
// value, or canary-* annotations without canary: "true", are reported; the
// Ingress is then an ordinary one, as in ingress-nginx.
func (t *translator) isCanary(ing *networkingv1.Ingress) bool {
	ref := ingressRef(ing)
	on, _, err := annotations.Canary.Lookup(ing.Annotations, annotations.Prefix)
	if err != nil {
		t.problem(ref, "metadata.annotations", "InvalidAnnotation", "%v; the Ingress is not a canary", err)
	}
	if on {
		return true
	}
	for _, k := range canaryValues() {
		if _, ok := ing.Annotations[annotations.Prefix+k]; ok {
			t.problem(ref, "metadata.annotations["+annotations.Prefix+k+"]", "CanaryNotEnabled",
				"%s%s has no effect without %scanary: \"true\"", annotations.Prefix, k, annotations.Prefix)
		}
	}
	return false
}

// canaryKeep are the annotations a canary Ingress still honours: they
// configure its Service's upstream, not the location (catalogue 1.4).
func canaryKeep(name string) bool {
	return strings.HasPrefix(name, "canary") || name == "load-balance" || strings.HasPrefix(name, "upstream-hash-by") ||
		strings.HasPrefix(name, "affinity") || strings.HasPrefix(name, "session-cookie")
}

// canaryIngress attaches the paths of a canary Ingress to the routes of
// the primary Ingresses with the same host, path and pathType. It runs
// after every primary was read, whatever the Ingresses' ages.
func (t *translator) canaryIngress(ing *networkingv1.Ingress) {
	ref := ingressRef(ing)
	if !t.admit(ing, ref) {
		return
	}
	t.ingressTLS(ing)
	a := ing.Annotations
	t.snippets(a, ref)
	var ignored []string
	for k := range a {
		if name, ok := strings.CutPrefix(k, annotations.Prefix); ok && !canaryKeep(name) && !strings.HasSuffix(name, "-snippet") {
			ignored = append(ignored, name)
		}
	}
	if len(ignored) > 0 {
		slices.Sort(ignored)
		t.problem(ref, "metadata.annotations", "CanaryAnnotationIgnored",
			"%s: ignored on a canary Ingress, whose requests get the primary Ingress's location settings", strings.Join(ignored, ", "))
	}
	if ing.Spec.DefaultBackend != nil {
		t.problem(ref, "spec.defaultBackend", "CanaryDefaultBackendIgnored", "a canary Ingress's default backend is not used")
	}
	rule := t.canaryRule(a, ref)
	for i, r := range ing.Spec.Rules {
		hb := t.catchAll
		if r.Host != "" {
			host, err := normalizeHost(r.Host)
			if err != nil {
				t.problem(ref, fmt.Sprintf("spec.rules[%d].host", i), "InvalidHost", "host %q: %v; rule ignored", r.Host, err)
				continue
			}
			hb = t.hosts[host]
		}
		if r.HTTP == nil {
			continue
		}
		for j := range r.HTTP.Paths {
			p := &r.HTTP.Paths[j]
			l := loc{rule: i, path: j}
			k, ok := t.pathKey(ref, l, p)
			if !ok {
				continue
			}
			host := r.Host
			if host == "" {
				host = model.CatchAllHost
			}
			idx, found := 0, false
			if hb != nil {
				idx, found = hb.index[k]
			}
			if !found {
				t.problem(ref, l.field(".path"), "CanaryWithoutPrimary",
					"no Ingress without canary serves %s path %q on host %q; the canary path is ignored", k.typ, k.path, host)
				continue
			}
			rt := &hb.routes[idx]
			if c := rt.Policy.Canary; c != nil {
				t.problem(ref, l.field(".path"), "CanaryConflict",
					"%s path %q on host %q already has the canary %s (older, or first by namespace/name); only one canary per path is used, this one is ignored", k.typ, k.path, host, c.Source)
				continue
			}
			if rt.Action.Backend == "" {
				t.problem(ref, l.field(".path"), "CanaryPrimaryUnavailable",
					"the primary %s answers %s path %q on host %q with %d itself; the canary path is ignored", rt.Source, k.typ, k.path, host, rt.Action.Status)
				continue
			}
			act := t.backend(ref, ing.Namespace, &p.Backend, l, t.backends[rt.Action.Backend].Protocol)
			if act.Backend == "" {
				t.problem(ref, l.field(".backend"), "CanaryBackendUnavailable",
					"the canary's backend cannot be used; the primary %s serves every request of %s path %q on host %q", rt.Source, k.typ, k.path, host)
				continue
			}
			if act.Backend == rt.Action.Backend {
				t.problem(ref, l.field(".backend"), "CanarySameBackend",
					"the canary's backend %s is the primary's own; the canary path is ignored", act.Backend)
				continue
			}
			c := rule
			c.Backend, c.Source = act.Backend, ref
			rt.Policy.Canary = &c
		}
	}
}

// canaryRule reads the canary-* annotations. A malformed value is
// reported and that rule left out.
func (t *translator) canaryRule(a map[string]string, ref model.ObjectRef) model.Canary {
	bad := func(err error, what string) {
		t.problem(ref, "metadata.annotations", annotationReason(err), "%v; %s", err, what)
	}
	c := model.Canary{WeightTotal: 100}
	read(a, &annotations.CanaryByHeader, &c.Header, bad, "no header rule")
	read(a, &annotations.CanaryByHeaderValue, &c.HeaderValue, bad, "the header's always and never apply")
	read(a, &annotations.CanaryByHeaderPattern, &c.HeaderPattern, bad, "the pattern is ignored, the header's always and never apply")
	read(a, &annotations.CanaryByCookie, &c.Cookie, bad, "no cookie rule")
	read(a, &annotations.CanaryWeight, &c.Weight, bad, "using weight 0")
	total := 0
	read(a, &annotations.CanaryWeightTotal, &total, bad, "using 100")
	if total > 100 {
		c.WeightTotal = total
	}
	// Keep the model canonical: what has no effect is not there.
	if c.Header == "" {
		c.HeaderValue, c.HeaderPattern = "", ""
	}
	if c.HeaderValue != "" {
		c.HeaderPattern = ""
	}
	return c
}

// isDefaultNextUpstream reports proxy-next-upstream's default: "error
// timeout", 3 tries, no time limit.
func isDefaultNextUpstream(nu *model.NextUpstream) bool {
	return slices.Equal(nu.On, []string{"error", "timeout"}) && !nu.NonIdempotent && nu.Tries == 3 && nu.TimeoutSeconds == 0
}

// readNextUpstream reads the proxy-next-upstream ConfigMap keys and
// retry-non-idempotent.
func (t *translator) readNextUpstream(ref model.ObjectRef, data map[string]string) (nu model.NextUpstream, nonIdempotent bool) {
	on := configDefault(t, ref, data, &annotations.ProxyNextUpstream)
	nonIdempotent = t.configBool(ref, data, "retry-non-idempotent", false)
	nu.On, nu.NonIdempotent = on.Conditions, on.NonIdempotent || nonIdempotent
	nu.Tries = configDefault(t, ref, data, &annotations.ProxyNextUpstreamTries)
	nu.TimeoutSeconds = configDefault(t, ref, data, &annotations.ProxyNextUpstreamTimeout)
	return nu, nonIdempotent
}

// nextUpstream reads an Ingress's proxy-next-upstream annotations over the
// ConfigMap's; nil means the default policy, which both engines apply.
func (t *translator) nextUpstream(a map[string]string, bad func(error, string)) *model.NextUpstream {
	st := &t.settings
	nu := st.nextUpstream
	if on, ok, err := annotations.ProxyNextUpstream.Lookup(a, annotations.Prefix); err != nil {
		bad(err, "using the default")
	} else if ok {
		nu.On, nu.NonIdempotent = on.Conditions, on.NonIdempotent || st.retryNonIdempotent
	}
	read(a, &annotations.ProxyNextUpstreamTries, &nu.Tries, bad, "using the default")
	read(a, &annotations.ProxyNextUpstreamTimeout, &nu.TimeoutSeconds, bad, "using the default")
	if isDefaultNextUpstream(&nu) {
		return nil
	}
	return &nu
}
