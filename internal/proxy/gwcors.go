package proxy

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// Gateway API CORS filter. Its origin rules differ from ingress-nginx's
// (cors.go): a wildcard stands for any number of labels, a missing port
// is the scheme's, and "*" lists echo what a preflight asks for. Allowed
// origins are always echoed, with Vary: Origin, which the API allows in
// every case and requires with credentials.

// gwCORS is a compiled model.GatewayCORS.
type gwCORS struct {
	anyOrigin   bool
	origins     []gwOrigin
	credentials bool
	// methods, headers and expose are the joined lists; the any flags
	// mark "*".
	methods, headers, expose      string
	anyMethod, anyHeader, anyExpo bool
	maxAge                        string
}

// gwOrigin is an allowed origin: scheme and port exact; host exact, any
// (anyHost), or a suffix of one label or more (suffix, ".example.com").
type gwOrigin struct {
	scheme, host, port string
	suffix             bool
	anyHost            bool
}

func compileGatewayCORS(c *model.GatewayCORS) *gwCORS {
	if c == nil {
		return nil
	}
	g := &gwCORS{credentials: c.AllowCredentials, maxAge: strconv.Itoa(int(c.MaxAgeSeconds))}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			g.anyOrigin = true
			continue
		}
		if o, ok := parseOrigin(o); ok {
			switch {
			case o.host == "*":
				o.anyHost = true
			case strings.HasPrefix(o.host, "*."):
				o.host, o.suffix = o.host[1:], true
			}
			g.origins = append(g.origins, o)
		}
	}
	list := func(vs []string) (string, bool) {
		if len(vs) == 1 && vs[0] == "*" {
			return "", true
		}
		return strings.Join(vs, ", "), false
	}
	g.methods, g.anyMethod = list(c.AllowMethods)
	g.headers, g.anyHeader = list(c.AllowHeaders)
	g.expose, g.anyExpo = list(c.ExposeHeaders)
	return g
}

// parseOrigin splits "scheme://host[:port]", lower-casing it and writing
// the scheme's port when it has none.
func parseOrigin(s string) (gwOrigin, bool) {
	scheme, rest, ok := strings.Cut(lower(s), "://")
	if !ok || scheme != "http" && scheme != "https" || rest == "" {
		return gwOrigin{}, false
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
	}
	if port == "" {
		port = strconv.Itoa(wellKnownPort(scheme))
	}
	return gwOrigin{scheme: scheme, host: host, port: port}, host != ""
}

// allows reports whether a request's Origin is allowed.
func (c *gwCORS) allows(origin string) bool {
	if origin == "" {
		return false
	}
	if c.anyOrigin {
		return true
	}
	o, ok := parseOrigin(origin)
	if !ok {
		return false
	}
	for _, a := range c.origins {
		if a.scheme != o.scheme || a.port != o.port {
			continue
		}
		if a.anyHost || a.host == o.host || a.suffix && len(o.host) > len(a.host) && strings.HasSuffix(o.host, a.host) {
			return true
		}
	}
	return false
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight request: 204, with the CORS headers when
// its origin is allowed.
func (c *gwCORS) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if origin := r.Header.Get("Origin"); c.allows(origin) {
		c.common(h, origin)
		if m := c.methods; m != "" || c.anyMethod {
			if c.anyMethod {
				m = r.Header.Get("Access-Control-Request-Method")
			}
			h.Set("Access-Control-Allow-Methods", m)
		}
		if hs := c.headers; hs != "" || c.anyHeader {
			if c.anyHeader {
				hs = strings.Join(r.Header.Values("Access-Control-Request-Headers"), ", ")
			}
			if hs != "" {
				h.Set("Access-Control-Allow-Headers", hs)
			}
		}
		if c.expose != "" {
			h.Set("Access-Control-Expose-Headers", c.expose)
		} else if c.anyExpo && !c.credentials {
			h.Set("Access-Control-Expose-Headers", "*")
		}
		h.Set("Access-Control-Max-Age", c.maxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}

// respond adds the CORS headers of an allowed origin to a response about
// to be sent with headers h, replacing the upstream's.
func (c *gwCORS) respond(h http.Header, origin string) {
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			delete(h, k)
		}
	}
	c.common(h, origin)
	switch {
	case c.expose != "":
		h.Set("Access-Control-Expose-Headers", c.expose)
	case c.anyExpo && !c.credentials:
		h.Set("Access-Control-Expose-Headers", "*")
	case c.anyExpo:
		// With credentials "*" means the name "*": list the response's.
		names := make([]string, 0, len(h))
		for k := range h {
			if !strings.HasPrefix(k, "Access-Control-") {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		h.Set("Access-Control-Expose-Headers", strings.Join(names, ", "))
	}
}

// common sets the headers of both preflights and responses.
func (c *gwCORS) common(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if c.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}
