package annotations

import (
	"errors"
	"strings"
)

// ProxyBufferSize is nginx's proxy_buffer_size, which bounds the upstream
// response head. Strait accepts response heads of at least 32k, and of
// this size when it is larger.
var ProxyBufferSize = Value[int64]{
	Key: Key{
		Name: "proxy-buffer-size", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "4k", ConfigMapKey: "proxy-buffer-size",
		Doc:   "Buffer for the upstream's response headers, which bounds their size (larger ones fail with 502 in nginx).",
		Notes: "Strait accepts upstream response heads of up to 32k, or of this size when it is larger; nginx fails smaller values' larger heads with 502, Strait does not.",
	},
	Parse: ParseSize,
}

// ProxyRequestBuffering is accepted and validated; Strait streams request
// bodies.
var ProxyRequestBuffering = Value[bool]{
	Key: Key{
		Name: "proxy-request-buffering", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "on", ConfigMapKey: "proxy-request-buffering",
		Doc:   "Whether the whole request body is read before the upstream is contacted (on) or streamed to it (off).",
		Notes: "Strait always streams request bodies, as with off: the upstream is contacted when the head arrives, and a chunked upload is forwarded chunked rather than with a Content-Length. proxy-body-size is still enforced (413), also while a chunked body streams.",
	},
	Parse: ParseOnOff,
}

// ProxyBuffering is accepted and validated; Strait streams responses.
var ProxyBuffering = Value[bool]{
	Key: Key{
		Name: "proxy-buffering", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "off", ConfigMapKey: "proxy-buffering",
		Doc:   "Whether upstream responses are buffered before being sent to the client, instead of streamed.",
		Notes: "Strait always streams responses, as with the default off; on is accepted and has no effect.",
	},
	Parse: ParseOnOff,
}

// HeaderBuffers is large-client-header-buffers: number and size.
type HeaderBuffers struct {
	Number int
	Size   int64
}

// maxHeaderBuffersTotal bounds number × size: a head is held in memory
// while it is parsed.
const maxHeaderBuffersTotal = 4 << 20

// ParseHeaderBuffers accepts nginx's "<number> <size>", e.g. "4 8k".
func ParseHeaderBuffers(raw string) (HeaderBuffers, error) {
	f := strings.Fields(raw)
	if len(f) != 2 {
		return HeaderBuffers{}, errors.New("must be a number and a size, e.g. 4 8k")
	}
	n, err := ParseInt(f[0])
	if err != nil || n < 1 {
		return HeaderBuffers{}, errors.New("the number of buffers must be a positive integer")
	}
	size, err := ParseSize(f[1])
	if err != nil {
		return HeaderBuffers{}, err
	}
	if size < 64 {
		return HeaderBuffers{}, errors.New("the buffer size must be at least 64 bytes")
	}
	if int64(n) > maxHeaderBuffersTotal/size {
		return HeaderBuffers{}, errors.New("number × size must not exceed 4m")
	}
	return HeaderBuffers{Number: n, Size: size}, nil
}

// ParseNginxDuration accepts an nginx time: a number of seconds, or
// numbers with units ms, s, m, h, d (e.g. "1h", "1m30s"). It returns
// whole seconds, rounding milliseconds up.
func ParseNginxDuration(raw string) (int, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	const maxSeconds = 1e9
	if n, err := ParseSeconds(s); err == nil {
		if n > maxSeconds {
			return 0, errors.New("duration too long")
		}
		return n, nil
	}
	var ms int64
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 10 {
			return 0, errors.New("not a duration (seconds, or numbers with ms, s, m, h or d)")
		}
		n := int64(0)
		for _, c := range s[:i] {
			n = n*10 + int64(c-'0')
		}
		s = s[i:]
		unit := map[string]int64{"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
		var u string
		switch {
		case strings.HasPrefix(s, "ms"):
			u = "ms"
		case s != "" && strings.ContainsRune("smhd", rune(s[0])):
			u = s[:1]
		default:
			return 0, errors.New("not a duration (seconds, or numbers with ms, s, m, h or d)")
		}
		s = s[len(u):]
		ms += n * unit[u]
		if ms > maxSeconds*1000 {
			return 0, errors.New("duration too long")
		}
	}
	return int((ms + 999) / 1000), nil
}
