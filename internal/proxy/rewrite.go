package proxy

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// rewriteRule is a compiled rewrite-target: nginx's
// `rewrite "(?i)<path>" <target> break;`.
type rewriteRule struct {
	re             *regexp.Regexp
	target, prefix string
}

func compileRewrite(path string, rw *model.Rewrite) *rewriteRule {
	if rw == nil {
		return nil
	}
	re, err := regexp.Compile("(?i)" + path)
	if err != nil {
		// translate checked the path; a route that cannot rewrite is
		// given no rewrite rather than a wrong one.
		return nil
	}
	return &rewriteRule{re: re, target: rw.Target, prefix: rw.ForwardedPrefix}
}

// apply rewrites a decoded request path. It returns the new path, escaped
// for the request line, and the X-Forwarded-Prefix value; ok is false when
// the regex does not match (the request then goes upstream unchanged).
func (rr *rewriteRule) apply(path string) (escaped, prefix string, ok bool) {
	m := rr.re.FindStringSubmatchIndex(path)
	if m == nil {
		return "", "", false
	}
	out := expand(rr.target, path, m)
	if !strings.HasPrefix(out, "/") {
		out = "/" + out
	}
	if rr.prefix != "" {
		prefix = expand(rr.prefix, path, m)
	}
	return (&url.URL{Path: out}).EscapedPath(), prefix, true
}

// expand substitutes $1..$9 in tmpl with the match's groups, as nginx does:
// one digit only, so "$1a" is group 1 followed by "a", and a group that did
// not take part in the match is empty.
func expand(tmpl, src string, m []int) string {
	if strings.IndexByte(tmpl, '$') < 0 {
		return tmpl
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '$' && i+1 < len(tmpl) && tmpl[i+1] >= '0' && tmpl[i+1] <= '9' {
			g := int(tmpl[i+1] - '0')
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				b.WriteString(src[m[2*g]:m[2*g+1]])
			}
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// withQuery appends the query of the original request target to a
// rewritten path: the query survives a rewrite.
func withQuery(path, origURI string) string {
	if i := strings.IndexByte(origURI, '?'); i >= 0 {
		return path + origURI[i:]
	}
	return path
}
