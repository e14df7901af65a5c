package annotations

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The external-authentication group (catalogue section 1.6). auth-url and
// auth-signin may contain a few nginx variables; they are parsed into
// templates of literal text and named variables, which the proxy expands
// per request. No other variable, and no other nginx syntax, is accepted.

// AuthURL is the external authentication service.
var AuthURL = Value[URLTemplate]{
	Key: Key{
		Name: "auth-url", Scope: ScopeLocation, Risk: RiskHigh, Support: Differs,
		Doc: "External authentication service asked (GET, no body, the client's headers plus X-Original-URL, X-Original-Method, X-Auth-Request-Redirect...) about each request: 2xx lets it through, 401 and 403 are returned to the client, anything else gives 500. " +
			"Without it, the ConfigMap's global-auth-url applies (unless enable-global-auth is false); paths under no-auth-locations are never authenticated.",
		Notes: "The URL may use only the variables " + templateVarList + "; any other variable, or a URL without http(s) scheme and host, makes the Ingress's paths answer 503 with an Event. " +
			"A malformed global-auth-* ConfigMap key likewise makes the paths global auth covers answer 503, where ingress-nginx drops global auth. " +
			"As with nginx's defaults, an https auth service's certificate is not verified. Auth responses are not cached (auth-cache-key is not supported).",
	},
	Parse: ParseURLTemplate,
}

// AuthMethod is the method of the auth request.
var AuthMethod = Value[string]{
	Key: Key{
		Name: "auth-method", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "GET",
		Doc: "HTTP method of the request sent to auth-url; when set, X-Original-URI and X-Scheme are sent too. An invalid method makes the Ingress's paths answer 503.",
	},
	Parse: parseAuthMethod,
}

// AuthSignin is where a 401 from the auth service redirects the client.
var AuthSignin = Value[URLTemplate]{
	Key: Key{
		Name: "auth-signin", Scope: ScopeLocation, Risk: RiskHigh, Support: Supported,
		Doc:   "URL a 401 from auth-url redirects the client to (302), with the original URL in the auth-signin-redirect-param query parameter unless the URL already has it.",
		Notes: "The URL may use only the variables " + templateVarList + "; an invalid value is reported and ignored (the 401 goes to the client), as in ingress-nginx.",
	},
	Parse: ParseURLTemplate,
}

// AuthSigninRedirectParam names the return-URL parameter of AuthSignin.
var AuthSigninRedirectParam = Value[string]{
	Key: Key{
		Name: "auth-signin-redirect-param", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported, Default: "rd",
		Doc: "Name of the query parameter of auth-signin that carries the original URL.",
	},
	Parse: charset("letters, digits, -, _, . and ~", func(c rune) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
	}),
}

// AuthResponseHeaders are copied from the auth response into the upstream
// request.
var AuthResponseHeaders = Value[[]string]{
	Key: Key{
		Name: "auth-response-headers", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported,
		Doc: "Comma-separated headers copied from the auth service's response into the upstream request, replacing any the client sent; a listed header the auth response lacks is removed from the request. An invalid name makes the Ingress's paths answer 503.",
	},
	Parse: ParseHeaderList,
}

// AuthRequestRedirect is the X-Auth-Request-Redirect value sent to the
// auth service.
var AuthRequestRedirect = Value[string]{
	Key: Key{
		Name: "auth-request-redirect", Scope: ScopeLocation, Risk: RiskMedium, Support: Differs,
		Doc:   "Value of the X-Auth-Request-Redirect header sent to the auth service (default: the request URI).",
		Notes: "An invalid value makes the Ingress's paths answer 503; ingress-nginx silently turns authentication off instead.",
	},
	Parse: parseRequestRedirect,
}

// AuthAlwaysSetCookie passes the auth Set-Cookie on every status.
var AuthAlwaysSetCookie = Value[bool]{
	Key: Key{
		Name: "auth-always-set-cookie", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "false",
		Doc:   "Passes the auth service's Set-Cookie to the client on every response; by default only on 2xx and 3xx responses (nginx add_header's codes).",
		Notes: "An invalid value makes the Ingress's paths answer 503; ingress-nginx silently turns authentication off instead.",
	},
	Parse: ParseBool,
}

// EnableGlobalAuth opts an Ingress out of global-auth-url.
var EnableGlobalAuth = Value[bool]{
	Key: Key{
		Name: "enable-global-auth", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "true",
		Doc: "Set to false to exempt the Ingress from the global-auth-url ConfigMap setting; an invalid value is reported and the default (true) used.",
	},
	Parse: ParseBool,
}

// TemplateVar is an nginx variable an auth URL template may use.
type TemplateVar string

// The supported variables, with nginx's meaning.
const (
	// VarScheme is $scheme: http or https (the forwarded scheme when
	// forwarded headers are trusted).
	VarScheme TemplateVar = "scheme"
	// VarHost is $host: the request's host name, lower-case, without port.
	VarHost TemplateVar = "host"
	// VarHTTPHost is $http_host: the Host header as sent.
	VarHTTPHost TemplateVar = "http_host"
	// VarRequestURI is $request_uri: the request's path and query as sent.
	VarRequestURI TemplateVar = "request_uri"
	// VarEscapedRequestURI is ingress-nginx's $escaped_request_uri: the
	// request URI escaped as a query component.
	VarEscapedRequestURI TemplateVar = "escaped_request_uri"
	// VarRemoteAddr is $remote_addr: the client address.
	VarRemoteAddr TemplateVar = "remote_addr"
	// VarRequestMethod is $request_method.
	VarRequestMethod TemplateVar = "request_method"
	// VarArgs is $args: the query string without "?".
	VarArgs TemplateVar = "args"
)

var templateVars = []TemplateVar{VarScheme, VarHost, VarHTTPHost, VarRequestURI, VarEscapedRequestURI, VarRemoteAddr, VarRequestMethod, VarArgs}

const templateVarList = "$scheme, $host, $http_host, $request_uri, $escaped_request_uri, $remote_addr, $request_method and $args"

// TemplatePart is literal text or one variable.
type TemplatePart struct {
	// Text is literal text; empty when Var is set.
	Text string
	// Var is the variable expanded here.
	Var TemplateVar
}

// URLTemplate is a parsed auth URL: parts that, expanded and joined, make
// an absolute http or https URL.
type URLTemplate struct {
	Parts []TemplatePart
}

// String renders the template back in nginx syntax, each variable as
// ${name}.
func (t URLTemplate) String() string {
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Var != "" {
			b.WriteString("${" + string(p.Var) + "}")
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// Expand joins the parts, each variable replaced by vars(name).
func (t URLTemplate) Expand(vars func(TemplateVar) string) string {
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Var != "" {
			b.WriteString(vars(p.Var))
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// urlChar reports the runes an auth URL template may contain besides a
// variable: RFC 3986's characters, without the fragment mark, quotes and
// braces (which only delimit ${name}).
func urlChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~:/?[]@!&()*+,;=%", c)
}

func isVarChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// ParseURLTemplate parses an auth URL: an absolute http or https URL that
// may contain the variables $scheme (as the whole scheme), $host and
// $http_host (in the host part), and the others after the host. Variables
// are written $name or ${name}, as in nginx.
func ParseURLTemplate(raw string) (URLTemplate, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return URLTemplate{}, errors.New("empty URL")
	}
	var t URLTemplate
	text := func(lit string) {
		if lit == "" {
			return
		}
		if n := len(t.Parts); n > 0 && t.Parts[n-1].Var == "" {
			t.Parts[n-1].Text += lit
			return
		}
		t.Parts = append(t.Parts, TemplatePart{Text: lit})
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' {
			if c >= 0x80 || !urlChar(rune(c)) {
				return URLTemplate{}, fmt.Errorf("character %q is not allowed in an auth URL", rune(c))
			}
			i++
			continue
		}
		text(s[start:i])
		var name string
		if i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return URLTemplate{}, errors.New("unterminated ${")
			}
			name = s[i+2 : i+2+end]
			for j := 0; j < len(name); j++ {
				if !isVarChar(name[j]) {
					return URLTemplate{}, fmt.Errorf("invalid variable name ${%s}", name)
				}
			}
			i += 3 + end
		} else {
			j := i + 1
			for j < len(s) && isVarChar(s[j]) {
				j++
			}
			name = s[i+1 : j]
			i = j
		}
		if name == "" {
			return URLTemplate{}, errors.New("$ must start a variable ($name or ${name})")
		}
		v := TemplateVar(name)
		known := false
		for _, k := range templateVars {
			known = known || k == v
		}
		if !known {
			return URLTemplate{}, fmt.Errorf("variable $%s is not supported (only %s)", name, templateVarList)
		}
		t.Parts = append(t.Parts, TemplatePart{Var: v})
		start = i
	}
	text(s[start:])
	if err := t.check(); err != nil {
		return URLTemplate{}, err
	}
	return t, nil
}

// check makes sure the template can only expand to an absolute http(s)
// URL whose host the client cannot move: the scheme is literal or
// $scheme, the host part holds only literal text, $host and $http_host,
// and a sample expansion parses with a host.
func (t URLTemplate) check() error {
	// Where each part sits: 0 scheme, 1 authority, 2 after the authority.
	zone := 0
	for _, p := range t.Parts {
		if p.Var != "" {
			switch {
			case zone == 0 && p.Var == VarScheme:
			case zone == 1 && (p.Var == VarHost || p.Var == VarHTTPHost):
			case zone == 2:
			default:
				return fmt.Errorf("variable $%s cannot be used in the scheme or host of the URL", p.Var)
			}
			continue
		}
		rest := p.Text
		for rest != "" && zone < 2 {
			if zone == 0 {
				i := strings.Index(rest, "://")
				if i < 0 {
					if strings.ContainsAny(rest, "/?") {
						return errors.New("not an absolute http or https URL")
					}
					rest = ""
					break
				}
				zone, rest = 1, rest[i+3:]
				continue
			}
			if i := strings.IndexAny(rest, "/?"); i >= 0 {
				zone, rest = 2, rest[i:]
			} else {
				rest = ""
			}
		}
	}
	sample := t.Expand(func(v TemplateVar) string {
		switch v {
		case VarScheme:
			return "https"
		case VarHost:
			return "example.com"
		case VarHTTPHost:
			return "example.com:8443"
		case VarRequestURI:
			return "/p?q=1"
		case VarEscapedRequestURI:
			return "%2Fp%3Fq%3D1"
		case VarRemoteAddr:
			return "192.0.2.1"
		case VarRequestMethod:
			return "GET"
		}
		return "q=1"
	})
	u, err := url.Parse(sample)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" || u.Hostname() == "" {
		return errors.New("not an absolute http or https URL (scheme and host are required)")
	}
	if u.User != nil {
		return errors.New("user information is not allowed in an auth URL")
	}
	return nil
}

// parseAuthMethod accepts the methods ingress-nginx does, upper-case.
func parseAuthMethod(raw string) (string, error) {
	switch m := strings.TrimSpace(raw); m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m, nil
	}
	return "", errors.New("not one of GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS, TRACE")
}

// parseRequestRedirect applies ingress-nginx's URL validator: letters,
// digits and -._~/:,?&= only, so that no variable or escape hides in it.
func parseRequestRedirect(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~/:,?&=", c)) {
			return "", errors.New("may contain only letters, digits and -._~/:,?&=")
		}
	}
	return v, nil
}

// ParseHeaderList parses a comma-separated list of header names made of
// letters, digits, - and _, returned canonical and without duplicates, in
// the order given. Any bad entry fails the list: a header left out would
// no longer be protected from spoofing.
func ParseHeaderList(raw string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		for _, c := range f {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return nil, fmt.Errorf("header name %q may contain only letters, digits, - and _", f)
			}
		}
		k := http.CanonicalHeaderKey(f)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no header names")
	}
	return out, nil
}
