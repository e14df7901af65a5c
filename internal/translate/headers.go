package translate

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// readHeaders reads the global header keys. A referenced ConfigMap that
// is missing, or an entry of it that is invalid, is reported on the
// controller ConfigMap; the rest is served, as ingress-nginx does.
func (t *translator) readHeaders(ref model.ObjectRef, data map[string]string) model.Headers {
	h := model.Headers{
		ServerTokens:          t.configBool(ref, data, "server-tokens", false),
		NoRequestIDGeneration: !t.configBool(ref, data, "generate-request-id", true),
		Underscores:           t.configBool(ref, data, "enable-underscores-in-headers", false),
		InvalidNames:          !t.configBool(ref, data, "ignore-invalid-headers", true),
	}
	h.Upstream = t.headerMap(ref, data, "proxy-set-headers", annotations.ParseRequestHeader)
	h.Response = t.headerMap(ref, data, "add-headers", annotations.ParseResponseHeader)
	if v := strings.TrimSpace(data["hide-headers"]); v != "" {
		names, _ := annotations.ParseList(v)
		seen := map[string]bool{}
		for _, n := range names {
			n = strings.ToLower(n)
			if seen[n] {
				continue
			}
			seen[n] = true
			h.Hide = append(h.Hide, n)
		}
		sort.Strings(h.Hide)
	}
	return h
}

// headerMap reads the ConfigMap that key names ("namespace/name") into
// headers sorted by name.
func (t *translator) headerMap(ref model.ObjectRef, data map[string]string, key string, parse func(name, value string) (annotations.Header, error)) []model.Header {
	v := strings.TrimSpace(data[key])
	if v == "" {
		return nil
	}
	ns, name, ok := strings.Cut(v, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		t.problem(ref, "data."+key, "InvalidConfiguration", "%s %q is not namespace/name; no headers are added", key, v)
		return nil
	}
	cm := t.configMap(ns, name)
	if cm == nil {
		t.problem(ref, "data."+key, "InvalidConfiguration", "%s: ConfigMap %s not found; no headers are added until it exists", key, v)
		return nil
	}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []model.Header
	seen := map[string]bool{}
	for _, k := range keys {
		hd, err := parse(k, cm.Data[k])
		if err == nil && seen[hd.Name] {
			err = errDuplicateHeader
		}
		if err != nil {
			t.problem(ref, "data."+key, "InvalidConfiguration", "%s: ConfigMap %s entry %q=%q: %v; the entry is left out", key, v, k, cm.Data[k], err)
			continue
		}
		seen[hd.Name] = true
		mh := model.Header{Name: hd.Name, Value: hd.Value}
		for _, p := range hd.Parts {
			mh.Parts = append(mh.Parts, model.HeaderPart{Text: p.Text, Var: model.HeaderVar(p.Var)})
		}
		out = append(out, mh)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

type headerError string

func (e headerError) Error() string { return string(e) }

// errDuplicateHeader marks two entries naming one header in different
// cases; the first in key order wins.
const errDuplicateHeader = headerError("another entry sets the same header")

// customHeaders reads custom-headers: the response headers of the
// Ingress's paths from a ConfigMap of its namespace. As ingress-nginx
// denies the location, a missing ConfigMap or a header not allowed by
// global-allowed-response-headers fails the paths closed; so does an
// entry Strait refuses.
func (t *translator) customHeaders(ing *networkingv1.Ingress, bad func(error, string)) (hs []model.Header, failClosed bool) {
	const closed = "the Ingress's paths answer 503 until it is fixed"
	var ref string
	if read(ing.Annotations, &annotations.CustomHeaders, &ref, bad, closed) {
		return nil, true
	}
	if ref == "" {
		return nil, false
	}
	key := annotations.Prefix + annotations.CustomHeaders.Name
	fail := func(err error) ([]model.Header, bool) {
		t.problem(ingressRef(ing), "metadata.annotations["+key+"]", annotationReason(err), "%s: %v; %s", key, err, closed)
		return nil, true
	}
	ns, name, _ := strings.Cut(ref, "/")
	if ns != ing.Namespace {
		return fail(fmt.Errorf("ConfigMap %s is in another namespace", ref))
	}
	cm := t.configMap(ns, name)
	if cm == nil {
		return fail(notFound("ConfigMap", "ConfigMap %s not found", ref))
	}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]bool{}
	for _, k := range keys {
		h, err := annotations.ParseCustomHeader(k, cm.Data[k])
		if err != nil {
			return fail(fmt.Errorf("ConfigMap %s entry %q=%q: %v", ref, k, cm.Data[k], err))
		}
		if !t.settings.allowedResponseHeaders[strings.ToLower(h.Name)] {
			return fail(fmt.Errorf("header %q is not listed in the ConfigMap key global-allowed-response-headers", k))
		}
		if seen[h.Name] {
			return fail(fmt.Errorf("ConfigMap %s sets %q twice", ref, h.Name))
		}
		seen[h.Name] = true
		hs = append(hs, model.Header{Name: h.Name, Value: h.Value})
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	return hs, false
}
