package oidc

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// claims are an ID token's claims, numbers kept as written.
type claims map[string]any

func parseClaims(payload []byte) (claims, error) {
	d := json.NewDecoder(strings.NewReader(string(payload)))
	d.UseNumber()
	var c claims
	if err := d.Decode(&c); err != nil {
		return nil, err
	}
	return c, nil
}

// strings returns a claim as strings: a string or number or boolean as
// one, a list as its scalar members; objects and null give nothing.
func (c claims) strings(name string) []string {
	switch v := c[name].(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := scalar(e); ok {
				out = append(out, s)
			}
		}
		return out
	default:
		if s, ok := scalar(v); ok {
			return []string{s}
		}
	}
	return nil
}

func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// admits reports whether the claims satisfy the allowed groups and the
// required claims; reason says which rule failed.
func admits(o *model.OIDC, c claims) (ok bool, reason string) {
	if len(o.AllowedGroups) > 0 {
		in := false
		for _, g := range c.strings(o.GroupsClaim) {
			for _, want := range o.AllowedGroups {
				in = in || g == want
			}
		}
		if !in {
			return false, "not in an allowed group"
		}
	}
	for _, r := range o.RequiredClaims {
		has := false
		for _, v := range c.strings(r.Claim) {
			has = has || v == r.Value
		}
		if !has {
			return false, "claim " + r.Claim + " is not " + r.Value
		}
	}
	return true, ""
}

// headerValue is what a claim sends upstream: its values joined by
// commas, with control characters (which would split or corrupt the
// header) removed. ok is false when the claim has no value.
func headerValue(c claims, claim string) (string, bool) {
	vs := c.strings(claim)
	if len(vs) == 0 {
		return "", false
	}
	v := strings.Join(vs, ",")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, v), true
}
