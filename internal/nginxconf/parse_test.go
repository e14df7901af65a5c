package nginxconf

import (
	"fmt"
	"strings"
	"testing"
)

// render prints directives compactly for comparison: name, arguments in
// brackets (quoted ones in «»), line, and blocks in braces.
func render(ds []Directive) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s@%d[", d.Name, d.Line)
		for j, a := range d.Args {
			if j > 0 {
				b.WriteByte(' ')
			}
			if a.Quoted {
				fmt.Fprintf(&b, "«%s»", a.Value)
			} else {
				b.WriteString(a.Value)
			}
		}
		b.WriteByte(']')
		if d.IsBlock {
			fmt.Fprintf(&b, "{%s}", render(d.Block))
		}
	}
	return b.String()
}

func TestParse(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"# only a comment\n", ""},
		{`more_set_headers "X-Frame-Options: DENY";`, `more_set_headers@1[«X-Frame-Options: DENY»]`},
		{"add_header X-A 1 always;\nadd_header X-B '2';", `add_header@1[X-A 1 always] add_header@2[X-B «2»]`},
		// Escapes as nginx reads them.
		{`set $a "say \"hi\"\tnow\\";`, "set@1[$a «say \"hi\"\tnow\\»]"},
		{`set $a 'it\'s';`, `set@1[$a «it's»]`},
		{`return 200 "a\;b";`, `return@1[200 «a\;b»]`},
		{`set $a x\;y;`, `set@1[$a x\;y]`},
		{`rewrite ^/(.*)$ /new/$1 break;`, `rewrite@1[^/(.*)$ /new/$1 break]`},
		// ${name} keeps its braces as part of the word.
		{`return 301 https://${host}$request_uri;`, `return@1[301 https://${host}$request_uri]`},
		// Quotes inside a word are literal; comments start only a word.
		{`add_header X-Q a"b#c;`, `add_header@1[X-Q a"b#c]`},
		{"deny all; # the rest\nallow 10.0.0.0/8;", `deny@1[all] allow@2[10.0.0.0/8]`},
		// Blocks, nested if, and a quoted argument before ")".
		{"if ($http_x_env = \"staging\") {\n  add_header X-Env staging;\n  if ($arg_debug) { return 403; }\n}",
			`if@1[($http_x_env = «staging» )]{add_header@2[X-Env staging] if@3[($arg_debug)]{return@3[403]}}`},
		{"location = /healthz { return 200 'ok'; }\nlocation ~* \\.php$ { deny all; }",
			`location@1[= /healthz]{return@1[200 «ok»]} location@2[~* \.php$]{deny@2[all]}`},
		{"location /a {}", `location@1[/a]{}`},
		// Line numbers count lines inside quoted arguments.
		{"add_header X-A \"one\ntwo\";\nreturn 204;", "add_header@1[X-A «one\ntwo»] return@3[204]"},
		{`return 200 "";`, `return@1[200 «»]`},
	} {
		ds, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := render(ds); got != c.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"add_header X-A 1", `line 1: directive "add_header" on line 1 is not terminated by ";"`},
		{"deny all;\n}", `line 2: unexpected "}"`},
		{"if ($a) {\n return 403;\n", `line 3: unexpected end of snippet: the block of "if" opened on line 1 is not closed with "}"`},
		{"add_header X-A \"open;\n", `line 1: unterminated "-quoted argument`},
		{`add_header X-A "a"b;`, `line 1: unexpected 'b' after a quoted argument`},
		{";", `line 1: unexpected ";"`},
		{"\n{ deny all; }", `line 2: unexpected "{"`},
		{`set $a ${host;`, `line 1: unterminated "${" variable`},
		{`"" x;`, `line 1: empty directive name`},
		{"a {b {c {d {e {f {g {h {i;}}}}}}}}", `line 1: blocks nested deeper than 8`},
		{"deny all }", `line 1: unexpected "}"`},
	} {
		_, err := Parse(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%q) error %v, want %s", c.in, err, c.want)
		}
	}
	if _, err := Parse(strings.Repeat("x", MaxBytes+1)); err == nil {
		t.Error("an oversized snippet was read")
	}
}

// FuzzParse checks that any input is read or refused without a crash, that
// what is read has sane line numbers and nesting, and that reading is
// deterministic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"more_set_headers \"X-A: b\";",
		"if ($host = 'a.example') { return 301 https://b.example$request_uri; }",
		"location ~ ^/admin { deny all; }",
		"set $a \"\\\"x\\\"\"; # c",
		"return 200 ${host}\\;;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		lines := strings.Count(s, "\n") + 1
		var walk func([]Directive, int)
		walk = func(ds []Directive, depth int) {
			if depth >= MaxDepth {
				t.Fatalf("nested %d deep", depth)
			}
			for _, d := range ds {
				if d.Line < 1 || d.Line > lines {
					t.Fatalf("line %d of %d", d.Line, lines)
				}
				walk(d.Block, depth+1)
			}
		}
		walk(ds, 0)
		again, _ := Parse(s)
		if render(again) != render(ds) {
			t.Fatal("two reads differ")
		}
	})
}
