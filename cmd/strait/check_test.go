package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/golden"
)

// runCheck runs `strait check args...` in-process and returns its exit
// status and output.
func runCheck(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	exited := false
	cmd := newCheckCommand(func(c int) {
		if exited {
			t.Fatalf("exit called twice (%d, then %d)", code, c)
		}
		exited, code = true, c
	})
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("check %v: Execute returned %v", args, err)
	}
	if exited && code == 0 {
		t.Fatalf("check %v: exit(0) called; success must return normally", args)
	}
	return code, out.String(), errb.String()
}

// checkTestdataUses lists, per Ingress of testdata/check, the annotations
// (without prefix) it sets, as written in the manifests.
var checkTestdataUses = map[string][]string{
	"billing/payments":       {"backend-protocol", "limit-rps", "proxy-read-timeout", "server-snippet", "ssl-redirect"},
	"internal/admin":         {"auth-response-headers", "auth-signin", "auth-url", "configuration-snippet", "proxy-read-timeout", "proxy-send-timeout", "ssl-redirect", "whitelist-source-range"},
	"legacy/sessions":        {"affinity", "session-cookie-max-age", "session-cookie-name", "session-cookie-samesite", "ssl-redirects"},
	"marketing/docs":         {},
	"marketing/old-domain":   {"permanent-redirect", "permanent-redirect-code"},
	"shop/shop-api":          {"cors-allow-credentials", "cors-allow-methods", "cors-allow-origin", "enable-cors", "proxy-body-size", "rewrite-target", "use-regex"},
	"shop/storefront":        {"client-body-buffer-size", "configuration-snippet", "force-ssl-redirect", "proxy-body-size", "proxy-read-timeout"},
	"shop/storefront-canary": {"canary", "canary-weight"},
}

func TestCheckQuickstart(t *testing.T) {
	code, out, stderr := runCheck(t, "", "../../examples/quickstart")
	if code != checkReady || stderr != "" {
		t.Fatalf("exit %d, stderr %q; output:\n%s", code, stderr, out)
	}
	for _, want := range []string{
		"\ndemo/apps  (../../examples/quickstart/ingress.yaml: document 2)\n",
		"\ndemo/demo  (../../examples/quickstart/ingress.yaml: document 1)\n",
		row("supported", `ssl-redirect: "false"`),
		"\nresult: ready\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckTestdataGolden(t *testing.T) {
	code, out, stderr := runCheck(t, "", "testdata/check")
	if code != checkNotReady {
		t.Errorf("exit %d, want %d", code, checkNotReady)
	}
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
	golden.Check(t, "testdata/check.golden", []byte(out))

	for ing := range checkTestdataUses {
		if !strings.Contains(out, "\n"+ing+"  (testdata/check/") {
			t.Errorf("no header for %s", ing)
		}
	}
	// Whatever the registry grows into, snippets and typos stay blockers.
	// Column widths follow the longest name listed; compare words only.
	res := regexp.MustCompile(` +`).ReplaceAllString(out[strings.Index(out, "\nresult: "):], " ")
	for _, want := range []string{
		"configuration-snippet 2 Ingresses not supported\n",
		"server-snippet ",
		"ssl-redirects ",
	} {
		if !strings.Contains(res, want) {
			t.Errorf("result section lacks %q:\n%s", want, res)
		}
	}
	if !strings.Contains(out, row("not supported, snippet", `configuration-snippet: "more_set_headers "X-Frame-Options: SAMEORIGIN";⏎more_set_hea…"`)+"      Never interpreted") {
		t.Errorf("snippet value or flag not shown as expected:\n%s", out)
	}
	if !strings.Contains(out, "Did you mean nginx.ingress.kubernetes.io/ssl-redirect?") {
		t.Error("no suggestion for the ssl-redirects typo")
	}
	if strings.Contains(out, "cert-manager") || strings.Contains(out, "last-applied") {
		t.Error("annotations without the prefix are listed")
	}
}

// TestCheckTestdataJSON checks the JSON report against the annotations the
// testdata sets, classified by the registry as it is now.
func TestCheckTestdataJSON(t *testing.T) {
	code, out, _ := runCheck(t, "", "--output", "json", "testdata/check")
	if code != checkNotReady {
		t.Errorf("exit %d, want %d", code, checkNotReady)
	}
	var rep checkReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, out)
	}

	got := map[string][]string{}
	var order []string
	for _, ing := range rep.Ingresses {
		id := ing.Namespace + "/" + ing.Name
		order = append(order, id)
		got[id] = []string{}
		for _, a := range ing.Annotations {
			got[id] = append(got[id], a.Name)
		}
	}
	if !reflect.DeepEqual(got, checkTestdataUses) {
		t.Errorf("annotations per Ingress:\n got %v\nwant %v", got, checkTestdataUses)
	}
	if !sort.StringsAreSorted(order) {
		t.Errorf("Ingresses not sorted: %v", order)
	}

	// The expected summary, computed from the registry.
	cat := annotations.All()
	// The values are input data: the level of an implemented annotation
	// with a value Strait refuses is "invalid value".
	values := map[string]string{}
	for _, ing := range rep.Ingresses {
		for _, a := range ing.Annotations {
			values[a.Name] = a.Value
		}
	}
	level := func(name string) annotations.Support {
		k, ok := cat.Annotation(name)
		if !ok {
			return supportUnknown
		}
		if annotations.CheckValue(name, values[name]) != nil {
			return supportInvalid
		}
		return k.Support
	}
	ingresses := map[string]int{}
	uses := 0
	levelNames, levelUses := map[annotations.Support]int{}, map[annotations.Support]int{}
	for _, names := range checkTestdataUses {
		for _, n := range names {
			if ingresses[n] == 0 {
				levelNames[level(n)]++
			}
			ingresses[n]++
			levelUses[level(n)]++
			uses++
		}
	}
	want := checkSummary{Ingresses: len(checkTestdataUses), AnnotationNames: len(ingresses), AnnotationUses: uses, NotSupported: []checkBlocker{}}
	for _, l := range checkLevels {
		want.Levels = append(want.Levels, checkLevel{Support: l, Names: levelNames[l], Uses: levelUses[l]})
	}
	for n, c := range ingresses {
		if s := level(n); blocking(s) {
			want.NotSupported = append(want.NotSupported, checkBlocker{Name: n, Support: s, Ingresses: c})
		}
	}
	sort.Slice(want.NotSupported, func(i, j int) bool {
		a, b := want.NotSupported[i], want.NotSupported[j]
		return a.Ingresses > b.Ingresses || a.Ingresses == b.Ingresses && a.Name < b.Name
	})
	if !reflect.DeepEqual(rep.Summary, want) {
		t.Errorf("summary\n got %+v\nwant %+v", rep.Summary, want)
	}
	if rep.Ready || rep.Result != fmt.Sprintf("%d annotations in use are not supported", len(want.NotSupported)) {
		t.Errorf("ready %v, result %q", rep.Ready, rep.Result)
	}

	// Whole values in JSON; snippets flagged; aliases resolved.
	for _, ing := range rep.Ingresses {
		for _, a := range ing.Annotations {
			switch {
			case ing.Name == "storefront" && a.Name == "configuration-snippet":
				if !a.Snippet || !strings.HasSuffix(a.Value, "strict-origin-when-cross-origin\";\n") || !strings.HasPrefix(a.Notes, "Never interpreted") {
					t.Errorf("configuration-snippet: %+v", a)
				}
			case a.Name == "whitelist-source-range":
				if a.AliasOf != "allowlist-source-range" {
					t.Errorf("whitelist-source-range: %+v", a)
				}
			case a.Snippet != strings.HasSuffix(a.Name, "-snippet"):
				t.Errorf("%s: snippet %v", a.Name, a.Snippet)
			}
		}
	}
}

func TestCheckMalformedDocument(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("good.yaml", checkIngressYAML("web", "nginx.ingress.kubernetes.io/ssl-redirect: \"false\""))
	bad := write("sub/bad.yaml", "# comment-only documents are not counted\n---\n"+
		checkIngressYAML("first", "")+"---\n"+
		strings.Replace(checkIngressYAML("broken", ""), "number: 80", "number: eighty", 1))
	write("notes.txt", "not a manifest, not read")
	write(".hidden/x.yaml", "not: [valid")

	code, out, stderr := runCheck(t, "", dir)
	if code != checkFailed || out != "" {
		t.Errorf("exit %d, want %d; stdout:\n%s", code, checkFailed, out)
	}
	for _, want := range []string{
		bad + ": document 2 (Ingress default/broken): ",
		"port.number",
		"--keep-going",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// --keep-going reports on the rest; the exit status is the report's.
	code, out, stderr = runCheck(t, "", "--keep-going", dir)
	if code != checkReady {
		t.Errorf("--keep-going: exit %d, want %d\n%s%s", code, checkReady, stderr, out)
	}
	if !strings.Contains(stderr, bad+": document 2") {
		t.Errorf("--keep-going: error not printed:\n%s", stderr)
	}
	for _, want := range []string{"\ndefault/first  (" + bad + ": document 1)\n", "\ndefault/web  (", "unreadable documents", "\nresult: ready\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("--keep-going: output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "broken") {
		t.Errorf("--keep-going: broken Ingress reported:\n%s", out)
	}

	// A missing path is a read error too.
	if code, _, stderr := runCheck(t, "", filepath.Join(dir, "nope")); code != checkFailed || !strings.Contains(stderr, "nope") {
		t.Errorf("missing path: exit %d, stderr %q", code, stderr)
	}
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--output", "yaml", "testdata/check"},
		{"--kubeconfig", "/dev/null", "testdata/check"},
		{"--annotations-prefix", "", "testdata/check"},
		{"--no-such-flag", "testdata/check"},
	} {
		code, out, stderr := runCheck(t, "", args...)
		if code != checkFailed || out != "" || !strings.Contains(stderr, "strait check --help") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
}

// TestCheckStdinListAndPrefix reads kubectl's List output from standard
// input, with a custom annotation prefix.
func TestCheckStdinListAndPrefix(t *testing.T) {
	list := `apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata:
    name: a
    namespace: one
    annotations:
      ingress.example.com/ssl-redirect: "false"
      ingress.example.com/configuration-snippet: "more_set_headers X: y;"
      nginx.ingress.kubernetes.io/affinity: cookie
  spec:
    defaultBackend:
      service: {name: a, port: {number: 80}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: ignored}
`
	code, out, stderr := runCheck(t, list, "--annotations-prefix", "ingress.example.com", "-")
	if code != checkNotReady || stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out)
	}
	for _, want := range []string{"one/a  (<stdin>: document 1, items[0])", " ssl-redirect: \"false\"", " configuration-snippet: ", "annotations ingress.example.com/*"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "affinity") {
		t.Errorf("annotation with another prefix listed:\n%s", out)
	}
}

// TestCheckCluster lists Ingresses from a fake API server, across two
// pages.
func TestCheckCluster(t *testing.T) {
	var paths []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path+"?"+r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		item := func(ns, name, ann string) string {
			return fmt.Sprintf(`{"metadata":{"namespace":%q,"name":%q,"annotations":{"nginx.ingress.kubernetes.io/%s":"true"}},"spec":{}}`, ns, name, ann)
		}
		switch {
		case r.URL.Path == "/apis/networking.k8s.io/v1/ingresses" && r.URL.Query().Get("continue") == "":
			fmt.Fprintf(w, `{"kind":"IngressList","apiVersion":"networking.k8s.io/v1","metadata":{"continue":"page2"},"items":[%s]}`, item("b", "z", "ssl-redirect"))
		case r.URL.Path == "/apis/networking.k8s.io/v1/ingresses" && r.URL.Query().Get("continue") == "page2":
			fmt.Fprintf(w, `{"kind":"IngressList","apiVersion":"networking.k8s.io/v1","metadata":{},"items":[%s]}`, item("a", "y", "force-ssl-redirect"))
		case r.URL.Path == "/apis/networking.k8s.io/v1/namespaces/a/ingresses":
			fmt.Fprintf(w, `{"kind":"IngressList","apiVersion":"networking.k8s.io/v1","metadata":{},"items":[%s]}`, item("a", "y", "enable-modsecurity"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "`+api.URL+`"}}]
users: [{name: u, user: {token: t0k3n}}]
contexts: [{name: c, context: {cluster: fake, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := runCheck(t, "", "--kubeconfig", kubeconfig)
	if code != checkReady || stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out)
	}
	if !strings.HasPrefix(out, "strait check: 2 Ingresses from cluster "+api.URL+"; ") ||
		!strings.Contains(out, "\na/y\n"+row("supported", `force-ssl-redirect: "true"`)+"\nb/z\n") {
		t.Errorf("output:\n%s", out)
	}
	if len(paths) != 2 || !strings.Contains(paths[0], "limit=500") {
		t.Errorf("requests %v", paths)
	}

	code, out, _ = runCheck(t, "", "--kubeconfig", kubeconfig, "--namespace", "a")
	if code != checkNotReady || !strings.Contains(out, "cluster "+api.URL+", namespace a") || !strings.Contains(out, "result: 1 annotation in use is not supported\n  enable-modsecurity ") {
		t.Errorf("--namespace a: exit %d\n%s", code, out)
	}

	// An unreachable cluster is a read error.
	api.Close()
	if code, _, stderr := runCheck(t, "", "--kubeconfig", kubeconfig); code != checkFailed || !strings.Contains(stderr, "listing Ingresses") {
		t.Errorf("unreachable cluster: exit %d, stderr %q", code, stderr)
	}
}

func TestCheckDisplayValue(t *testing.T) {
	for in, want := range map[string]string{
		"":                           `""`,
		"  true \n":                  `"true"`,
		"a\nb\r\n\tc\x00":            `"a⏎b⏎ c\x00"`,
		strings.Repeat("é", 61):      `"` + strings.Repeat("é", 60) + `…"`,
		strings.Repeat("x", 60):      `"` + strings.Repeat("x", 60) + `"`,
		"more_set_headers \"A: b\";": `"more_set_headers "A: b";"`,
	} {
		if got := displayValue(in); got != want {
			t.Errorf("displayValue(%q) = %s, want %s", in, got, want)
		}
	}
}

// row is a line of the text report for one annotation.
func row(level, annotation string) string {
	return fmt.Sprintf("  %-*s %s\n", checkLevelCol-2, level, annotation)
}

func checkIngressYAML(name, annotation string) string {
	ann := ""
	if annotation != "" {
		ann = "  annotations:\n    " + annotation + "\n"
	}
	return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ` + name + "\n" + ann + `spec:
  rules:
    - host: ` + name + `.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: ` + name + `
                port:
                  number: 80
`
}
