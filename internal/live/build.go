package live

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// build makes the document's parts that come from the model and the
// problems, which are immutable: nothing here can block the data plane.
func build(st State, now time.Time, certs *certCache) *View {
	v := &View{
		SchemaVersion: SchemaVersion,
		Now:           now.UTC(),
		Generation:    st.Generation,
		Hosts:         []Host{},
		Backends:      []Backend{},
		Certificates:  []Certificate{},
		Problems:      problems(st.Problems),
		Gateways:      []Gateway{},
	}
	v.Generation.Time = v.Generation.Time.UTC()
	m := st.Model
	if m == nil {
		return v
	}
	sni := make(map[string]string, len(m.SNI))
	for _, b := range m.SNI {
		sni[b.Host] = b.Certificate
	}
	for _, vh := range m.Hosts {
		v.Hosts = append(v.Hosts, host(vh, sni))
	}
	v.Hosts = append(v.Hosts, host(&m.CatchAll, sni))
	for i := range m.Backends {
		v.Backends = append(v.Backends, backend(&m.Backends[i]))
	}
	for _, g := range m.Gateways {
		v.Gateways = append(v.Gateways, gateway(&g))
	}
	v.Certificates = certificates(m, now, certs)
	return v
}

func object(r model.ObjectRef) Object {
	return Object{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// problems returns the problems sorted, so that equal states give equal
// documents.
func problems(ps []model.Problem) []Problem {
	out := make([]Problem, len(ps))
	for i, p := range ps {
		out[i] = Problem{Object: object(p.Object), Field: p.Field, Reason: p.Reason, Message: p.Message}
	}
	slices.SortFunc(out, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Object.Kind, b.Object.Kind),
			cmp.Compare(a.Object.Namespace, b.Object.Namespace),
			cmp.Compare(a.Object.Name, b.Object.Name),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Reason, b.Reason),
			cmp.Compare(a.Message, b.Message))
	})
	return out
}

// hostCertificate is the certificate TLS handshakes naming name get: an
// exact SNI binding, else the one-label wildcard's.
func hostCertificate(name string, sni map[string]string) string {
	if c, ok := sni[name]; ok {
		return c
	}
	if _, parent, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "*.") {
		return sni["*."+parent]
	}
	return ""
}

func host(vh *model.VirtualHost, sni map[string]string) Host {
	h := Host{
		Name:     vh.Name,
		Aliases:  append([]string{}, vh.Aliases...),
		Policies: hostPolicies(vh),
		Routes:   make([]Route, 0, len(vh.Routes)),
		Default:  Target{Backend: vh.Default.Backend, Status: vh.Default.Status},
	}
	if vh.Name != model.CatchAllHost {
		h.Certificate = hostCertificate(vh.Name, sni)
	}
	for i := range vh.Routes {
		h.Routes = append(h.Routes, route(&vh.Routes[i], vh.Regex))
	}
	return h
}

func route(r *model.Route, regex bool) Route {
	out := Route{
		Name:     r.Name,
		Path:     r.Path,
		Match:    string(r.PathType),
		Source:   object(r.Source),
		Backends: []RouteBackend{},
		Status:   r.Action.Status,
		Policies: routePolicies(&r.Policy),
	}
	if regex {
		out.Match = "Regex"
	}
	c := r.Policy.Canary
	if r.Action.Backend != "" {
		primary := RouteBackend{Backend: r.Action.Backend, Weight: 100}
		if c != nil {
			primary.Weight = c.WeightTotal - c.Weight
		}
		out.Backends = append(out.Backends, primary)
	}
	if c != nil {
		out.Backends = append(out.Backends, RouteBackend{Backend: c.Backend, Weight: c.Weight, Canary: true})
		out.Canary = &Canary{
			Backend: c.Backend, Source: object(c.Source),
			Header: c.Header, HeaderValue: c.HeaderValue, HeaderPattern: c.HeaderPattern,
			Cookie: c.Cookie, Weight: c.Weight, WeightTotal: c.WeightTotal,
		}
	}
	return out
}

func backend(b *model.Backend) Backend {
	out := Backend{
		Name:      b.Name,
		Service:   object(b.Service),
		Port:      b.Port,
		Protocol:  string(b.Protocol),
		Balance:   string(model.AlgorithmRoundRobin),
		Endpoints: make([]Endpoint, len(b.Endpoints)),
	}
	if b.Balance != nil {
		out.Balance = string(b.Balance.Algorithm)
	}
	for i, e := range b.Endpoints {
		out.Endpoints[i] = Endpoint{Address: hostPort(e), State: StateUnknown}
	}
	return out
}

func hostPort(e model.Endpoint) string {
	h := e.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return h + ":" + itoa(int(e.Port))
}

func gateway(g *model.Gateway) Gateway {
	out := Gateway{Name: g.Name, Addresses: append([]string{}, g.Addresses...), Listeners: make([]Listener, 0, len(g.Listeners))}
	for _, l := range g.Listeners {
		ln := Listener{
			Name: l.Name, Port: l.Port, Protocol: "HTTP", Hostname: l.Hostname,
			Certificates: append([]string{}, l.Certificates...),
			Rules:        make([]Rule, 0, len(l.Rules)),
		}
		if l.TLS {
			ln.Protocol = "HTTPS"
		}
		for i := range l.Rules {
			ln.Rules = append(ln.Rules, rule(&l.Rules[i]))
		}
		out.Listeners = append(out.Listeners, ln)
	}
	return out
}

func rule(r *model.GatewayRule) Rule {
	out := Rule{
		Name:       r.Route,
		Source:     ruleSource(r.Route),
		Hostnames:  append([]string{}, r.Hostnames...),
		Path:       r.Path.Value,
		Match:      r.Path.Type,
		Conditions: ruleConditions(r),
		Backends:   make([]RouteBackend, 0, len(r.Backends)),
		Policies:   rulePolicies(r),
	}
	if out.Match == "" {
		out.Match = "PathPrefix"
	}
	if out.Path == "" {
		out.Path = "/"
	}
	for _, b := range r.Backends {
		out.Backends = append(out.Backends, RouteBackend{Backend: b.Backend, Status: b.Status, Weight: int(b.Weight)})
	}
	return out
}

// ruleSource reads the route object from a rule's name, "<Kind>
// <ns>/<name> rule <rule> match <i>".
func ruleSource(name string) Object {
	kind, rest, _ := strings.Cut(name, " ")
	nsName, _, _ := strings.Cut(rest, " ")
	ns, n, ok := strings.Cut(nsName, "/")
	if !ok {
		return Object{Kind: kind, Name: nsName}
	}
	return Object{Kind: kind, Namespace: ns, Name: n}
}
