package proxy

import (
	"strconv"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// corsRule is a compiled model.CORS.
type corsRule struct {
	wildcard bool
	origins  []string // lower case; "*." is one label
	// fixed are the headers sent with every CORS answer besides
	// Access-Control-Allow-Origin.
	fixed [][2]string
}

func compileCORS(c *model.CORS) *corsRule {
	if c == nil {
		return nil
	}
	r := &corsRule{wildcard: len(c.AllowOrigins) == 0, origins: c.AllowOrigins}
	if c.AllowCredentials {
		r.fixed = append(r.fixed, [2]string{"Access-Control-Allow-Credentials", "true"})
	}
	r.fixed = append(r.fixed,
		[2]string{"Access-Control-Allow-Methods", c.AllowMethods},
		[2]string{"Access-Control-Allow-Headers", c.AllowHeaders})
	if c.ExposeHeaders != "" {
		r.fixed = append(r.fixed, [2]string{"Access-Control-Expose-Headers", c.ExposeHeaders})
	}
	r.fixed = append(r.fixed, [2]string{"Access-Control-Max-Age", strconv.Itoa(c.MaxAge)})
	return r
}

// allowOrigin returns the Access-Control-Allow-Origin value for a request
// Origin, or "" when the origin is not allowed (no CORS headers then).
func (r *corsRule) allowOrigin(origin string) string {
	if r.wildcard {
		return "*"
	}
	if origin == "" {
		return ""
	}
	o := strings.ToLower(origin)
	for _, p := range r.origins {
		if p == o || wildcardOrigin(p, o) {
			return origin
		}
	}
	return ""
}

// wildcardOrigin matches "scheme://*.domain[:port]" against an origin
// with exactly one label of letters, digits or hyphens in place of "*".
func wildcardOrigin(pattern, origin string) bool {
	scheme, rest, ok := strings.Cut(pattern, "://*.")
	if !ok || !strings.HasPrefix(origin, scheme+"://") {
		return false
	}
	host := origin[len(scheme)+3:]
	i := strings.IndexByte(host, '.')
	if i <= 0 || host[i+1:] != rest {
		return false
	}
	for _, c := range host[:i] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// headers returns the CORS headers for an allowed origin value.
func (r *corsRule) headers(allow string) [][2]string {
	out := make([][2]string, 0, len(r.fixed)+1)
	out = append(out, [2]string{"Access-Control-Allow-Origin", allow})
	return append(out, r.fixed...)
}
