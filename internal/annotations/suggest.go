package annotations

import "strings"

// Suggest says what an unknown annotation name (without the prefix) was
// probably meant to be, from the keys users write by mistake: nginx
// directive spellings (proxy_read_timeout), names found in tutorials that
// ingress-nginx never had (rate-limit), ConfigMap keys written as
// annotations (ssl-protocols) and typos within two edits of a real name.
// It returns "" when nothing is likely.
func (c Catalogue) Suggest(name string) string {
	// nginx's own spelling: underscores for hyphens.
	if dashed := strings.ReplaceAll(name, "_", "-"); dashed != name {
		if _, ok := c.Annotation(dashed); ok {
			return "did you mean " + Prefix + dashed + "?"
		}
		name = dashed
	}
	if meant, ok := inventedKeys(name); ok {
		return meant
	}
	if _, ok := c.Annotation(name); !ok {
		for _, k := range c.ConfigMapKeys {
			if k.Name == name {
				return name + " is a key of the controller ConfigMap (--configmap), not an annotation"
			}
		}
	}
	if s := c.closest(name); s != "" {
		return "did you mean " + Prefix + s + "?"
	}
	return ""
}

// inventedKeys maps names that circulate in documentation but that
// ingress-nginx never had to what does the job.
func inventedKeys(name string) (string, bool) {
	switch name {
	case "rate-limit", "rate-limit-rps", "limit-rps-interval":
		return "did you mean " + Prefix + "limit-rps?", true
	case "rate-limit-rpm":
		return "did you mean " + Prefix + "limit-rpm?", true
	case "rate-limit-burst", "limit-burst":
		return "did you mean " + Prefix + "limit-burst-multiplier?", true
	case "rate-limit-window", "limit-rph", "limit-status-code":
		return "ingress-nginx has no such key: limit-rps, limit-rpm and limit-connections set the limits, the ConfigMap's limit-req-status-code the status", true
	case "client-max-body-size", "body-size":
		return "did you mean " + Prefix + "proxy-body-size?", true
	case "proxy-buffers":
		return "did you mean " + Prefix + "proxy-buffers-number?", true
	case "enable-websocket", "websocket-services":
		return "WebSockets need no annotation: upgrades are proxied on every path", true
	case "cors-enabled":
		return "did you mean " + Prefix + "enable-cors?", true
	case "custom-default-backend":
		return "did you mean " + Prefix + "default-backend?", true
	case "ssl-certificate":
		return "certificates come from spec.tls[].secretName (or --default-ssl-certificate)", true
	}
	return "", false
}

// closest returns a name within two edits of name, for typos.
func (c Catalogue) closest(name string) string {
	best, bestD := "", 3
	for _, k := range c.Annotations {
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			if d := editDistance(name, n, bestD); d < bestD {
				best, bestD = n, d
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or max when it is at
// least max.
func editDistance(a, b string, max int) int {
	if d := len(a) - len(b); d >= max || -d >= max {
		return max
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], max)
}
