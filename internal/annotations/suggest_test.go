package annotations

import "testing"

func TestSuggest(t *testing.T) {
	cat := All()
	for name, want := range map[string]string{
		"proxy_read_timeout":       "did you mean " + Prefix + "proxy-read-timeout?",
		"ssl-redirects":            "did you mean " + Prefix + "ssl-redirect?",
		"rate-limit":               "did you mean " + Prefix + "limit-rps?",
		"client_max_body_size":     "did you mean " + Prefix + "proxy-body-size?",
		"ssl-protocols":            "ssl-protocols is a key of the controller ConfigMap (--configmap), not an annotation",
		"enable-websocket":         "WebSockets need no annotation: upgrades are proxied on every path",
		"completely-unrelated-key": "",
	} {
		if got := cat.Suggest(name); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", name, got, want)
		}
	}
}
