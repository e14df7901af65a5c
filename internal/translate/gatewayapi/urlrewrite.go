package gatewayapi

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
)

// urlRewrite is a URLRewrite filter: the Host header and the path sent
// upstream.
func urlRewrite(f *gatewayv1.HTTPURLRewriteFilter) (*model.URLRewrite, *ruleProblem) {
	if f == nil {
		return nil, unsupported("the filter has no configuration")
	}
	rw := &model.URLRewrite{}
	if f.Hostname != nil {
		if !validHostname(string(*f.Hostname)) {
			return nil, unsupported("hostname %q is not a host name", *f.Hostname)
		}
		rw.Hostname = string(*f.Hostname)
	}
	if f.Path != nil {
		pm, p := pathModifier(f.Path)
		if p != nil {
			return nil, p
		}
		rw.Path = pm
	}
	if rw.Hostname == "" && rw.Path == nil {
		return nil, nil
	}
	return rw, nil
}

// validHostname reports whether h is a precise host name: labels of
// letters, digits and hyphens separated by dots. It goes into the Host
// header sent upstream and into redirect Locations.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-':
			label++
		case c == '.' && label > 0:
			label = 0
		default:
			return false
		}
	}
	return label > 0
}
