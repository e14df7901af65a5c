package annotations

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// supportLevels are the Support values in the order the docs count them.
var supportLevels = []Support{Supported, Differs, Ignored, Unsupported}

// Markdown renders the catalogue as docs/annotations.md. The output depends
// only on c, so the generated file is stable.
func Markdown(c Catalogue) []byte {
	anns := sortedKeys(c.Annotations)
	cms := sortedKeys(c.ConfigMapKeys)

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# Annotations and ConfigMap keys\n\n")
	p("<!-- Generated from internal/annotations by `go test ./internal/annotations -update`; do not edit by hand. -->\n\n")
	p("Strait reads the annotations and the controller ConfigMap of ingress-nginx. This page lists every\n")
	p("annotation and ConfigMap key ingress-nginx knows, and what Strait does with each. It is generated from the\n")
	p("registry in `internal/annotations` by `go test ./internal/annotations -update`, so it cannot drift from the code.\n\n")
	p("Annotations carry the prefix `%s`, which the tables leave out: `rewrite-target` means\n", Prefix)
	p("`%srewrite-target`. Strait's own annotations are shown with their prefix `%s`. ConfigMap keys have no prefix.\n\n", Prefix, StraitPrefix)

	p("## How to read the tables\n\n")
	p("- **Strait** says what Strait does with the key:\n")
	p("  - *%s*: behaves as in ingress-nginx;\n", Supported)
	p("  - *%s*: works, with the differences the notes give;\n", Differs)
	p("  - *%s*: accepted and without effect, because it tunes nginx internals that Strait's data plane does not have;\n", Ignored)
	p("  - *%s*: not implemented yet; an Ingress that uses it gets an Event, and `strait check` lists it.\n", Unsupported)
	p("- **Scope** says what an annotation applies to:\n")
	p("  - *%s*: the paths of its own Ingress;\n", ScopeLocation)
	p("  - *%s*: the whole host, across Ingresses; the oldest Ingress that sets it wins;\n", ScopeHost)
	p("  - *%s*: the Service port, shared by every path that routes to it; the oldest Ingress that sets it wins;\n", ScopeBackend)
	p("  - *%s*: the Ingress as a whole.\n", ScopeIngress)
	p("- **Risk** is ingress-nginx's risk level (Low, Medium, High, Critical), which the ConfigMap key\n")
	p("  `annotations-risk-level` is compared with.\n")
	p("- **Default** is the value used when the key is absent. `ConfigMap: key` names the ConfigMap key that\n")
	p("  sets the default for every Ingress.\n\n")

	p("| Strait | Annotations | ConfigMap keys |\n|---|---:|---:|\n")
	na, nc := countSupport(anns), countSupport(cms)
	for _, s := range supportLevels {
		p("| %s | %d | %d |\n", s, na[s], nc[s])
	}
	p("| **total** | **%d** | **%d** |\n\n", len(anns), len(cms))

	p("## Annotations\n\n")
	p("| Annotation | Scope | Risk | Default | Strait | Description and notes |\n")
	p("|---|---|---|---|---|---|\n")
	for _, k := range anns {
		name := code(k.Name)
		if k.Prefix != "" {
			name = code(k.Prefix + k.Name)
		}
		for _, a := range k.Aliases {
			name += "<br>alias " + code(a)
		}
		def := ""
		if k.Default != "" {
			def = code(k.Default)
		}
		if k.ConfigMapKey != "" {
			if def != "" {
				def += "<br>"
			}
			def += "ConfigMap: " + code(k.ConfigMapKey)
		}
		p("| %s | %s | %s | %s | %s | %s |\n", name, cell(string(k.Scope)), k.Risk, def, cell(string(k.Support)), describe(k))
	}

	p("\n## ConfigMap keys\n\n")
	p("| Key | Default | Strait | Description and notes |\n")
	p("|---|---|---|---|\n")
	for _, k := range cms {
		def := ""
		if k.Default != "" {
			def = code(k.Default)
		}
		p("| %s | %s | %s | %s |\n", code(k.Name), def, cell(string(k.Support)), describe(k))
	}
	return b.Bytes()
}

// sortedKeys returns a copy of keys sorted by name.
func sortedKeys(keys []Key) []Key {
	out := append([]Key(nil), keys...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func countSupport(keys []Key) map[Support]int {
	n := map[Support]int{}
	for _, k := range keys {
		n[k.Support]++
	}
	return n
}

// describe is the last column: the Doc, then the Notes.
func describe(k Key) string {
	s := cell(k.Doc)
	if k.Notes != "" {
		if s != "" {
			s += "<br>"
		}
		s += "**Note:** " + cell(k.Notes)
	}
	return s
}

// cell makes prose safe inside a table cell: one line, | escaped, < and >
// shown as text rather than taken for HTML, and * not taken for emphasis.
func cell(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "*", `\*`).Replace(oneLine(s))
}

// oneLine puts s on one line with | escaped, as table cells need.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// code renders s as inline code in a table cell.
func code(s string) string {
	s = oneLine(s)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}
