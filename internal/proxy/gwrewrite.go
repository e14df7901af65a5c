package proxy

import (
	"net/http"

	"github.com/straitgw/strait/internal/model"
)

// Gateway API URLRewrite: the Host header (set on the rule's backend
// routes when compiled, as upstream-vhost does) and the path sent
// upstream. X-Forwarded-Host keeps the client's Host.

// rewritePath has r sent upstream with the path of rw, when it has one;
// clean is the path the rule matched.
func rewritePath(r *http.Request, rw *model.URLRewrite, clean string, match model.PathMatch) {
	if rw == nil || rw.Path == nil {
		return
	}
	r.URL.Path, r.URL.RawPath = modifyPath(clean, rw.Path, match), ""
	// requestTarget sends RequestURI: the new path, escaped, with the
	// client's query.
	r.RequestURI = withQuery(r.URL.EscapedPath(), r.RequestURI)
}
