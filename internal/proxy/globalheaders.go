package proxy

import (
	"bufio"
	"strconv"
	"strings"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// globalHeaders is the compiled model.Headers: the ConfigMap's header
// settings, applied by both engines on every route. Header lines are
// rendered once per generation so that the HTTP/1 engine copies bytes.
// A generation whose settings are all ingress-nginx's defaults has none
// (nil), and requests pay nothing for the feature.
type globalHeaders struct {
	// upstream are the proxy-set-headers lines, "Name: value\r\n";
	// upstreamKV the same entries for the net/http engine.
	upstream   []byte
	upstreamKV []model.Header
	// dynamic are the proxy-set-headers whose values use variables,
	// built per request.
	dynamic []model.Header
	// replaced are the lower-case names of client headers not passed on,
	// because proxy-set-headers sets or removes them.
	replaced map[string]bool
	// response are the add-headers lines (and the Server header);
	// responseKV the same entries.
	response   []byte
	responseKV []model.Header
	// hidden are the lower-case names of upstream response headers not
	// passed on: hide-headers, and those response replaces or removes.
	hidden map[string]bool
	// underscores passes client headers with "_" in their names;
	// invalidNames those with other characters nginx does not expect.
	underscores, invalidNames bool
	// noRequestID sends X-Request-ID only when the client sent one.
	noRequestID bool
}

// serverToken is the Server header value with server-tokens on.
const serverToken = "strait"

func compileHeaders(h *model.Headers) *globalHeaders {
	if len(h.Upstream) == 0 && len(h.Response) == 0 && len(h.Hide) == 0 && !h.ServerTokens && !h.NoRequestIDGeneration && !h.Underscores && !h.InvalidNames {
		return nil
	}
	gh := &globalHeaders{underscores: h.Underscores, invalidNames: h.InvalidNames, noRequestID: h.NoRequestIDGeneration, replaced: map[string]bool{}, hidden: map[string]bool{}}
	var b strings.Builder
	for _, kv := range h.Upstream {
		gh.replaced[strings.ToLower(kv.Name)] = true
		if len(kv.Parts) > 0 {
			gh.dynamic = append(gh.dynamic, kv)
		} else if kv.Value != "" {
			gh.upstreamKV = append(gh.upstreamKV, kv)
			b.WriteString(kv.Name + ": " + kv.Value + "\r\n")
		}
	}
	gh.upstream = []byte(b.String())
	b.Reset()
	resp := h.Response
	if h.ServerTokens {
		own := false
		for _, kv := range resp {
			own = own || strings.EqualFold(kv.Name, "server")
		}
		if !own {
			// add-headers, applied after server_tokens in nginx, wins.
			resp = append([]model.Header{{Name: "Server", Value: serverToken}}, resp...)
		}
	}
	for _, kv := range resp {
		gh.hidden[strings.ToLower(kv.Name)] = true
		if kv.Value != "" {
			gh.responseKV = append(gh.responseKV, kv)
			b.WriteString(kv.Name + ": " + kv.Value + "\r\n")
		}
	}
	gh.response = []byte(b.String())
	for _, n := range h.Hide {
		gh.hidden[strings.ToLower(n)] = true
	}
	return gh
}

// passUnderscores reports whether client headers with "_" are passed.
func (gh *globalHeaders) passUnderscores() bool { return gh != nil && gh.underscores }

// passInvalidNames reports whether client headers with names nginx calls
// invalid are passed (ignore-invalid-headers false).
func (gh *globalHeaders) passInvalidNames() bool { return gh != nil && gh.invalidNames }

// generateRequestID reports whether a missing X-Request-ID is made up.
func (gh *globalHeaders) generateRequestID() bool { return gh == nil || !gh.noRequestID }

// replaces reports whether the client's header name is replaced or
// removed by proxy-set-headers.
func (gh *globalHeaders) replaces(name []byte) bool {
	return gh != nil && len(gh.replaced) > 0 && inLowerSet(gh.replaced, name)
}

// replacesString is replaces for the net/http engine's names.
func (gh *globalHeaders) replacesString(name string) bool {
	return gh != nil && len(gh.replaced) > 0 && inLowerSet(gh.replaced, name)
}

// hides reports whether the upstream's response header name is not
// passed to the client.
func (gh *globalHeaders) hides(name []byte) bool {
	return gh != nil && len(gh.hidden) > 0 && inLowerSet(gh.hidden, name)
}

// hidesString is hides for the net/http engine's names.
func (gh *globalHeaders) hidesString(name string) bool {
	return gh != nil && len(gh.hidden) > 0 && inLowerSet(gh.hidden, name)
}

// inLowerSet looks a name up in a set of lower-case names without
// allocating for names of common length.
func inLowerSet[T string | []byte](set map[string]bool, name T) bool {
	var buf [64]byte
	if len(name) > len(buf) {
		return set[strings.ToLower(string(name))]
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return set[string(buf[:len(name)])]
}

// headerVars are the values of the variables a header may use, for one
// request.
type headerVars struct {
	host       string // Host as the client sent it; $host strips the port
	remoteAddr string
	scheme     string
}

// writeDynamic writes the proxy-set-headers whose values use variables.
func (gh *globalHeaders) writeDynamic(w *bufio.Writer, v *headerVars) {
	for _, h := range gh.dynamic {
		w.WriteString(h.Name)
		w.WriteString(": ")
		for _, p := range h.Parts {
			switch p.Var {
			case "":
				w.WriteString(p.Text)
			case model.VarHost:
				w.WriteString(lower(stripPort(v.host)))
			case model.VarRemoteAddr:
				w.WriteString(v.remoteAddr)
			case model.VarScheme:
				w.WriteString(v.scheme)
			case model.VarMsec:
				now := time.Now()
				w.Write(strconv.AppendInt(w.AvailableBuffer(), now.Unix(), 10))
				ms := now.Nanosecond() / 1e6
				w.WriteByte('.')
				w.WriteByte(byte('0' + ms/100))
				w.WriteByte(byte('0' + ms/10%10))
				w.WriteByte(byte('0' + ms%10))
			}
		}
		w.WriteString("\r\n")
	}
}
