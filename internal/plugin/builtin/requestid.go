package builtin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"

	"golang.org/x/net/http/httpguts"

	"github.com/straitgw/strait/internal/plugin"
)

// RequestID is the request-id plugin: a request without the header gets
// a random 128-bit id in Rewrite, and the response carries the request's
// id back in HeaderFilter, so a client can quote it when reporting a
// problem and the upstream sees the same value.
//
// Configuration: header, the header's name (default X-Request-ID).
var RequestID = plugin.Spec[requestIDConfig]{
	PluginName: "request-id",
	Parse:      parseRequestID,
	Build:      func(c requestIDConfig) plugin.Plugin { return &requestID{header: c.header} },
}

type requestIDConfig struct {
	header string // canonical
}

func parseRequestID(cfg map[string]string) (requestIDConfig, error) {
	c := requestIDConfig{header: "X-Request-Id"}
	for k, v := range cfg {
		switch k {
		case "header":
			if !httpguts.ValidHeaderFieldName(v) {
				return c, fmt.Errorf("header %q is not a valid header name", v)
			}
			c.header = http.CanonicalHeaderKey(v)
		default:
			return c, fmt.Errorf("unknown key %q (known: header)", k)
		}
	}
	return c, nil
}

type requestID struct {
	plugin.Base
	header string
}

func (p *requestID) Rewrite(c *plugin.Call) (*plugin.Answer, error) {
	id := c.Request.Header.Get(p.header)
	if id == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
		c.Request.Header.Set(p.header, id)
	}
	c.State = id
	return nil, nil
}

func (p *requestID) HeaderFilter(c *plugin.Call, resp *plugin.Head) error {
	if id, _ := c.State.(string); id != "" {
		resp.Header.Set(p.header, id)
	}
	return nil
}
