// Package translate turns a snapshot of cluster objects into a routing model.
// Translate is a pure function: it reads the snapshot, writes nothing, calls
// no network, and reports what it could not honour as per-object problems.
// One bad object only loses (or fails closed) what it owns.
package translate

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// Options are the controller-wide settings translate needs.
type Options struct {
	// DefaultBackendService is "namespace/name" of the Service that serves
	// requests no rule matches (its first port). Empty means the built-in
	// backend, which answers 404.
	DefaultBackendService string `json:"defaultBackendService,omitempty"`
	// DefaultCertificate is "namespace/name" of the kubernetes.io/tls
	// Secret served when no SNI binding matches (--default-ssl-certificate).
	// Empty, missing or invalid means the certificate generated at start.
	DefaultCertificate string `json:"defaultCertificate,omitempty"`
}

// Translate builds the model for s. The returned problems are sorted by
// object, then field.
func Translate(s *snapshot.Snapshot, opts Options) (*model.Model, []model.Problem) {
	t := &translator{
		snap:     s,
		backends: map[string]*model.Backend{},
		hosts:    map[string]*hostBuilder{},
		certs:    map[string]*certResult{},
		sni:      map[string]string{},
	}
	t.defaultAction = t.globalDefault(opts)
	t.catchAll = &hostBuilder{name: model.CatchAllHost, def: t.defaultAction, paths: map[pathKey]*model.Route{}}

	for _, ing := range ordered(s.Ingresses) {
		t.ingress(ing)
	}
	m, _ := t.finish()
	if opts.DefaultCertificate != "" {
		t.defaultCertificate(m, opts.DefaultCertificate)
	}
	sortProblems(t.problems)
	return m, t.problems
}

// translator carries the state of one Translate call.
type translator struct {
	snap          *snapshot.Snapshot
	defaultAction model.Action
	catchAll      *hostBuilder
	catchAllSet   bool
	hosts         map[string]*hostBuilder
	backends      map[string]*model.Backend
	certs         map[string]*certResult
	sni           map[string]string
	problems      []model.Problem
}

// hostBuilder collects one virtual host's routes while Ingresses are read
// oldest first.
type hostBuilder struct {
	name  string
	def   model.Action
	paths map[pathKey]*model.Route
	owner map[pathKey]model.ObjectRef
}

type pathKey struct {
	typ  model.PathType
	path string
}

func (t *translator) problem(obj model.ObjectRef, field, reason, format string, args ...any) {
	t.problems = append(t.problems, model.Problem{Object: obj, Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// ordered returns the Ingresses oldest first, ties broken by namespace/name,
// so that "first wins" rules are stable.
func ordered(in []*networkingv1.Ingress) []*networkingv1.Ingress {
	out := append([]*networkingv1.Ingress(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}

func ingressRef(ing *networkingv1.Ingress) model.ObjectRef {
	return model.ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
}

func (t *translator) ingress(ing *networkingv1.Ingress) {
	ref := ingressRef(ing)
	t.tls(ing)

	ingDefault := model.Action{}
	if db := ing.Spec.DefaultBackend; db != nil {
		ingDefault = t.backend(ref, ing.Namespace, db, "spec.defaultBackend")
		// Only an Ingress without rules configures the catch-all; one with
		// rules keeps its default backend to its own hosts.
		if !t.catchAllSet && len(ing.Spec.Rules) == 0 {
			t.catchAll.def = ingDefault
			t.catchAllSet = true
		}
	}

	for i, rule := range ing.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		hb := t.catchAll
		if rule.Host != "" {
			host, err := normalizeHost(rule.Host)
			if err != nil {
				t.problem(ref, field+".host", "InvalidHost", "host %q: %v; rule ignored", rule.Host, err)
				continue
			}
			hb = t.hosts[host]
			if hb == nil {
				// The first Ingress to define a host decides what its
				// unmatched paths get.
				def := t.defaultAction
				if ing.Spec.DefaultBackend != nil {
					def = ingDefault
				}
				hb = &hostBuilder{name: host, def: def, paths: map[pathKey]*model.Route{}}
				t.hosts[host] = hb
			}
		}
		if rule.HTTP == nil {
			continue
		}
		for j, p := range rule.HTTP.Paths {
			t.path(ing, ref, hb, fmt.Sprintf("%s.http.paths[%d]", field, j), i, j, p)
		}
	}
}

func (t *translator) path(ing *networkingv1.Ingress, ref model.ObjectRef, hb *hostBuilder, field string, i, j int, p networkingv1.HTTPIngressPath) {
	path := p.Path
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		t.problem(ref, field+".path", "InvalidPath", "path %q must start with \"/\"; path ignored", p.Path)
		return
	}
	typ := model.PathPrefix
	if p.PathType != nil {
		switch *p.PathType {
		case networkingv1.PathTypeExact:
			typ = model.PathExact
		case networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific:
		default:
			t.problem(ref, field+".pathType", "InvalidPathType", "unknown pathType %q; path ignored", *p.PathType)
			return
		}
	}
	if typ == model.PathPrefix && len(path) > 1 {
		// Prefix matching is element-wise, so a trailing slash adds nothing.
		path = strings.TrimRight(path, "/")
		if path == "" {
			path = "/"
		}
	}
	k := pathKey{typ, path}
	if owner, ok := hb.owner[k]; ok {
		if owner == ref {
			t.problem(ref, field+".path", "PathConflict",
				"%s path %q on host %q appears earlier in this Ingress; this one is ignored", typ, path, hb.name)
		} else {
			t.problem(ref, field+".path", "PathConflict",
				"%s path %q on host %q is already served by %s, which takes precedence (older, or first by namespace/name); this path is ignored", typ, path, hb.name, owner)
		}
		return
	}
	action := t.backend(ref, ing.Namespace, &p.Backend, field+".backend")
	if hb.owner == nil {
		hb.owner = map[pathKey]model.ObjectRef{}
	}
	hb.owner[k] = ref
	hb.paths[k] = &model.Route{
		Name:     fmt.Sprintf("ingress/%s/%s/rule/%d/path/%d", ing.Namespace, ing.Name, i, j),
		Source:   ref,
		PathType: typ,
		Path:     path,
		Action:   action,
	}
}

// normalizeHost lower-cases a rule host and checks its shape: a DNS name,
// or "*." followed by one (a wildcard matches exactly one label).
func normalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	rest := h
	if strings.HasPrefix(h, "*.") {
		rest = h[2:]
	}
	if rest == "" || strings.Contains(rest, "*") {
		return "", fmt.Errorf("a wildcard may only be the whole first label")
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "", fmt.Errorf("invalid character %q", c)
		}
	}
	if strings.HasPrefix(rest, ".") || strings.HasSuffix(rest, ".") || strings.Contains(rest, "..") {
		return "", fmt.Errorf("empty label")
	}
	return h, nil
}

func (t *translator) finish() (*model.Model, []model.Problem) {
	m := &model.Model{CatchAll: t.catchAll.build()}
	for _, hb := range t.hosts {
		m.Hosts = append(m.Hosts, hb.build())
	}
	sort.Slice(m.Hosts, func(i, j int) bool { return m.Hosts[i].Name < m.Hosts[j].Name })

	used := map[string]bool{}
	markUsed := func(a model.Action) {
		if a.Backend != "" {
			used[a.Backend] = true
		}
	}
	for _, h := range append(m.Hosts, m.CatchAll) {
		markUsed(h.Default)
		for _, r := range h.Routes {
			markUsed(r.Action)
		}
	}
	for name, b := range t.backends {
		if used[name] {
			m.Backends = append(m.Backends, *b)
		}
	}
	sort.Slice(m.Backends, func(i, j int) bool { return m.Backends[i].Name < m.Backends[j].Name })

	certUsed := map[string]bool{}
	for host, cert := range t.sni {
		if cert == "" {
			continue // the default certificate
		}
		m.SNI = append(m.SNI, model.SNIBinding{Host: host, Certificate: cert})
		certUsed[cert] = true
	}
	sort.Slice(m.SNI, func(i, j int) bool { return m.SNI[i].Host < m.SNI[j].Host })
	for name, c := range t.certs {
		if c.cert != nil && certUsed[name] {
			m.Certificates = append(m.Certificates, *c.cert)
		}
	}
	sort.Slice(m.Certificates, func(i, j int) bool { return m.Certificates[i].Name < m.Certificates[j].Name })

	return m, t.problems
}

// sortProblems orders problems by object, then field.
func sortProblems(ps []model.Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Object != b.Object {
			return a.Object.String() < b.Object.String()
		}
		return a.Field < b.Field
	})
}

// build orders the routes by precedence: Exact before Prefix, longer paths
// before shorter ones.
func (hb *hostBuilder) build() model.VirtualHost {
	vh := model.VirtualHost{Name: hb.name, Default: hb.def}
	for _, r := range hb.paths {
		vh.Routes = append(vh.Routes, *r)
	}
	sort.Slice(vh.Routes, func(i, j int) bool {
		a, b := vh.Routes[i], vh.Routes[j]
		if a.PathType != b.PathType {
			return a.PathType == model.PathExact
		}
		if len(a.Path) != len(b.Path) {
			return len(a.Path) > len(b.Path)
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Name < b.Name
	})
	return vh
}
