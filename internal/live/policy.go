package live

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// ingress-nginx's defaults, which the short forms leave out.
const (
	defaultBodyBytes      = 1 << 20
	defaultConnectSeconds = 5
	defaultReadSeconds    = 60
	defaultSendSeconds    = 60
)

// routePolicies returns a route's policy in short form, in the order the
// data plane applies them. Secret material never appears: basic
// authentication shows its realm and Secret name, headers their names,
// URLs lose any user information.
func routePolicies(p *model.Policy) []string {
	out := []string{}
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if p.MaxBodyBytes != defaultBodyBytes {
		if p.MaxBodyBytes == 0 {
			add("body size unlimited")
		} else {
			add("body ≤ %s", bytesText(p.MaxBodyBytes))
		}
	}
	if r := p.Redirect; r != nil {
		add("redirect %d %s", r.Code, redactURL(r.URL))
	}
	if p.HTTPSRedirectCode != 0 {
		add("https redirect %d", p.HTTPSRedirectCode)
	}
	if l := p.Limit; l != nil {
		var parts []string
		if l.RPS > 0 {
			parts = append(parts, strconv.Itoa(l.RPS)+" rps")
		}
		if l.RPM > 0 {
			parts = append(parts, strconv.Itoa(l.RPM)+" rpm")
		}
		if l.Connections > 0 {
			parts = append(parts, strconv.Itoa(l.Connections)+" connections")
		}
		add("rate limit %s per client", strings.Join(parts, ", "))
	}
	if len(p.DenySourceRange) > 0 {
		add("deny %s", listText(p.DenySourceRange))
	}
	if len(p.AllowSourceRange) > 0 {
		add("allow only %s", listText(p.AllowSourceRange))
	}
	if a := p.BasicAuth; a != nil {
		add("basic auth %q (Secret %s)", a.Realm, a.Secret)
	}
	if a := p.ExternalAuth; a != nil {
		add("external auth %s", templateHost(a.URL))
	}
	if p.CORS != nil {
		add("CORS")
	}
	if r := p.Rewrite; r != nil {
		add("rewrite %s", r.Target)
	}
	if p.UpstreamHost != "" {
		add("upstream Host %s", p.UpstreamHost)
	}
	if len(p.ResponseHeaders) > 0 {
		names := make([]string, len(p.ResponseHeaders))
		for i, h := range p.ResponseHeaders {
			names[i] = h.Name
		}
		add("response headers %s", listText(names))
	}
	if p.ConnectTimeout != defaultConnectSeconds || p.ReadTimeout != defaultReadSeconds || p.SendTimeout != defaultSendSeconds {
		add("timeouts connect %ds, read %ds, send %ds", p.ConnectTimeout, p.ReadTimeout, p.SendTimeout)
	}
	if n := p.NextUpstream; n != nil {
		if len(n.On) == 0 {
			add("no retries")
		} else {
			add("retry on %s (%d tries)", strings.Join(n.On, " "), n.Tries)
		}
	}
	if e := p.Errors; e != nil {
		if e.DefaultBackend != "" {
			add("default backend %s", e.DefaultBackend)
		}
		if len(e.Codes) > 0 {
			codes := make([]string, len(e.Codes))
			for i, c := range e.Codes {
				codes[i] = strconv.Itoa(c)
			}
			add("custom errors %s", strings.Join(codes, ","))
		}
	}
	if p.AffinityCookiePath != "" {
		add("affinity cookie")
	}
	if m := p.Mirror; m != nil {
		add("mirror to %s", redactURL(m.Target))
	}
	if p.AccessLogOff {
		add("access log off")
	}
	return out
}

// hostPolicies returns a host's own settings in short form.
func hostPolicies(vh *model.VirtualHost) []string {
	out := []string{}
	if vh.AppRoot != "" {
		out = append(out, "app root "+vh.AppRoot)
	}
	if r := vh.RedirectTo; r != nil {
		out = append(out, fmt.Sprintf("redirect %d to %s", r.Code, r.Host))
	}
	if c := vh.ClientAuth; c != nil {
		s := "client certificates " + c.Verify + " (Secret " + c.Secret + ")"
		if c.Deny {
			s += ", unusable: HTTPS answered 403"
		}
		out = append(out, s)
	}
	return out
}

// rulePolicies returns a Gateway API rule's filters in short form.
func rulePolicies(r *model.GatewayRule) []string {
	out := []string{}
	if rd := r.Redirect; rd != nil {
		s := fmt.Sprintf("redirect %d", rd.Status)
		if rd.Scheme != "" {
			s += " scheme " + rd.Scheme
		}
		if rd.Hostname != "" {
			s += " host " + rd.Hostname
		}
		if rd.Port != 0 {
			s += " port " + strconv.Itoa(int(rd.Port))
		}
		if rd.Path != nil {
			s += " path " + rd.Path.Value
		}
		out = append(out, s)
	}
	if rw := r.Rewrite; rw != nil {
		s := "rewrite"
		if rw.Hostname != "" {
			s += " host " + rw.Hostname
		}
		if rw.Path != nil {
			s += " path " + rw.Path.Value
		}
		out = append(out, s)
	}
	if c := r.RequestHeaders; c != nil {
		out = append(out, "request headers "+changesText(c))
	}
	if c := r.ResponseHeaders; c != nil {
		out = append(out, "response headers "+changesText(c))
	}
	for _, m := range r.Mirrors {
		out = append(out, fmt.Sprintf("mirror %d/%d to %s", m.Numerator, m.Denominator, m.Backend))
	}
	if t := r.Timeouts; t != nil {
		out = append(out, fmt.Sprintf("timeouts request %dms, backend %dms", t.RequestMillis, t.BackendMillis))
	}
	if r.CORS != nil {
		out = append(out, "CORS")
	}
	return out
}

// ruleConditions returns a rule's method, header and query conditions.
func ruleConditions(r *model.GatewayRule) []string {
	out := []string{}
	if r.Method != "" {
		out = append(out, "method "+r.Method)
	}
	for _, h := range r.Headers {
		out = append(out, "header "+valueMatchText(h))
	}
	for _, q := range r.Query {
		out = append(out, "query "+valueMatchText(q))
	}
	return out
}

func valueMatchText(m model.ValueMatch) string {
	if m.Type == "RegularExpression" {
		return m.Name + " ~ " + m.Value
	}
	return m.Name + " = " + m.Value
}

// changesText names the headers a filter sets, adds and removes; values
// are left out.
func changesText(c *model.HeaderChanges) string {
	var parts []string
	for _, kv := range c.Set {
		parts = append(parts, "set "+kv.Name)
	}
	for _, kv := range c.Add {
		parts = append(parts, "add "+kv.Name)
	}
	for _, n := range c.Remove {
		parts = append(parts, "remove "+n)
	}
	return strings.Join(parts, ", ")
}

// listText joins up to three items and counts the rest.
func listText(items []string) string {
	if len(items) <= 3 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:3], ", "), len(items)-3)
}

// bytesText writes a size with nginx's suffixes when it divides evenly.
func bytesText(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// redactURL removes user information (a password, possibly) from a URL;
// a URL that does not parse is shown as "(unparsable URL)".
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	return u.String()
}

// templateHost returns the scheme and host of an external auth URL
// template, when its leading text has them.
func templateHost(parts []model.TemplatePart) string {
	if len(parts) == 0 || parts[0].Var != "" {
		return "(templated URL)"
	}
	u, err := url.Parse(parts[0].Text)
	if err != nil || u.Host == "" {
		return "(templated URL)"
	}
	return u.Scheme + "://" + u.Host
}
