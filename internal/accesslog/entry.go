package accesslog

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Route is what a log line says about the route that served a request;
// it is built once per route and generation.
type Route struct {
	// UpstreamName is ingress-nginx's $proxy_upstream_name when it is not
	// "<ServiceNamespace>-<ServiceName>-<ServicePort>", which is rendered
	// when it is empty.
	UpstreamName string
	// Namespace and IngressName name the Ingress.
	Namespace   string
	IngressName string
	// ServiceNamespace, ServiceName and ServicePort name the backend.
	ServiceNamespace string
	ServiceName      string
	ServicePort      string
	// LocationPath is the Ingress path.
	LocationPath string
}

// Headers gives the header values a format may name. Names are canonical
// ("User-Agent"); "" means absent.
type Headers interface {
	RequestHeader(name string) string
	ResponseHeader(name string) string
}

// Entry is one request, as the access log sees it. Both HTTP engines fill
// one; string fields may point into reused buffers, so an Entry is
// rendered before the request's buffers are reused.
type Entry struct {
	// Start is when the request head began to arrive; End when the
	// response was finished.
	Start, End time.Time
	RemoteAddr string
	// Method, URI and Proto are the request line ("HTTP/1.1").
	Method, URI, Proto string
	Host               string
	Scheme             string
	// Authorization is the request's Authorization header, for
	// $remote_user.
	Authorization string
	// Status is the status sent to the client.
	Status int
	// BodyBytes are the response body bytes sent; HeadBytes the response
	// head's.
	BodyBytes, HeadBytes int64
	// RequestLength counts the request line, headers and body.
	RequestLength int64
	// Route is nil for requests that matched no route.
	Route *Route
	// UpstreamAddr is "" when no upstream was contacted.
	UpstreamAddr string
	// UpstreamStatus is 0 when no upstream answered.
	UpstreamStatus int
	// UpstreamLength is the upstream response body length, -1 unknown.
	UpstreamLength int64
	// UpstreamTime is how long the upstream exchange took.
	UpstreamTime time.Duration
	// ReqID is $req_id.
	ReqID   string
	Headers Headers
}

// Append renders e as one line, newline included, and appends it to dst.
func (t *Template) Append(dst []byte, e *Entry) []byte {
	for i := range t.Segments {
		s := &t.Segments[i]
		if s.Var == VarLiteral {
			dst = append(dst, s.Text...)
			continue
		}
		dst = t.appendVar(dst, s, e)
	}
	return append(dst, '\n')
}

func (t *Template) appendVar(dst []byte, s *Segment, e *Entry) []byte {
	str := func(v string) []byte { return t.appendValue(dst, v) }
	// Variables ingress-nginx sets in every location are empty, not "-",
	// when they have no value.
	set := func(v string) []byte {
		if v == "" {
			return dst
		}
		return t.appendValue(dst, v)
	}
	num := func(n int64, ok bool) []byte {
		if !ok {
			return t.appendValue(dst, "")
		}
		return strconv.AppendInt(dst, n, 10)
	}
	r := e.Route
	if r == nil {
		r = &Route{}
	}
	switch s.Var {
	case VarRemoteAddr:
		return str(e.RemoteAddr)
	case VarRemoteUser:
		return t.appendRemoteUser(dst, e.Authorization)
	case VarTimeLocal:
		return e.End.AppendFormat(dst, "02/Jan/2006:15:04:05 -0700")
	case VarTimeISO8601:
		return e.End.AppendFormat(dst, "2006-01-02T15:04:05-07:00")
	case VarMsec:
		ms := e.End.UnixMilli()
		dst = strconv.AppendInt(dst, ms/1000, 10)
		return appendFrac(append(dst, '.'), ms%1000)
	case VarRequest:
		if e.Method == "" {
			return str("")
		}
		dst = t.appendValue(dst, e.Method)
		dst = append(dst, ' ')
		dst = t.appendValue(dst, e.URI)
		dst = append(dst, ' ')
		return t.appendValue(dst, e.Proto)
	case VarStatus:
		return num(int64(e.Status), true)
	case VarBodyBytesSent:
		return num(e.BodyBytes, true)
	case VarBytesSent:
		return num(e.BodyBytes+e.HeadBytes, true)
	case VarRequestLength:
		return num(e.RequestLength, true)
	case VarRequestTime:
		return appendSeconds(dst, e.End.Sub(e.Start))
	case VarProxyUpstreamName:
		if r.UpstreamName == "" && r.ServiceName != "" {
			dst = t.appendValue(dst, r.ServiceNamespace)
			dst = append(dst, '-')
			dst = t.appendValue(dst, r.ServiceName)
			dst = append(dst, '-')
			return t.appendValue(dst, r.ServicePort)
		}
		return set(r.UpstreamName)
	case VarProxyAlternativeUpstreamName:
		return set("")
	case VarUpstreamAddr:
		return str(e.UpstreamAddr)
	case VarUpstreamResponseLength:
		return num(e.UpstreamLength, e.UpstreamAddr != "" && e.UpstreamLength >= 0)
	case VarUpstreamResponseTime:
		if e.UpstreamAddr == "" {
			return str("")
		}
		return appendSeconds(dst, e.UpstreamTime)
	case VarUpstreamStatus:
		return num(int64(e.UpstreamStatus), e.UpstreamStatus != 0)
	case VarReqID:
		return str(e.ReqID)
	case VarNamespace:
		return set(r.Namespace)
	case VarIngressName:
		return set(r.IngressName)
	case VarServiceName:
		return set(r.ServiceName)
	case VarServicePort:
		return set(r.ServicePort)
	case VarLocationPath:
		return set(r.LocationPath)
	case VarHost:
		h := e.Host
		if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
			h = h[:i]
		}
		return str(strings.ToLower(h))
	case VarRequestURI:
		return str(e.URI)
	case VarURI:
		u, _, _ := strings.Cut(e.URI, "?")
		return str(u)
	case VarArgs:
		_, q, _ := strings.Cut(e.URI, "?")
		return str(q)
	case VarScheme:
		return str(e.Scheme)
	case VarServerProtocol:
		return str(e.Proto)
	case VarRequestMethod:
		return str(e.Method)
	case VarHTTPHeader:
		if e.Headers == nil {
			return str("")
		}
		return str(e.Headers.RequestHeader(s.Text))
	case VarUpstreamHTTPHeader:
		if e.Headers == nil || e.UpstreamAddr == "" {
			return str("")
		}
		return str(e.Headers.ResponseHeader(s.Text))
	}
	return dst
}

// appendRemoteUser appends the user name of Basic credentials.
func (t *Template) appendRemoteUser(dst []byte, auth string) []byte {
	const prefix = "basic "
	if len(auth) <= len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return t.appendValue(dst, "")
	}
	enc := strings.TrimSpace(auth[len(prefix):])
	var src, buf [256]byte
	if len(enc) > len(src) {
		return t.appendValue(dst, "")
	}
	n, err := base64.StdEncoding.Decode(buf[:], src[:copy(src[:], enc)])
	if err != nil {
		return t.appendValue(dst, "")
	}
	user := buf[:n]
	for i, c := range user {
		if c == ':' {
			user = user[:i]
			break
		}
	}
	return t.appendBytes(dst, user)
}

// appendSeconds writes d as seconds with millisecond resolution, "0.003".
func appendSeconds(dst []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds()
	dst = strconv.AppendInt(dst, ms/1000, 10)
	return appendFrac(append(dst, '.'), ms%1000)
}

func appendFrac(dst []byte, ms int64) []byte {
	return append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

func (t *Template) appendValue(dst []byte, v string) []byte {
	if v == "" {
		if t.Escape == EscapeJSON {
			return dst
		}
		return append(dst, '-')
	}
	switch t.Escape {
	case EscapeNone:
		return append(dst, v...)
	case EscapeJSON:
		for i := 0; i < len(v); i++ {
			dst = appendJSONByte(dst, v[i])
		}
		return dst
	}
	for i := 0; i < len(v); i++ {
		dst = appendDefaultByte(dst, v[i])
	}
	return dst
}

func (t *Template) appendBytes(dst []byte, v []byte) []byte {
	if len(v) == 0 {
		return t.appendValue(dst, "")
	}
	for _, c := range v {
		switch t.Escape {
		case EscapeNone:
			dst = append(dst, c)
		case EscapeJSON:
			dst = appendJSONByte(dst, c)
		default:
			dst = appendDefaultByte(dst, c)
		}
	}
	return dst
}

const hexDigits = "0123456789ABCDEF"

// appendDefaultByte is nginx's default log escaping: ", \ and bytes
// outside printable ASCII as \xHH, so that a line stays one line.
func appendDefaultByte(dst []byte, c byte) []byte {
	if c == '"' || c == '\\' || c < 0x20 || c >= 0x7f {
		return append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, c)
}

// appendJSONByte escapes for the inside of a JSON string.
func appendJSONByte(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	if c < 0x20 {
		return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, c)
}
