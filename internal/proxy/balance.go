package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// selection is one request's choice of endpoint in one backend, kept
// across the request's retries: the hash key or affinity cookie is read
// once, and the endpoints that failed are not chosen again (except by
// affinity without change-on-failure, which goes back to its endpoint as
// ingress-nginx does). Canary and retry logic choose the backend, then ask
// its selection for endpoints with next and report failures with failed.
type selection struct {
	b   *upstream.Backend
	bal *model.Balance // nil: round robin
	// hash is the request's key hash (hashing, balanced affinity).
	hash uint64
	// cookie is the affinity cookie value the client keeps (sent or to be
	// set), and pinned the endpoint it names.
	cookie string
	pinned *upstream.Endpoint
	// fromCookie is set when pinned came from the request's cookie.
	fromCookie bool
	// issue is set when the response must carry a new cookie value.
	issue bool
	tried []*upstream.Endpoint
}

// newSelection reads what the backend's balancer needs from the request.
// remote is the client address after the forwarded-header rules.
func newSelection(b *upstream.Backend, r *http.Request, remote string) selection {
	s := selection{b: b, bal: b.Balance()}
	if s.bal == nil {
		return s
	}
	switch s.bal.Algorithm {
	case model.AlgorithmHash:
		s.hash = upstream.Hash(hashKey(s.bal.HashBy.Parts, r, remote, make([]byte, 0, 128)))
	case model.AlgorithmSticky:
		if c, err := r.Cookie(s.bal.Affinity.Cookie.Name); err == nil && validCookieValue(c.Value) {
			s.cookie = c.Value
		}
	}
	return s
}

// next returns the endpoint to try, or nil when none is left.
func (s *selection) next() *upstream.Endpoint {
	ep := s.choose()
	if ep != nil {
		s.tried = append(s.tried, ep)
	}
	return ep
}

func (s *selection) choose() *upstream.Endpoint {
	retry := len(s.tried) > 0
	if s.bal == nil || s.bal.Algorithm == model.AlgorithmRoundRobin || s.bal.Algorithm == model.AlgorithmEWMA {
		if retry {
			return s.b.PickExcept(s.tried)
		}
		return s.b.Pick()
	}
	if s.bal.Algorithm == model.AlgorithmHash {
		if n := s.bal.HashBy.SubsetSize; n > 0 {
			return s.b.PickSubset(s.hash, n, s.tried)
		}
		return s.b.PickHash(s.hash, s.tried)
	}
	a := s.bal.Affinity
	if retry {
		if !a.ChangeOnFailure && s.fromCookie {
			return s.pinned
		}
		return s.repin()
	}
	if s.cookie != "" {
		if a.Mode == model.AffinityPersistent {
			s.pinned = s.b.PickByKey(s.cookie)
		} else {
			s.pinned = s.b.PickHash(upstream.Hash([]byte(s.cookie)), nil)
		}
		if s.pinned != nil {
			s.fromCookie = true
			return s.pinned
		}
	}
	return s.repin()
}

// repin pins the client to a new endpoint, not one already tried, and
// marks the cookie for issuing.
func (s *selection) repin() *upstream.Endpoint {
	s.pinned, s.issue = nil, true
	if s.bal.Affinity.Mode == model.AffinityPersistent {
		ep := s.b.PickExcept(s.tried)
		if ep != nil {
			s.pinned, s.cookie = ep, ep.Key()
		}
		return ep
	}
	// Balanced: a random key; after a failure, draw again until the ring
	// maps it to an endpoint not tried yet.
	for range 32 {
		k := randomKey()
		ep := s.b.PickHash(upstream.Hash([]byte(k)), nil)
		if ep == nil {
			return nil
		}
		if !slices.Contains(s.tried, ep) {
			s.pinned, s.cookie = ep, k
			return ep
		}
	}
	s.issue = false
	return s.b.PickExcept(s.tried)
}

// setCookie returns the Set-Cookie value the response carries, or "":
// only routes of an Ingress with affinity (path != "") set the cookie,
// and only when the client has none that is valid, or was re-pinned.
func (s *selection) setCookie(path string, tls bool, now time.Time) string {
	if path == "" || !s.issue || s.cookie == "" {
		return ""
	}
	c := &s.bal.Affinity.Cookie
	hc := &http.Cookie{Name: c.Name, Value: s.cookie, Path: path, Domain: c.Domain, HttpOnly: true, Secure: tls, MaxAge: c.MaxAge}
	if c.Path != "" {
		hc.Path = c.Path
	}
	if c.Secure != nil {
		hc.Secure = *c.Secure
	}
	if c.Expires > 0 {
		hc.Expires = now.Add(time.Duration(c.Expires) * time.Second)
	}
	switch c.SameSite {
	case "None":
		// session-cookie-conditional-samesite-none would omit this for
		// old user agents; Strait has no list of them.
		hc.SameSite = http.SameSiteNoneMode
	case "Lax":
		hc.SameSite = http.SameSiteLaxMode
	case "Strict":
		hc.SameSite = http.SameSiteStrictMode
	}
	return hc.String()
}

// randomKey is a balanced-affinity cookie value: 16 hex digits.
func randomKey() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validCookieValue accepts the values Strait issues (16 hex digits), so
// that a foreign cookie (ingress-nginx's, say) re-pins once instead of
// being hashed.
func validCookieValue(v string) bool {
	if len(v) != 16 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// hashKey evaluates an upstream-hash-by expression into buf, with nginx's
// meaning of each variable; a missing header, cookie or argument is
// empty.
func hashKey(parts []model.HashPart, r *http.Request, remote string, buf []byte) []byte {
	for _, p := range parts {
		switch p.Var {
		case "":
			buf = append(buf, p.Literal...)
		case model.HashRequestURI:
			uri := r.RequestURI
			if uri == "" || uri[0] != '/' {
				uri = r.URL.RequestURI()
			}
			buf = append(buf, uri...)
		case model.HashURI:
			buf = append(buf, cleanPath(r.URL.Path)...)
		case model.HashArgs:
			buf = append(buf, r.URL.RawQuery...)
		case model.HashArg:
			buf = append(buf, queryArg(r.URL.RawQuery, p.Name)...)
		case model.HashHeader:
			switch p.Name {
			case "host":
				buf = append(buf, r.Host...)
			case "cookie":
				buf = append(buf, strings.Join(r.Header.Values("Cookie"), "; ")...)
			default:
				buf = append(buf, r.Header.Get(p.Name)...)
			}
		case model.HashCookie:
			if c, err := r.Cookie(p.Name); err == nil {
				buf = append(buf, c.Value...)
			}
		case model.HashRemoteAddr:
			buf = append(buf, remote...)
		case model.HashHost:
			buf = append(buf, lower(stripPort(r.Host))...)
		case model.HashScheme:
			if r.TLS != nil {
				buf = append(buf, "https"...)
			} else {
				buf = append(buf, "http"...)
			}
		case model.HashMethod:
			buf = append(buf, r.Method...)
		}
	}
	return buf
}

// queryArg returns the raw value of the first argument named name
// (case-insensitively, as nginx's $arg_ does).
func queryArg(q, name string) string {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
