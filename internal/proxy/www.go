package proxy

import (
	"net/http"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// wwwRedirect answers a request for a from-to-www-redirect host: a
// redirect to the same scheme on the other name, the port always written
// (the listener's, or X-Forwarded-Port when forwarded headers are
// trusted), and the request URI with one trailing "/" removed.
func (h *handler) wwwRedirect(w http.ResponseWriter, r *http.Request, to *model.WWWRedirect, fw *forwarding) {
	scheme, port := h.li.scheme, h.li.port
	if fw != nil {
		v := fw.fromHeader(r.Header, clientIP(r.RemoteAddr))
		if v.proto != "" {
			scheme = v.proto
		}
		if v.port != "" {
			port = v.port
		}
	}
	w.Header().Set("Location", scheme+"://"+to.Host+":"+port+strings.TrimSuffix(requestURI(r), "/"))
	plainError(w, to.Code)
}
