package translate

import (
	"slices"
	"sort"
	"strings"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// hostNames holds a host's server-alias and from-to-www-redirect settings
// until every Ingress is read.
type hostNames struct {
	aliases    []string
	aliasOwner model.ObjectRef
	aliasSeq   int // order of the owning Ingress, oldest first
	www        bool
	wwwOwner   model.ObjectRef
}

// hostPolicy reads server-alias and from-to-www-redirect. A malformed
// value reports true: ingress-nginx rejects the Ingress.
func (t *translator) hostPolicy(ip *ingressPolicy, a map[string]string, bad func(error, string)) (malformed bool) {
	const closed = "the Ingress's paths answer 503 until it is fixed"
	if read(a, &annotations.ServerAlias, &ip.aliases, bad, closed) {
		malformed = true
	}
	if read(a, &annotations.FromToWWWRedirect, &ip.fromToWWW, bad, closed) {
		malformed = true
	}
	return malformed
}

// hostSettings records an Ingress's host-level names on one of its hosts:
// the oldest Ingress with aliases for the host wins; any Ingress may turn
// the www redirect on.
func (t *translator) hostSettings(hb *hostBuilder, ref model.ObjectRef, ip *ingressPolicy) {
	if ip.failClosed {
		return
	}
	if len(ip.aliases) > 0 && hb.names.aliases == nil {
		hb.names.aliases, hb.names.aliasOwner, hb.names.aliasSeq = ip.aliases, ref, t.seq
	}
	if ip.fromToWWW && !hb.names.www {
		hb.names.www, hb.names.wwwOwner = true, ref
	}
}

// resolveNames settles aliases and www-redirect hosts once every host is
// known. A name that some Ingress defines as a host stays that host's;
// among aliases the oldest Ingress wins. Aliases and redirect names get
// the host's certificate when it covers them. It returns the redirect
// hosts.
func (t *translator) resolveNames() []*model.VirtualHost {
	hosts := make([]*hostBuilder, 0, len(t.hosts))
	for _, hb := range t.hosts {
		if hb.names.aliases != nil || hb.names.www {
			hosts = append(hosts, hb)
		}
	}
	sort.Slice(hosts, func(i, j int) bool {
		if hosts[i].names.aliasSeq != hosts[j].names.aliasSeq {
			return hosts[i].names.aliasSeq < hosts[j].names.aliasSeq
		}
		return hosts[i].name < hosts[j].name
	})
	claimed := map[string]string{} // alias -> host
	field := func(name string) string { return "metadata.annotations[" + annotations.Prefix + name + "]" }
	for _, hb := range hosts {
		n := &hb.names
		for _, al := range n.aliases {
			switch {
			case strings.HasPrefix(al, "~") && claimed[al] == "":
				// Tried after exact and wildcard names; no certificate
				// can be chosen for a pattern.
				claimed[al] = hb.name
				hb.aliases = append(hb.aliases, al)
				continue
			case t.hosts[al] != nil:
				t.problem(n.aliasOwner, field("server-alias"), "ServerAliasConflict",
					"server-alias %q is a host of an Ingress, which keeps it; the alias is ignored", al)
			case claimed[al] != "":
				t.problem(n.aliasOwner, field("server-alias"), "ServerAliasConflict",
					"server-alias %q is already an alias of host %q (older Ingress); the alias is ignored", al, claimed[al])
			default:
				claimed[al] = hb.name
				hb.aliases = append(hb.aliases, al)
				t.bindLike(al, hb.name)
			}
		}
		slices.Sort(hb.aliases)
	}
	var out []*model.VirtualHost
	for _, hb := range hosts {
		n := &hb.names
		if !n.www {
			continue
		}
		if strings.HasPrefix(hb.name, "*.") {
			t.problem(n.wwwOwner, field("from-to-www-redirect"), "WWWRedirectIgnored",
				"host %q is a wildcard, which has no www name; no redirect is made", hb.name)
			continue
		}
		from := "www." + hb.name
		if rest, ok := strings.CutPrefix(hb.name, "www."); ok {
			from = rest
		}
		if t.hosts[from] != nil || claimed[from] != "" {
			// ingress-nginx omits the redirect when the name is served.
			t.problem(n.wwwOwner, field("from-to-www-redirect"), "WWWRedirectIgnored",
				"%q is served by an Ingress already; no redirect to %q is made", from, hb.name)
			continue
		}
		claimed[from] = hb.name
		code := t.settings.httpRedirectCode
		out = append(out, &model.VirtualHost{
			Name:       from,
			RedirectTo: &model.WWWRedirect{Host: hb.name, Code: code},
			Default:    model.Action{Status: code},
		})
		t.bindLike(from, hb.name)
	}
	return out
}

// bindLike gives name the certificate bound to host when it covers name.
func (t *translator) bindLike(name, host string) {
	cert := t.sni[host]
	if cert == "" {
		return
	}
	if cr := t.certs[cert]; cr != nil && covers(cr.leaf, name) {
		t.bind(name, cert)
	}
}
