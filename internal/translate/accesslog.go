package translate

import (
	"sort"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// readAccessLog reads the access-log keys of the ConfigMap. A format with
// an unknown variable is a problem on the ConfigMap, and the default
// format is used, so that requests are still logged.
func (t *translator) readAccessLog(ref model.ObjectRef, data map[string]string) model.AccessLog {
	al := model.AccessLog{
		Disabled:       t.configBool(ref, data, "disable-access-log", false),
		DefaultBackend: t.configBool(ref, data, "enable-access-log-for-default-backend", false),
	}
	if f := configDefault(t, ref, data, &annotations.LogFormatUpstream); f != annotations.LogFormatUpstream.Default {
		al.Format = f
	}
	// As in ingress-nginx's template, escape=none wins over escape=json.
	switch {
	case t.configBool(ref, data, "log-format-escape-none", false):
		al.Escape = model.EscapeNone
	case t.configBool(ref, data, "log-format-escape-json", false):
		al.Escape = model.EscapeJSON
	}
	if v, ok := data["skip-access-log-urls"]; ok {
		al.SkipURIs, _ = annotations.ParseList(v)
		sort.Strings(al.SkipURIs)
	}
	return al
}
