package translate

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/htpasswd"
	"github.com/straitgw/strait/internal/model"
)

// basicAuth reads auth-type and the annotations that go with it, and the
// users of auth-secret. Authentication that cannot be set up as written
// fails closed: the Ingress's paths answer 503 (failClosed), where
// ingress-nginx denies the location too.
func (t *translator) basicAuth(ing *networkingv1.Ingress, ref model.ObjectRef, a map[string]string, bad func(error, string)) (ba *model.BasicAuth, failClosed bool) {
	const closed = "the Ingress's paths answer 503 until it is fixed"
	typ, on, err := annotations.AuthType.Lookup(a, annotations.Prefix)
	if err != nil {
		bad(err, closed)
		return nil, true
	}
	if !on {
		for _, v := range []*annotations.Value[string]{&annotations.AuthSecret, &annotations.AuthSecretType, &annotations.AuthRealm} {
			if _, present := a[annotations.Prefix+v.Name]; present {
				bad(fmt.Errorf("%s%s is set without %sauth-type", annotations.Prefix, v.Name, annotations.Prefix), "it has no effect")
			}
		}
		return nil, false
	}
	if typ == annotations.AuthTypeDigest {
		bad(fmt.Errorf("%sauth-type: %q is not supported (only basic is)", annotations.Prefix, typ), closed)
		return nil, true
	}
	secretType, realm := annotations.AuthSecretTypeFile, ""
	if read(a, &annotations.AuthSecretType, &secretType, bad, closed) || read(a, &annotations.AuthRealm, &realm, bad, closed) {
		return nil, true
	}
	sref, ok, err := annotations.AuthSecret.Lookup(a, annotations.Prefix)
	if err != nil {
		bad(err, closed)
		return nil, true
	}
	if !ok {
		bad(fmt.Errorf("%sauth-type %q needs %sauth-secret", annotations.Prefix, typ, annotations.Prefix), closed)
		return nil, true
	}
	ns, name, qualified := strings.Cut(sref, "/")
	if !qualified {
		ns, name = ing.Namespace, sref
	}
	what := fmt.Sprintf("%sauth-secret %q: Secret %s/%s", annotations.Prefix, sref, ns, name)
	if ns != ing.Namespace && !t.settings.crossNamespace {
		bad(fmt.Errorf(`%s is in another namespace, which needs allow-cross-namespace-resources: "true" in the ConfigMap`, what), closed)
		return nil, true
	}
	s := t.secretObj(ns, name)
	if s == nil {
		bad(notFound("Secret", "%s not found", what), closed)
		return nil, true
	}
	var entries []htpasswd.Entry
	var lineErrs []*htpasswd.LineError
	if secretType == annotations.AuthSecretTypeMap {
		entries, lineErrs = htpasswd.ParseMap(s.Data)
	} else {
		data, ok := s.Data["auth"]
		if !ok {
			bad(fmt.Errorf("%s has no key auth (the htpasswd file of auth-secret-type auth-file)", what), closed)
			return nil, true
		}
		entries, lineErrs = htpasswd.ParseFile(string(data))
	}
	for _, e := range lineErrs {
		t.problem(ref, "metadata.annotations", "InvalidAuthSecret", "%s: %v; the entry is ignored", what, e)
	}
	if len(entries) == 0 {
		t.problem(ref, "metadata.annotations", "InvalidAuthSecret", "%s: %v", what, errors.New("no usable user; every request is answered 401"))
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].User < entries[j].User })
	creds := make([]model.Credential, len(entries))
	for i, e := range entries {
		creds[i] = model.Credential{User: e.User, Hash: e.Hash}
	}
	return model.NewBasicAuth(realm, ns+"/"+name, creds), false
}

// authExempt reports whether an Ingress path is exempt from authentication
// by no-auth-locations: ingress-nginx compares the path as written in the
// Ingress, not the request, with each entry as a prefix.
func (t *translator) authExempt(ingressPath string) bool {
	if ingressPath == "" {
		ingressPath = "/"
	}
	for _, p := range t.settings.auth.noAuthLocations {
		if strings.HasPrefix(ingressPath, p) {
			return true
		}
	}
	return false
}
