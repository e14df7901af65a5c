package proxy

import (
	"cmp"
	"crypto/tls"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// Gateway API request matching. The listeners of one port are compiled
// into a gwPort: a request's host picks the most specific listener, then
// the most specific hostname of the routes attached to it (the API gives
// precedence to the route hostname with the most characters, exact names
// before wildcards), and the first rule of that hostname that matches the
// request wins: rules come in the API's precedence order from translate.

// gwKey names the listeners of one port: those of one Gateway when it has
// addresses of its own, or those of every Gateway without addresses
// (gateway "").
type gwKey struct {
	gateway string
	port    int32
}

// gwPort routes the requests of one port of the Gateway API listeners.
type gwPort struct {
	listeners gwHosts[*gwListener]
	// first is the first TLS listener, whose certificate a handshake
	// naming no listener's hostname gets.
	first *gwListener
}

// gwListener is one listener: its rules grouped by the hostnames they
// serve.
type gwListener struct {
	l     *model.Listener
	hosts gwHosts[*gwHost]
	// cert is the first of the listener's certificates (HTTPS).
	cert *tls.Certificate
}

// gwHost is the rules that serve one hostname, in order.
type gwHost struct {
	rules []*gwRule
}

// gwRule is a compiled rule: its conditions, and what it does to the
// requests it takes (gwactions.go).
type gwRule struct {
	r       *model.GatewayRule
	path    func(string) bool
	headers []gwValue
	query   []gwValue
	gwActions
}

// gwValue is a compiled header or query condition.
type gwValue struct {
	name  string
	match func(string) bool
}

// gwHosts finds the entry of the most specific hostname that covers a
// host: an exact name, else the longest wildcard suffix, else the entry
// for any host.
type gwHosts[T any] struct {
	exact  map[string]T
	wild   []gwWild[T] // longest suffix first
	any    T
	hasAny bool
}

type gwWild[T any] struct {
	suffix string // ".example.com" for "*.example.com"
	v      T
}

// put returns the entry for hostname ("" for any host), creating it with
// mk.
func (h *gwHosts[T]) put(hostname string, mk func() T) T {
	switch {
	case hostname == "":
		if !h.hasAny {
			h.any, h.hasAny = mk(), true
		}
		return h.any
	case strings.HasPrefix(hostname, "*."):
		suffix := hostname[1:]
		for _, w := range h.wild {
			if w.suffix == suffix {
				return w.v
			}
		}
		v := mk()
		h.wild = append(h.wild, gwWild[T]{suffix: suffix, v: v})
		slices.SortStableFunc(h.wild, func(a, b gwWild[T]) int { return cmp.Compare(len(b.suffix), len(a.suffix)) })
		return v
	default:
		if h.exact == nil {
			h.exact = map[string]T{}
		}
		if v, ok := h.exact[hostname]; ok {
			return v
		}
		v := mk()
		h.exact[hostname] = v
		return v
	}
}

// get returns the entry for host (lower case, without port).
func (h *gwHosts[T]) get(host string) (T, bool) {
	if v, ok := h.exact[host]; ok {
		return v, true
	}
	for _, w := range h.wild {
		if len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) {
			return w.v, true
		}
	}
	return h.any, h.hasAny
}

// compileGateways compiles the Gateways' listeners, by Gateway (those
// with addresses of their own) and port. On a port that several Gateways
// without addresses share, the first Gateway (by name) with a listener of
// a hostname serves it.
func compileGateways(gws []model.Gateway, backends map[string]*upstream.Backend, certs map[string]*tls.Certificate, to Timeouts, headers *globalHeaders) map[gwKey]*gwPort {
	if len(gws) == 0 {
		return nil
	}
	byKey := map[gwKey][]*model.Listener{}
	for i := range gws {
		owner := ""
		if len(gws[i].Addresses) > 0 {
			owner = gws[i].Name
		}
		for j := range gws[i].Listeners {
			l := &gws[i].Listeners[j]
			k := gwKey{gateway: owner, port: l.Port}
			byKey[k] = append(byKey[k], l)
		}
	}
	out := make(map[gwKey]*gwPort, len(byKey))
	for k, ls := range byKey {
		out[k] = compileGatewayPort(ls, backends, certs, to, headers)
	}
	return out
}

// compileGatewayPort compiles the listeners of one port. A rule whose
// regular expression does not compile never matches (translate reports
// it); the others keep serving.
func compileGatewayPort(ls []*model.Listener, backends map[string]*upstream.Backend, certs map[string]*tls.Certificate, to Timeouts, headers *globalHeaders) *gwPort {
	p := &gwPort{}
	for _, l := range ls {
		gl := p.listeners.put(l.Hostname, func() *gwListener { return &gwListener{l: l} })
		if gl.l != l {
			continue // a listener of the same hostname came first
		}
		for _, name := range l.Certificates {
			if c := certs[name]; c != nil {
				gl.cert = c
				break
			}
		}
		if l.TLS && p.first == nil {
			p.first = gl
		}
		for i := range l.Rules {
			r := &l.Rules[i]
			cr := compileGatewayRule(r)
			if cr == nil {
				continue
			}
			cr.compileActions(backends, to, headers)
			hosts := r.Hostnames
			if len(hosts) == 0 {
				hosts = []string{l.Hostname}
			}
			for _, h := range hosts {
				gh := gl.hosts.put(h, func() *gwHost { return &gwHost{} })
				gh.rules = append(gh.rules, cr)
			}
		}
	}
	return p
}

// compileGatewayRule compiles a rule's conditions; nil when one does not
// compile.
func compileGatewayRule(r *model.GatewayRule) *gwRule {
	cr := &gwRule{r: r}
	switch r.Path.Type {
	case "Exact":
		v := r.Path.Value
		cr.path = func(p string) bool { return p == v }
	case "RegularExpression":
		re, err := regexp.Compile("^(?:" + r.Path.Value + ")$")
		if err != nil {
			return nil
		}
		cr.path = re.MatchString
	default:
		cr.path = prefixMatcher(r.Path.Value)
	}
	for _, list := range []struct {
		in  []model.ValueMatch
		out *[]gwValue
	}{{r.Headers, &cr.headers}, {r.Query, &cr.query}} {
		for _, m := range list.in {
			f, ok := valueMatcher(m)
			if !ok {
				return nil
			}
			*list.out = append(*list.out, gwValue{name: m.Name, match: f})
		}
	}
	return cr
}

// prefixMatcher matches whole path segments: "/abc" matches "/abc",
// "/abc/" and "/abc/def", not "/abcd"; a trailing slash in the prefix is
// ignored.
func prefixMatcher(prefix string) func(string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return func(string) bool { return true }
	}
	return func(p string) bool {
		return strings.HasPrefix(p, prefix) && (len(p) == len(prefix) || p[len(prefix)] == '/')
	}
}

// valueMatcher compiles an exact or regular-expression condition.
func valueMatcher(m model.ValueMatch) (func(string) bool, bool) {
	if m.Type == "RegularExpression" {
		re, err := regexp.Compile(m.Value)
		if err != nil {
			return nil, false
		}
		return re.MatchString, true
	}
	v := m.Value
	return func(s string) bool { return s == v }, true
}

// match returns the rule a request takes, and the listener it came in
// by; nil when no rule matches (the API's 404).
func (p *gwPort) match(host, path, method string, h http.Header, rawQuery string) (*gwRule, *model.Listener) {
	host = lower(stripPort(host))
	gl, ok := p.listeners.get(host)
	if !ok {
		return nil, nil
	}
	gh, ok := gl.hosts.get(host)
	if !ok {
		return nil, gl.l
	}
	var q url.Values
	for _, r := range gh.rules {
		if !r.path(path) || r.r.Method != "" && r.r.Method != method {
			continue
		}
		if !headersMatch(r.headers, h) {
			continue
		}
		if len(r.query) > 0 {
			if q == nil {
				q, _ = url.ParseQuery(rawQuery)
			}
			if !queryMatches(r.query, q) {
				continue
			}
		}
		return r, gl.l
	}
	return nil, gl.l
}

func headersMatch(ms []gwValue, h http.Header) bool {
	for _, m := range ms {
		vv := h.Values(m.name)
		if len(vv) == 0 {
			return false
		}
		// Repeated headers match as one comma-joined value (RFC 9110).
		v := vv[0]
		if len(vv) > 1 {
			v = strings.Join(vv, ",")
		}
		if !m.match(v) {
			return false
		}
	}
	return true
}

func queryMatches(ms []gwValue, q url.Values) bool {
	for _, m := range ms {
		vv, ok := q[m.name]
		if !ok || !m.match(vv[0]) {
			return false
		}
	}
	return true
}

// gwHandler serves one Gateway API listener port.
type gwHandler struct {
	p   *Proxy
	key gwKey
	li  listenerInfo
}

// ServeHTTP routes a request by the rules of its listener. A rule's
// filters apply in one order whatever the order the route wrote them in:
// a CORS preflight is answered, a redirect answered, then the request's
// headers change, its URL is rewritten, mirrors get copies, the picked
// backend's header changes apply, and the request is forwarded within the
// rule's timeouts. As the response begins, the CORS headers, then the
// rule's and the backend's header changes apply to it.
func (h *gwHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := h.p.gen.Load()
	gp := g.gwPorts[h.key]
	if gp == nil {
		plainError(w, http.StatusNotFound)
		return
	}
	// Routes match, and backends receive, the path with duplicate slashes
	// merged and dot segments resolved, as on the Ingress listeners.
	clean, ok := normalizePath(r.URL.Path)
	if !ok {
		h.p.stats.limitHit(LimitMalformed)
		plainError(w, http.StatusBadRequest)
		return
	}
	rule, l := gp.match(r.Host, clean, r.Method, r.Header, r.URL.RawQuery)
	var be *gwBackend
	if rule != nil && rule.r.Redirect == nil {
		if total := rule.total(); total > 0 {
			be = rule.pick(rand.Int32N(total))
		}
	}
	// The access log has a line for every request, as on the Ingress
	// listeners, with the backend's route when there is one.
	var logged *route
	if be != nil {
		logged = be.rt
	}
	if lw := startLog(g, w, r, logged, clientIP(r.RemoteAddr), r.TLS != nil); lw != nil {
		defer lw.finish()
		w = lw
	}
	if rule == nil {
		plainError(w, http.StatusNotFound)
		return
	}
	var start time.Time
	if rule.timeouts != nil {
		start = time.Now()
	}
	preflight := rule.cors != nil && isPreflight(r)
	origin := ""
	if rule.cors != nil && !preflight {
		if o := r.Header.Get("Origin"); rule.cors.allows(o) {
			origin = o
		}
	}
	gw := rule.response(w, be, origin)
	if gw != nil {
		w = gw
	}
	if preflight {
		rule.cors.preflight(w, r)
		return
	}
	if rd := rule.r.Redirect; rd != nil {
		http.Redirect(w, r, gatewayRedirect(r, rd, clean, rule.r.Path, l), rd.Status)
		return
	}
	if be == nil {
		plainError(w, http.StatusInternalServerError)
		return
	}
	rt := be.rt
	if rt.backend == nil {
		plainError(w, cmp.Or(rt.status, http.StatusInternalServerError))
		return
	}
	rule.reqHeaders.apply(r.Header)
	rewritePath(r, rule.r.Rewrite, clean, rule.r.Path)
	if rule.mirrors != nil {
		host := r.Host
		if rt.upstreamHost != "" {
			host = rt.upstreamHost
		}
		h.p.mirrorGateway(rule.mirrors, r, host, rt)
	}
	be.reqHeaders.apply(r.Header)
	if rule.timeouts != nil {
		h.forwardWithin(gw, r, rt, rule.timeouts.deadline(start))
		return
	}
	h.p.forward(w, r, rt, &h.li, nil)
}
