package gatewayapi

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
)

// requestRedirect is a RequestRedirect filter.
func requestRedirect(f *gatewayv1.HTTPRequestRedirectFilter) (*model.GatewayRedirect, *ruleProblem) {
	if f == nil {
		return nil, unsupported("the filter has no configuration")
	}
	r := &model.GatewayRedirect{Status: 302}
	if f.Scheme != nil {
		if *f.Scheme != "http" && *f.Scheme != "https" {
			return nil, unsupported("scheme %q is not http or https", *f.Scheme)
		}
		r.Scheme = *f.Scheme
	}
	if f.Hostname != nil {
		if !validHostname(string(*f.Hostname)) {
			return nil, unsupported("hostname %q is not a host name", *f.Hostname)
		}
		r.Hostname = string(*f.Hostname)
	}
	if f.Port != nil {
		r.Port = int32(*f.Port)
	}
	if f.StatusCode != nil {
		switch *f.StatusCode {
		case 301, 302, 303, 307, 308:
		default:
			return nil, unsupported("status code %d is not a redirect the API allows", *f.StatusCode)
		}
		r.Status = *f.StatusCode
	}
	if f.Path != nil {
		pm, p := pathModifier(f.Path)
		if p != nil {
			return nil, p
		}
		r.Path = pm
	}
	return r, nil
}

// pathModifier is the path part of a RequestRedirect or URLRewrite
// filter: an absolute path, or for a prefix also the empty one.
func pathModifier(p *gatewayv1.HTTPPathModifier) (*model.PathModifier, *ruleProblem) {
	for _, v := range []*string{p.ReplaceFullPath, p.ReplacePrefixMatch} {
		if v != nil && (*v != "" && (*v)[0] != '/' || !validHeaderValue(*v)) {
			return nil, unsupported("path %q is not an absolute path", *v)
		}
	}
	switch p.Type {
	case gatewayv1.FullPathHTTPPathModifier:
		if p.ReplaceFullPath == nil || *p.ReplaceFullPath == "" {
			return nil, unsupported("path type ReplaceFullPath without a replaceFullPath")
		}
		return &model.PathModifier{Type: model.ReplaceFullPath, Value: *p.ReplaceFullPath}, nil
	case gatewayv1.PrefixMatchHTTPPathModifier:
		if p.ReplacePrefixMatch == nil {
			return nil, unsupported("path type ReplacePrefixMatch without a replacePrefixMatch")
		}
		return &model.PathModifier{Type: model.ReplacePrefixMatch, Value: *p.ReplacePrefixMatch}, nil
	}
	return nil, unsupported("path modifier type %q is not supported", p.Type)
}
