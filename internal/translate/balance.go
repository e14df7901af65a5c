package translate

import (
	"errors"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// Backend selection (catalogue sections 1.2, 1.5 and 3.6) lives on the
// upstream, a Service port shared by every path that uses it:
//   - load-balance, upstream-hash-by* and service-upstream come from the
//     oldest Ingress that references the Service port;
//   - affinity and affinity-mode from the oldest Ingress that sets
//     affinity;
//   - the cookie's attributes from the newest Ingress that sets affinity.
// The balancer is then chosen with ingress-nginx's precedence: affinity,
// then upstream-hash-by, then load-balance.

// balanceSettings are an Ingress's backend-selection annotations over the
// ConfigMap defaults.
type balanceSettings struct {
	loadBalance     string
	serviceUpstream bool
	hashBy          *model.HashBy
	// subset and subsetSize are upstream-hash-by-subset(-size).
	subset     bool
	subsetSize int
	// affinity is nil without affinity: cookie.
	affinity *model.Affinity
	// tuned is set when the Ingress has backend-selection annotations
	// (see balanceTuned).
	tuned bool
}

// balanceState collects one backend's settings while Ingresses are read
// oldest first.
type balanceState struct {
	fixed       bool // the first referencing Ingress has set what follows
	tuned       bool // by annotations, rather than the ConfigMap's defaults
	loadBalance string
	hashBy      *model.HashBy
	affinity    *model.Affinity
}

// readBalanceDefaults reads the ConfigMap keys that default the
// backend-selection annotations.
func (t *translator) readBalanceDefaults(ref model.ObjectRef, data map[string]string) balanceSettings {
	d := balanceSettings{
		loadBalance:     configDefault(t, ref, data, &annotations.LoadBalance),
		serviceUpstream: configDefault(t, ref, data, &annotations.ServiceUpstream),
		hashBy:          configDefault(t, ref, data, &annotations.UpstreamHashBy),
		subset:          configDefault(t, ref, data, &annotations.UpstreamHashBySubset),
		subsetSize:      configDefault(t, ref, data, &annotations.UpstreamHashBySubsetSize),
	}
	return d
}

// ingressBalance reads an Ingress's backend-selection annotations.
// Values ingress-nginx rejects (the whole Ingress) fail it closed.
func (t *translator) ingressBalance(a map[string]string, useRegex bool, bad func(error, string)) (b balanceSettings, failClosed bool) {
	b = t.settings.balance
	b.tuned = balanceTuned(a)
	const closed = "the Ingress's paths answer 503 until it is fixed"
	failClosed = read(a, &annotations.LoadBalance, &b.loadBalance, bad, closed)
	failClosed = read(a, &annotations.UpstreamHashBy, &b.hashBy, bad, closed) || failClosed
	failClosed = read(a, &annotations.UpstreamHashBySubset, &b.subset, bad, closed) || failClosed
	failClosed = read(a, &annotations.UpstreamHashBySubsetSize, &b.subsetSize, bad, closed) || failClosed
	if b.hashBy != nil {
		// A copy: the ConfigMap's expression is shared by every Ingress.
		h := *b.hashBy
		h.SubsetSize = 0
		if b.subset {
			h.SubsetSize = b.subsetSize
		}
		b.hashBy = &h
	}
	read(a, &annotations.ServiceUpstream, &b.serviceUpstream, bad, "using the default")

	var kind string
	if read(a, &annotations.Affinity, &kind, bad, "no affinity") || kind == "" {
		b.affinity = nil
		return b, failClosed
	}
	af := &model.Affinity{Mode: model.AffinityBalanced, Cookie: model.SessionCookie{Name: annotations.SessionCookieName.Default}}
	mode := string(af.Mode)
	read(a, &annotations.AffinityMode, &mode, bad, "using balanced")
	af.Mode = model.AffinityMode(mode)
	read(a, &annotations.SessionCookieChangeOnFailure, &af.ChangeOnFailure, bad, "using false")
	c := &af.Cookie
	read(a, &annotations.SessionCookieName, &c.Name, bad, "using "+c.Name)
	read(a, &annotations.SessionCookiePath, &c.Path, bad, "using the Ingress path")
	read(a, &annotations.SessionCookieDomain, &c.Domain, bad, "no Domain")
	read(a, &annotations.SessionCookieSameSite, &c.SameSite, bad, "no SameSite")
	read(a, &annotations.SessionCookieConditionalSameSiteNone, &c.ConditionalSameSiteNone, bad, "using false")
	if v, ok, err := annotations.SessionCookieSecure.Lookup(a, annotations.Prefix); err != nil {
		bad(err, "Secure follows the request's TLS")
	} else if ok {
		c.Secure = &v
	}
	read(a, &annotations.SessionCookieExpires, &c.Expires, bad, "no Expires")
	read(a, &annotations.SessionCookieMaxAge, &c.MaxAge, bad, "no Max-Age")
	if useRegex && c.Path == "" {
		bad(errRegexCookiePath, "the cookie's Path is the path regex as written")
	}
	b.affinity = af
	return b, failClosed
}

// balanceTuned reports whether annotations a say anything about the
// selection of backends. Ingresses that do not all decide the same for a
// Service: the ConfigMap's defaults (see Builder).
func balanceTuned(a map[string]string) bool {
	for k := range a {
		name, ok := strings.CutPrefix(k, annotations.Prefix)
		if !ok {
			continue
		}
		for _, p := range []string{"load-balance", "upstream-hash-by", "service-upstream", "affinity", "session-cookie"} {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return false
}

// errRegexCookiePath is ingress-nginx's warning for affinity with
// use-regex and no session-cookie-path.
var errRegexCookiePath = errors.New(annotations.Prefix + "session-cookie-path must be set with use-regex and affinity")

// applyBalance records an Ingress's settings on a backend its path uses
// and returns the route's affinity cookie path: the Ingress path as
// written when the Ingress sets affinity, else "".
func (t *translator) applyBalance(ref model.ObjectRef, name string, b *balanceSettings, ingressPath string) string {
	be := t.backends[name]
	if be == nil {
		return ""
	}
	st := t.balance[name]
	if st == nil {
		st = &balanceState{}
		t.balance[name] = st
	}
	if !st.fixed {
		// A service-upstream decision (even the ConfigMap's) counts as
		// tuned: the Builder then keeps the Ingresses using the Service
		// together, as the decision is not the plain default.
		st.fixed, st.tuned = true, b.tuned || b.serviceUpstream
		st.loadBalance, st.hashBy = b.loadBalance, b.hashBy
		if b.serviceUpstream {
			t.serviceUpstream(ref, be)
		}
	}
	if b.affinity == nil {
		return ""
	}
	st.tuned = true
	if st.affinity == nil {
		a := *b.affinity
		st.affinity = &a
	} else {
		// Cookie attributes: the newest affinity Ingress wins.
		st.affinity.Cookie = b.affinity.Cookie
		st.affinity.ChangeOnFailure = b.affinity.ChangeOnFailure
	}
	if ingressPath == "" {
		ingressPath = "/"
	}
	return ingressPath
}

// serviceUpstream makes the Service's cluster IP the backend's only
// endpoint. A Service without one (headless) keeps its endpoints.
func (t *translator) serviceUpstream(ref model.ObjectRef, be *model.Backend) {
	svc := t.service(be.Service.Namespace, be.Service.Name)
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil {
		t.problem(ref, "metadata.annotations", "ServiceUpstreamIgnored",
			"%sservice-upstream: Service %s/%s has no cluster IP; its endpoints are used", annotations.Prefix, be.Service.Namespace, be.Service.Name)
		return
	}
	be.Endpoints = []model.Endpoint{{Host: ip.String(), Port: be.Port}}
	be.ServiceUpstream = true
}

// finishBalance sets each backend's balancer: backends no Ingress
// referenced (the controller's default backend) take the ConfigMap's
// defaults.
func (t *translator) finishBalance() {
	for name, be := range t.backends {
		st := t.balance[name]
		if st == nil {
			d := t.settings.balance
			st = &balanceState{loadBalance: d.loadBalance, hashBy: d.hashBy}
		}
		switch {
		case st.affinity != nil:
			be.Balance = &model.Balance{Algorithm: model.AlgorithmSticky, Affinity: st.affinity}
		case st.hashBy != nil:
			be.Balance = &model.Balance{Algorithm: model.AlgorithmHash, HashBy: st.hashBy}
		case st.loadBalance == string(model.AlgorithmEWMA):
			be.Balance = &model.Balance{Algorithm: model.AlgorithmEWMA}
		}
	}
}
