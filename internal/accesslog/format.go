// Package accesslog parses ingress-nginx's access-log format
// (log-format-upstream) into a typed template of literals and known
// variables, and renders one line per request from an Entry without
// allocating. The format is parsed once per configuration; a variable the
// package does not know is an error, so that a user's format never turns
// into anything but literals and the values listed here.
package accesslog

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// DefaultFormat is ingress-nginx's log-format-upstream.
const DefaultFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`

// Var is a variable of the format.
type Var uint8

// The variables Strait fills, named as in nginx and ingress-nginx.
const (
	// VarLiteral marks a segment that is literal text.
	VarLiteral Var = iota
	VarRemoteAddr
	VarRemoteUser
	VarTimeLocal
	VarTimeISO8601
	VarMsec
	VarRequest
	VarStatus
	VarBodyBytesSent
	VarBytesSent
	VarRequestLength
	VarRequestTime
	VarProxyUpstreamName
	VarProxyAlternativeUpstreamName
	VarUpstreamAddr
	VarUpstreamResponseLength
	VarUpstreamResponseTime
	VarUpstreamStatus
	VarReqID
	VarNamespace
	VarIngressName
	VarServiceName
	VarServicePort
	VarLocationPath
	VarHost
	VarRequestURI
	VarURI
	VarArgs
	VarScheme
	VarServerProtocol
	VarRequestMethod
	// VarHTTPHeader is $http_<name>: a request header.
	VarHTTPHeader
	// VarUpstreamHTTPHeader is $upstream_http_<name>: an upstream response
	// header.
	VarUpstreamHTTPHeader
)

var varNames = map[string]Var{
	"remote_addr":                     VarRemoteAddr,
	"remote_user":                     VarRemoteUser,
	"time_local":                      VarTimeLocal,
	"time_iso8601":                    VarTimeISO8601,
	"msec":                            VarMsec,
	"request":                         VarRequest,
	"status":                          VarStatus,
	"body_bytes_sent":                 VarBodyBytesSent,
	"bytes_sent":                      VarBytesSent,
	"request_length":                  VarRequestLength,
	"request_time":                    VarRequestTime,
	"proxy_upstream_name":             VarProxyUpstreamName,
	"proxy_alternative_upstream_name": VarProxyAlternativeUpstreamName,
	"upstream_addr":                   VarUpstreamAddr,
	"upstream_response_length":        VarUpstreamResponseLength,
	"upstream_response_time":          VarUpstreamResponseTime,
	"upstream_status":                 VarUpstreamStatus,
	"req_id":                          VarReqID,
	"request_id":                      VarReqID,
	"namespace":                       VarNamespace,
	"ingress_name":                    VarIngressName,
	"service_name":                    VarServiceName,
	"service_port":                    VarServicePort,
	"location_path":                   VarLocationPath,
	"host":                            VarHost,
	"request_uri":                     VarRequestURI,
	"uri":                             VarURI,
	"args":                            VarArgs,
	"query_string":                    VarArgs,
	"scheme":                          VarScheme,
	"server_protocol":                 VarServerProtocol,
	"request_method":                  VarRequestMethod,
}

// Segment is a literal or a variable.
type Segment struct {
	// Var is the variable, VarLiteral for text.
	Var Var
	// Text is the literal text, or for VarHTTPHeader and
	// VarUpstreamHTTPHeader the canonical header name ("User-Agent").
	Text string
}

// Escape is how variable values are escaped (log-format-escape-json,
// log-format-escape-none).
type Escape uint8

// Escapes, as nginx's log_format escape= parameter.
const (
	// EscapeDefault writes ", \ and bytes outside printable ASCII as \xHH
	// and empty values as "-".
	EscapeDefault Escape = iota
	// EscapeJSON escapes for a JSON string; empty values stay empty.
	EscapeJSON
	// EscapeNone writes values as they are; empty values as "-".
	EscapeNone
)

// Template is a parsed format.
type Template struct {
	Segments []Segment
	Escape   Escape
}

// maxFormat bounds a format: a log line is built per request.
const maxFormat = 16 << 10

// Parse parses an nginx log format: literal text with $name or ${name}
// variables.
func Parse(format string, esc Escape) (*Template, error) {
	if strings.TrimSpace(format) == "" {
		return nil, errors.New("empty format")
	}
	if len(format) > maxFormat {
		return nil, fmt.Errorf("longer than %d bytes", maxFormat)
	}
	t := &Template{Escape: esc}
	lit := func(s string) {
		if s == "" {
			return
		}
		if n := len(t.Segments); n > 0 && t.Segments[n-1].Var == VarLiteral {
			t.Segments[n-1].Text += s
			return
		}
		t.Segments = append(t.Segments, Segment{Text: s})
	}
	for s := format; s != ""; {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			lit(s)
			break
		}
		lit(s[:i])
		s = s[i+1:]
		var name string
		if strings.HasPrefix(s, "{") {
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return nil, errors.New("unterminated ${")
			}
			name, s = s[1:end], s[end+1:]
		} else {
			n := 0
			for n < len(s) && isNameChar(s[n]) {
				n++
			}
			name, s = s[:n], s[n:]
		}
		seg, err := variable(name)
		if err != nil {
			return nil, err
		}
		t.Segments = append(t.Segments, seg)
	}
	return t, nil
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func variable(name string) (Segment, error) {
	if name == "" {
		return Segment{}, errors.New("$ without a variable name")
	}
	for i := 0; i < len(name); i++ {
		if !isNameChar(name[i]) {
			return Segment{}, fmt.Errorf("invalid variable name %q", name)
		}
	}
	if v, ok := varNames[name]; ok {
		return Segment{Var: v}, nil
	}
	for _, h := range []struct {
		prefix string
		v      Var
	}{{"upstream_http_", VarUpstreamHTTPHeader}, {"http_", VarHTTPHeader}} {
		if hdr, ok := strings.CutPrefix(name, h.prefix); ok && hdr != "" {
			// nginx maps "_" to "-" in header variable names.
			return Segment{Var: h.v, Text: textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(hdr, "_", "-"))}, nil
		}
	}
	return Segment{}, fmt.Errorf("unknown variable $%s", name)
}
