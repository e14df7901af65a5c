package annotations

import (
	"bufio"
	"net/textproto"
	"slices"
	"strings"
	"testing"
)

// FuzzParseHeaderEntry checks the ConfigMap header entries of
// proxy-set-headers and add-headers: an accepted entry renders as exactly
// one well-formed header line that reads back as the same name and value,
// never carries a variable, and never names a header the proxy manages.
// custom-headers entries (ParseCustomHeader) obey the same rules.
func FuzzParseHeaderEntry(f *testing.F) {
	for _, s := range [][2]string{{"X-Custom", "a b"}, {"x_under", " 1 "}, {"X-Empty", ""}, {"Host", "x"},
		{"X-Var", "$host"}, {"X-Start", "t=${msec}"}, {"X-Two", "$scheme://$host$x"}, {"X-Open", "${msec"}, {"bad name", "1"}, {"X-Ctl", "a\r\nInjected: 1"}, {"", "v"}, {"X-Obs", "caf\xc3\xa9"},
		{"content-length", "5"}, {"X-Del", "\x7f"}, {"X:Colon", "v"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		for _, p := range []struct {
			parse   func(string, string) (Header, error)
			managed map[string]bool
		}{{ParseRequestHeader, managedRequestHeaders}, {ParseResponseHeader, managedResponseHeaders}, {ParseCustomHeader, managedResponseHeaders}} {
			h, err := p.parse(name, value)
			if err != nil {
				if h.Name != "" || h.Value != "" || h.Parts != nil {
					t.Errorf("(%q, %q): %+v with error %v", name, value, h, err)
				}
				continue
			}
			if strings.ContainsAny(h.Value, "\r\n\x00") || strings.ContainsAny(h.Name, " :\r\n") || h.Name == "" ||
				(strings.Contains(h.Value, "$") != (h.Parts != nil)) {
				t.Fatalf("(%q, %q) accepted as %+v", name, value, h)
			}
			if h.Parts != nil {
				// Variables render back to a value that parses the same.
				var b strings.Builder
				for _, p := range h.Parts {
					if p.Var != "" {
						b.WriteString("${" + p.Var + "}")
					} else if strings.Contains(p.Text, "$") {
						t.Fatalf("(%q, %q): text part %q holds a $", name, value, p.Text)
					} else {
						b.WriteString(p.Text)
					}
				}
				again, err := parseVariables(b.String())
				if err != nil || !slices.Equal(again, h.Parts) {
					t.Errorf("(%q, %q): parts %+v render as %q, which parses as %+v, %v", name, value, h.Parts, b.String(), again, err)
				}
			}
			if !strings.EqualFold(h.Name, name) {
				t.Errorf("name %q became %q", name, h.Name)
			}
			if p.managed[strings.ToLower(h.Name)] {
				t.Errorf("managed header %q accepted", h.Name)
			}
			line := h.Name + ": " + h.Value + "\r\n\r\n"
			mh, err := textproto.NewReader(bufio.NewReader(strings.NewReader(line))).ReadMIMEHeader()
			if err != nil {
				t.Fatalf("%q does not read back: %v", line, err)
			}
			if len(mh) != 1 || len(mh[textproto.CanonicalMIMEHeaderKey(h.Name)]) != 1 || mh.Get(h.Name) != h.Value {
				t.Errorf("%q reads back as %v", line, mh)
			}
		}
	})
}
