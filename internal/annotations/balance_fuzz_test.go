package annotations

import (
	"reflect"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/model"
)

// FuzzParseHashBy: an accepted upstream-hash-by expression uses only
// ingress-nginx's charset, parses into alternating typed parts, and its
// canonical rendering parses back to the same parts.
func FuzzParseHashBy(f *testing.F) {
	for _, s := range []string{"$request_uri", "$remote_addr$host", "${request_uri}-x", "x-$arg_user", "$http_x_user_id",
		"$cookie_session", "${binary_remote_addr}", "$", "${", "${}", "$foo", "a b", "$arg_", "$$", "--_", " $uri ", "${uri}${args}$scheme",
		"$request_method-$query_string", "${arg_a-b}", "$http_X_Y", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHashBy(s)
		if err != nil {
			if h != nil {
				t.Fatalf("ParseHashBy(%q) returned %v with error %v", s, h, err)
			}
			return
		}
		v := strings.TrimSpace(s)
		if h == nil {
			if v != "" {
				t.Fatalf("ParseHashBy(%q) = nil without error", s)
			}
			return
		}
		if h.Expr != v || len(h.Parts) == 0 {
			t.Fatalf("ParseHashBy(%q) = %+v", s, h)
		}
		for _, c := range v {
			if !(c < 128 && (nameChar(byte(c)) || c == '-' || c == '$' || c == '{' || c == '}')) {
				t.Fatalf("ParseHashBy(%q) accepted character %q", s, c)
			}
		}
		var b strings.Builder
		for i, p := range h.Parts {
			if (p.Var == "") == (p.Literal == "") {
				t.Fatalf("ParseHashBy(%q): part %d is %+v", s, i, p)
			}
			if p.Var == "" {
				if i > 0 && h.Parts[i-1].Var == "" {
					t.Fatalf("ParseHashBy(%q): adjacent literals", s)
				}
				b.WriteString(p.Literal)
				continue
			}
			name := string(p.Var)
			switch p.Var {
			case model.HashArg, model.HashCookie:
				name += p.Name
			case model.HashHeader:
				name += strings.ReplaceAll(p.Name, "-", "_")
			}
			b.WriteString("${" + name + "}")
		}
		back, err := ParseHashBy(b.String())
		if err != nil || !reflect.DeepEqual(back.Parts, h.Parts) {
			t.Fatalf("ParseHashBy(%q) = %+v, but its rendering %q parses as %+v, %v", s, h.Parts, b.String(), back, err)
		}
	})
}
