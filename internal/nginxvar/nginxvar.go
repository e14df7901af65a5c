// Package nginxvar is Strait's one reader of nginx variables in values
// users write: snippet directives and the annotations that accept
// variables (upstream-vhost, upstream-hash-by, auth-url, auth-signin,
// mirror-target, x-forwarded-prefix, permanent-redirect and the like).
//
// A value is parsed once, when its generation is built, into a Template of
// literal text and typed variables; a request expands it without parsing
// again. The variables are a fixed, documented set (Names); a value naming
// any other is refused with an error that says which, never expanded to
// an empty string.
package nginxvar

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is the kind of a variable.
type Kind uint8

// The variables. Prefixed kinds take a name: $http_x_token is KindHTTP
// with the name "x_token".
const (
	// KindNone marks literal text in a Part.
	KindNone Kind = iota
	// KindHost is $host: the request's host name, lower-case, without a
	// port.
	KindHost
	// KindHTTPHost is $http_host: the Host header as sent.
	KindHTTPHost
	// KindBestHTTPHost is ingress-nginx's $best_http_host: the forwarded
	// host when forwarded headers are trusted, else $http_host.
	KindBestHTTPHost
	// KindScheme is $scheme: http or https.
	KindScheme
	// KindRequestURI is $request_uri: path and query as sent.
	KindRequestURI
	// KindEscapedRequestURI is ingress-nginx's $escaped_request_uri: the
	// request URI escaped as a query component.
	KindEscapedRequestURI
	// KindURI is $uri: the normalised, decoded path.
	KindURI
	// KindArgs is $args (also $query_string): the query without "?".
	KindArgs
	// KindIsArgs is $is_args: "?" when there is a query, else "".
	KindIsArgs
	// KindRemoteAddr is $remote_addr: the client address.
	KindRemoteAddr
	// KindRemotePort is $remote_port.
	KindRemotePort
	// KindRequestMethod is $request_method.
	KindRequestMethod
	// KindServerPort is $server_port: the port the request arrived on.
	KindServerPort
	// KindServerName is $server_name: the virtual host's name.
	KindServerName
	// KindRequestID is $req_id (also $request_id): the request's id.
	KindRequestID
	// KindNamespace, KindIngressName, KindServiceName and KindServicePort
	// are ingress-nginx's $namespace, $ingress_name, $service_name and
	// $service_port of the location.
	KindNamespace
	KindIngressName
	KindServiceName
	KindServicePort
	// KindHTTP is $http_<name>: a request header, its name lower-case
	// with "_" for "-".
	KindHTTP
	// KindArg is $arg_<name>: a query parameter.
	KindArg
	// KindCookie is $cookie_<name>: a cookie.
	KindCookie
	// KindCapture is $1 to $9: a capture of the regular expression that
	// matched (a location or a rewrite); Name is the digit.
	KindCapture
)

// fixed are the variables without a name part, by their nginx name.
func fixed(name string) (Kind, bool) {
	switch name {
	case "host":
		return KindHost, true
	case "http_host":
		return KindHTTPHost, true
	case "best_http_host":
		return KindBestHTTPHost, true
	case "scheme":
		return KindScheme, true
	case "request_uri":
		return KindRequestURI, true
	case "escaped_request_uri":
		return KindEscapedRequestURI, true
	case "uri", "document_uri":
		return KindURI, true
	case "args", "query_string":
		return KindArgs, true
	case "is_args":
		return KindIsArgs, true
	case "remote_addr":
		return KindRemoteAddr, true
	case "remote_port":
		return KindRemotePort, true
	case "request_method":
		return KindRequestMethod, true
	case "server_port":
		return KindServerPort, true
	case "server_name":
		return KindServerName, true
	case "req_id", "request_id":
		return KindRequestID, true
	case "namespace":
		return KindNamespace, true
	case "ingress_name":
		return KindIngressName, true
	case "service_name":
		return KindServiceName, true
	case "service_port":
		return KindServicePort, true
	}
	return KindNone, false
}

// Names lists the variables a value may use, for documentation and error
// messages: the fixed ones, then the families.
func Names() []string {
	return []string{
		"host", "http_host", "best_http_host", "scheme", "request_uri", "escaped_request_uri", "uri", "document_uri",
		"args", "query_string", "is_args", "remote_addr", "remote_port", "request_method", "server_port", "server_name",
		"req_id", "request_id", "namespace", "ingress_name", "service_name", "service_port",
		"http_<header>", "arg_<parameter>", "cookie_<name>", "1 to 9",
	}
}

// Var is one variable.
type Var struct {
	Kind Kind
	// Name is the header, parameter or cookie name of a family, or the
	// capture's digit; empty for the others.
	Name string
}

// String renders the variable as nginx writes it.
func (v Var) String() string {
	if v.Kind == KindCapture {
		return "$" + v.Name
	}
	return "$" + v.nginxName()
}

func (v Var) nginxName() string {
	switch v.Kind {
	case KindHTTP:
		return "http_" + v.Name
	case KindArg:
		return "arg_" + v.Name
	case KindCookie:
		return "cookie_" + v.Name
	case KindCapture:
		return v.Name
	}
	for _, n := range Names() {
		if k, ok := fixed(n); ok && k == v.Kind {
			return n
		}
	}
	return "?"
}

// Part is literal text or one variable.
type Part struct {
	// Text is literal text when Var.Kind is KindNone.
	Text string
	Var  Var
}

// Template is a parsed value.
type Template struct {
	Parts []Part
}

// Constant reports whether the template has no variable, and its text.
func (t Template) Constant() (string, bool) {
	switch len(t.Parts) {
	case 0:
		return "", true
	case 1:
		if t.Parts[0].Var.Kind == KindNone {
			return t.Parts[0].Text, true
		}
	}
	return "", false
}

// Vars returns the template's variables in order.
func (t Template) Vars() []Var {
	var out []Var
	for _, p := range t.Parts {
		if p.Var.Kind != KindNone {
			out = append(out, p.Var)
		}
	}
	return out
}

// String renders the template back in nginx syntax, each variable as
// ${name}, so that it reads the same whatever follows. (Literal text never
// holds "$": every "$" starts a variable.)
func (t Template) String() string {
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Var.Kind == KindNone {
			b.WriteString(p.Text)
			continue
		}
		b.WriteString("${" + p.Var.nginxName() + "}")
	}
	return b.String()
}

// Source gives a request's variables to Expand.
type Source interface {
	// Value returns the variable's value for the request; "" when it has
	// none (an absent header, no capture).
	Value(v Var) string
}

// Expand appends the template's value for src to dst.
func (t Template) Expand(dst []byte, src Source) []byte {
	for _, p := range t.Parts {
		if p.Var.Kind == KindNone {
			dst = append(dst, p.Text...)
			continue
		}
		dst = append(dst, src.Value(p.Var)...)
	}
	return dst
}

// ErrEmptyName is returned for "$" or "${}" without a name.
var ErrEmptyName = errors.New(`"$" without a variable name`)

// Parse reads a value with variables written $name or ${name}. allow, when
// not nil, restricts the kinds a caller accepts (a Host header cannot use
// $request_uri, say); a variable it refuses is an error naming it.
//
// As in nginx, a "$" is always a variable: there is no escape for a
// literal dollar sign.
func Parse(s string, allow func(Kind) bool) (Template, error) {
	var t Template
	text := func(lit string) {
		if lit == "" {
			return
		}
		if n := len(t.Parts); n > 0 && t.Parts[n-1].Var.Kind == KindNone {
			t.Parts[n-1].Text += lit
			return
		}
		t.Parts = append(t.Parts, Part{Text: lit})
	}
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			text(s)
			return t, nil
		}
		text(s[:i])
		s = s[i+1:]
		var name string
		switch {
		case strings.HasPrefix(s, "{"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return Template{}, errors.New(`unterminated "${"`)
			}
			name, s = s[1:end], s[end+1:]
		case s != "" && s[0] >= '1' && s[0] <= '9':
			// $1 is one digit: $10 is $1 followed by "0", as in nginx.
			name, s = s[:1], s[1:]
		default:
			n := 0
			for n < len(s) && isNameChar(s[n]) {
				n++
			}
			name, s = s[:n], s[n:]
		}
		if name == "" {
			return Template{}, ErrEmptyName
		}
		v, err := lookup(name)
		if err != nil {
			return Template{}, err
		}
		if allow != nil && !allow(v.Kind) {
			return Template{}, fmt.Errorf("variable $%s cannot be used here", name)
		}
		t.Parts = append(t.Parts, Part{Var: v})
	}
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// lookup resolves a variable name; nginx's names are case-sensitive.
func lookup(name string) (Var, error) {
	if k, ok := fixed(name); ok {
		return Var{Kind: k}, nil
	}
	if len(name) == 1 && name[0] >= '1' && name[0] <= '9' {
		return Var{Kind: KindCapture, Name: name}, nil
	}
	for _, fam := range []struct {
		prefix string
		kind   Kind
	}{{"http_", KindHTTP}, {"arg_", KindArg}, {"cookie_", KindCookie}} {
		if rest, ok := strings.CutPrefix(name, fam.prefix); ok {
			if rest == "" {
				return Var{}, fmt.Errorf("variable $%s names no %s", name, strings.TrimSuffix(fam.prefix, "_"))
			}
			for i := 0; i < len(rest); i++ {
				if !isNameChar(rest[i]) {
					return Var{}, fmt.Errorf("variable ${%s}: %q is not allowed in a name", name, rest[i])
				}
			}
			return Var{Kind: fam.kind, Name: rest}, nil
		}
	}
	return Var{}, fmt.Errorf("variable $%s is not supported (supported: $%s)", name, strings.Join(Names(), ", $"))
}
