package nginxvar

import (
	"strings"
	"testing"
)

// mapSource answers from a map keyed by the variable's nginx form.
type mapSource map[string]string

func (m mapSource) Value(v Var) string { return m[v.String()] }

func TestParseAndExpand(t *testing.T) {
	src := mapSource{"$host": "shop.example", "$request_uri": "/a?b=1", "$scheme": "https", "$1": "x",
		"$http_x_token": "t0k", "$arg_user": "ann", "$cookie_sid": "s1", "$best_http_host": "shop.example:8443"}
	for _, c := range []struct{ in, want, str string }{
		{"https://$host$request_uri", "https://shop.example/a?b=1", "https://${host}${request_uri}"},
		{"${scheme}://${best_http_host}/", "https://shop.example:8443/", "${scheme}://${best_http_host}/"},
		{"/new/$1", "/new/x", "/new/${1}"},
		// $10 is $1 then "0", as nginx reads it.
		{"/v$10", "/vx0", "/v${1}0"},
		{"$http_x_token-$arg_user.$cookie_sid", "t0k-ann.s1", "${http_x_token}-${arg_user}.${cookie_sid}"},
		{"plain text", "plain text", "plain text"},
		{"$http_absent", "", "${http_absent}"},
	} {
		tm, err := Parse(c.in, nil)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := string(tm.Expand(nil, src)); got != c.want {
			t.Errorf("Expand(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := tm.String(); got != c.str {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.str)
		}
		// What String writes parses to the same template.
		again, err := Parse(tm.String(), nil)
		if err != nil || again.String() != tm.String() {
			t.Errorf("re-parsing %q: %q, %v", tm.String(), again.String(), err)
		}
	}
	if s, ok := (Template{Parts: []Part{{Text: "a"}}}).Constant(); !ok || s != "a" {
		t.Error("a literal template is not constant")
	}
	if tm, _ := Parse("$host", nil); len(tm.Vars()) != 1 || tm.Vars()[0].Kind != KindHost {
		t.Errorf("Vars = %v", tm.Vars())
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://$hots/", "variable $hots is not supported"},
		{"a$", `"$" without a variable name`},
		{"${}", `"$" without a variable name`},
		{"${host", `unterminated "${"`},
		{"$http_", "variable $http_ names no http"},
		{"${http_x-token}", `variable ${http_x-token}: '-' is not allowed in a name`},
		{"$HOST", "variable $HOST is not supported"},
	} {
		_, err := Parse(c.in, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error %v, want %q", c.in, err, c.want)
		}
	}
	noURI := func(k Kind) bool { return k != KindRequestURI }
	if _, err := Parse("$request_uri", noURI); err == nil || err.Error() != "variable $request_uri cannot be used here" {
		t.Errorf("a refused kind: %v", err)
	}
}

// FuzzParse checks that any value is parsed or refused without a crash,
// that a parsed template renders to text that parses to itself, and that
// expanding with every variable empty leaves exactly the literal text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"https://$host$request_uri", "${arg_a}x$1$", "$cookie_", "a${b", "$http_x_y-z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := Parse(s, nil)
		if err != nil {
			return
		}
		again, err := Parse(tm.String(), nil)
		if err != nil || again.String() != tm.String() {
			t.Fatalf("%q renders as %q, which parses to %q (%v)", s, tm.String(), again.String(), err)
		}
		var lit strings.Builder
		for _, p := range tm.Parts {
			if p.Var.Kind == KindNone {
				if strings.Contains(p.Text, "$") {
					t.Fatalf("literal %q holds a $", p.Text)
				}
				lit.WriteString(p.Text)
			}
		}
		if got := string(tm.Expand(nil, mapSource{})); got != lit.String() {
			t.Fatalf("empty expansion %q, want %q", got, lit.String())
		}
	})
}

// BenchmarkExpand: expanding is appending; nothing is parsed per request.
func BenchmarkExpand(b *testing.B) {
	tm, _ := Parse("https://$host$request_uri", nil)
	src := mapSource{"$host": "shop.example", "$request_uri": "/a?b=1"}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = tm.Expand(buf[:0], src)
	}
}
