package gatewayapi

import (
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
)

// headerChanges is a RequestHeaderModifier or ResponseHeaderModifier
// filter. Names must be HTTP tokens and values printable, so that nothing
// a route writes can end a header line; one name may have one action
// only.
func headerChanges(f *gatewayv1.HTTPHeaderFilter) (*model.HeaderChanges, *ruleProblem) {
	if f == nil {
		return nil, unsupported("the filter has no configuration")
	}
	c := &model.HeaderChanges{}
	seen := map[string]bool{}
	name := func(n string) *ruleProblem {
		if !isToken(n) {
			return unsupported("header name %q is not an HTTP token", n)
		}
		if seen[strings.ToLower(n)] {
			return unsupported("header %q has more than one action", n)
		}
		seen[strings.ToLower(n)] = true
		return nil
	}
	for _, list := range []struct {
		in  []gatewayv1.HTTPHeader
		out *[]model.KV
	}{{f.Set, &c.Set}, {f.Add, &c.Add}} {
		for _, h := range list.in {
			if p := name(string(h.Name)); p != nil {
				return nil, p
			}
			if !validHeaderValue(h.Value) {
				return nil, unsupported("header %q: value %q holds a control character", h.Name, h.Value)
			}
			*list.out = append(*list.out, model.KV{Name: string(h.Name), Value: h.Value})
		}
	}
	for _, n := range f.Remove {
		if p := name(n); p != nil {
			return nil, p
		}
		c.Remove = append(c.Remove, n)
	}
	if len(c.Set)+len(c.Add)+len(c.Remove) == 0 {
		return nil, nil
	}
	return c, nil
}

// isToken reports whether s is an HTTP token (RFC 9110), as header names
// are.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validHeaderValue reports whether v may be sent as a header value: no
// control characters but tab, no DEL.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
