package translate

import (
	"errors"
	"regexp"
	"sort"
	"strings"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// defaultGzipTypes is ingress-nginx's gzip-types.
const defaultGzipTypes = "application/atom+xml application/javascript application/x-javascript application/json application/rss+xml application/vnd.ms-fontobject application/x-font-ttf application/x-web-app-manifest+json application/xhtml+xml application/xml font/opentype image/svg+xml image/x-icon text/css text/javascript text/plain text/x-component"

// readGzip reads use-gzip and its settings; nil when compression is off.
// A malformed setting is a problem on the ConfigMap and keeps its default.
func (t *translator) readGzip(ref model.ObjectRef, data map[string]string) *model.Gzip {
	if !t.configBool(ref, data, "use-gzip", false) {
		return nil
	}
	g := &model.Gzip{Level: 1, MinLength: 256}
	if v, ok := data["gzip-level"]; ok {
		n, err := annotations.ParseInt(v)
		if err == nil && (n < 1 || n > 9) {
			err = errors.New("must be between 1 and 9")
		}
		if err != nil {
			t.problem(ref, "data.gzip-level", "InvalidConfiguration", "gzip-level %q: %v; using 1", v, err)
		} else {
			g.Level = n
		}
	}
	if v, ok := data["gzip-min-length"]; ok {
		n, err := annotations.ParseSeconds(v)
		if err != nil {
			t.problem(ref, "data.gzip-min-length", "InvalidConfiguration", "gzip-min-length %q: %v; using 256", v, err)
		} else {
			g.MinLength = int64(n)
		}
	}
	types := defaultGzipTypes
	if v := strings.TrimSpace(data["gzip-types"]); v != "" {
		types = v
	}
	// text/html is always compressed by nginx's gzip_types.
	seen := map[string]bool{"text/html": true}
	g.Types = []string{"text/html"}
	for _, f := range strings.Fields(strings.ReplaceAll(types, ",", " ")) {
		f = strings.ToLower(f)
		if !seen[f] {
			seen[f] = true
			g.Types = append(g.Types, f)
		}
	}
	sort.Strings(g.Types)
	g.DisableUserAgents = t.readGzipDisable(ref, data["gzip-disable"])
	return g
}

// msie6 is nginx's gzip_disable keyword for Internet Explorer 4 to 6.
// nginx spares those with SV1 (Windows XP SP2), which RE2, without
// lookahead, cannot express: they are not compressed either.
const msie6 = `MSIE [4-6]\.`

// readGzipDisable parses gzip-disable: comma-separated regular
// expressions (nginx's gzip_disable, case-insensitive), "msie6" standing
// for old Internet Explorers. An expression RE2 cannot compile is a
// problem and left out, so that it never silently matches something else.
func (t *translator) readGzipDisable(ref model.ObjectRef, v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if e == "msie6" {
			e = msie6
		}
		if _, err := regexp.Compile("(?i)" + e); err != nil {
			t.problem(ref, "data.gzip-disable", "InvalidConfiguration", "gzip-disable entry %q is not a regular expression Strait can use (%v); left out", e, err)
			continue
		}
		out = append(out, e)
	}
	return out
}
