package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/server"
	"github.com/straitgw/strait/internal/sources/manifests"
)

// Exit statuses of `strait check`.
const (
	// checkReady: every annotation in use is supported (possibly with
	// differences) or ignored.
	checkReady = 0
	// checkNotReady: some annotation in use is not supported or unknown.
	checkNotReady = 1
	// checkFailed: bad usage, or input that could not be read.
	checkFailed = 2
)

// supportUnknown is the level of an annotation that has the prefix but is
// not in the registry.
const supportUnknown annotations.Support = "unknown annotation"

// supportInvalid is the level of an implemented annotation whose value
// Strait refuses: the Ingress would not behave as under ingress-nginx.
const supportInvalid annotations.Support = "invalid value"

// checkLevels are the support levels in report order.
var checkLevels = []annotations.Support{
	annotations.Supported, annotations.Differs, annotations.Ignored, annotations.Unsupported, supportUnknown, supportInvalid,
}

// blocking reports whether an annotation at this level stops a migration.
func blocking(s annotations.Support) bool {
	return s == annotations.Unsupported || s == supportUnknown || s == supportInvalid
}

// Text layout.
const (
	checkValueMax  = 60 // runes of a value shown before it is cut with …
	checkWrapWidth = 100
	checkLevelCol  = 34 // indent plus width of the support-level column
)

type checkOptions struct {
	kubeconfig string
	namespace  string
	prefix     string
	output     string
	keepGoing  bool
}

func checkCommand() *cobra.Command { return newCheckCommand(os.Exit) }

// newCheckCommand builds `strait check`; exit is called with a non-zero
// status (tests pass a recorder instead of os.Exit).
func newCheckCommand(exit func(int)) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [PATH...]",
		Short: "Report which ingress-nginx annotations of your Ingresses Strait supports",
		Long: `Reads Ingresses and reports, for each annotation they use, what Strait does with it:
the migration check to run before switching from ingress-nginx.

With PATHs, reads manifests from files and directories (recursively: .yaml, .yml
and .json files, multi-document, kubectl List output included; - reads standard
input). Without, lists the Ingresses of a cluster, through --kubeconfig, the
in-cluster configuration or $KUBECONFIG, as serve does.

Exit status: 0 when every annotation in use is supported (possibly with
differences) or ignored, 1 when some annotation in use is not supported or
unknown, 2 on bad usage or input that cannot be read (unless --keep-going).`,
		Example: `  strait check ./k8s/
  kubectl get ingress -A -o yaml | strait check -
  strait check --kubeconfig ~/.kube/config --namespace shop
  strait check --output json ./k8s/ | jq '.summary'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if code := o.run(ctx, args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
				exit(code)
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintf(c.ErrOrStderr(), "strait check: %v\nRun 'strait check --help' for usage.\n", err)
		exit(checkFailed)
		return nil
	})
	fs := cmd.Flags()
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file of the cluster whose Ingresses are checked (default: in-cluster configuration, then $KUBECONFIG)")
	fs.StringVarP(&o.namespace, "namespace", "n", "", "check only the Ingresses of this namespace (default all)")
	fs.StringVar(&o.prefix, "annotations-prefix", strings.TrimSuffix(annotations.Prefix, "/"), "prefix of the ingress-nginx annotations, as ingress-nginx's flag of the same name")
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	fs.BoolVar(&o.keepGoing, "keep-going", false, "report on what could be read despite unreadable files or documents (which are still printed)")
	return cmd
}

// checkInput is what the report is made from.
type checkInput struct {
	// source says where the Ingresses came from.
	source    string
	ingresses []locatedIngress
	// errs are the files and documents that could not be read.
	errs []error
}

// locatedIngress is an Ingress and where it was read.
type locatedIngress struct {
	ing *networkingv1.Ingress
	// at is "file: document N" for manifests, empty for a cluster.
	at string
}

func (o *checkOptions) run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "strait check: "+format+"\nRun 'strait check --help' for usage.\n", a...)
		return checkFailed
	}
	if o.output != "text" && o.output != "json" {
		return usage("--output must be text or json, not %q", o.output)
	}
	prefix := strings.TrimSuffix(strings.TrimSpace(o.prefix), "/")
	if prefix == "" {
		return usage("--annotations-prefix must not be empty")
	}
	if len(args) > 0 && o.kubeconfig != "" {
		return usage("give manifest PATHs or --kubeconfig, not both")
	}

	var in checkInput
	if len(args) > 0 {
		in = readManifestPaths(args, stdin)
	} else {
		var err error
		if in, err = listClusterIngresses(ctx, o.kubeconfig, o.namespace); err != nil {
			fmt.Fprintf(stderr, "strait check: %v\n(to check manifest files instead, give their paths: strait check PATH...)\n", err)
			return checkFailed
		}
	}
	if o.namespace != "" {
		kept := in.ingresses[:0]
		for _, li := range in.ingresses {
			if li.ing.Namespace == o.namespace {
				kept = append(kept, li)
			}
		}
		in.ingresses = kept
	}
	for _, err := range in.errs {
		fmt.Fprintf(stderr, "strait check: %v\n", err)
	}
	if len(in.errs) > 0 && !o.keepGoing {
		them := "them"
		if len(in.errs) == 1 {
			them = "it"
		}
		fmt.Fprintf(stderr, "strait check: %s could not be read; fix %s, or use --keep-going to report on the rest\n",
			plural(len(in.errs), "file or document", "files or documents"), them)
		return checkFailed
	}

	rep := buildCheckReport(in, prefix, annotations.All())
	var out []byte
	if o.output == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "strait check: %v\n", err)
			return checkFailed
		}
		out = append(b, '\n')
	} else {
		out = rep.text()
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "strait check: %v\n", err)
		return checkFailed
	}
	if !rep.Ready {
		return checkNotReady
	}
	return checkReady
}

// readManifestPaths reads every manifest file under paths ("-" is standard
// input). Directories are walked recursively, in lexical order, skipping
// hidden entries (such as the ..data links of ConfigMap volumes); files named
// explicitly are read whatever their extension.
func readManifestPaths(paths []string, stdin io.Reader) checkInput {
	in := checkInput{source: strings.Join(paths, ", ")}
	readOne := func(name string, data []byte) {
		ings, errs := decodeManifestFile(name, data)
		in.ingresses = append(in.ingresses, ings...)
		in.errs = append(in.errs, errs...)
	}
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				in.errs = append(in.errs, fmt.Errorf("standard input: %w", err))
				continue
			}
			readOne("<stdin>", data)
			continue
		}
		if _, err := os.Stat(p); err != nil {
			in.errs = append(in.errs, err)
			continue
		}
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				in.errs = append(in.errs, err)
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			switch filepath.Ext(path) {
			case ".yaml", ".yml", ".json":
			default:
				if path != p {
					return nil
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				in.errs = append(in.errs, err)
				return nil
			}
			readOne(path, data)
			return nil
		})
		if err != nil {
			in.errs = append(in.errs, err)
		}
	}
	return in
}

// decodeManifestFile returns the Ingresses of one file, each with its
// document number, and the documents that could not be read. Documents are
// counted as manifests.Decode counts them; kinds Strait does not read
// (Deployments…) are skipped silently, and the items of a List (kubectl get
// -o yaml) are read one by one.
func decodeManifestFile(file string, data []byte) ([]locatedIngress, []error) {
	var ings []locatedIngress
	var errs []error
	at := func(doc int) string { return fmt.Sprintf("%s: document %d", file, doc) }
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, &manifests.DocumentError{File: file, Document: doc, Err: err})
			break
		}
		if blankDocument(raw) {
			doc--
			continue
		}
		var list struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if yaml.Unmarshal(raw, &list) == nil && strings.HasSuffix(list.Kind, "List") {
			for i, item := range list.Items {
				objs, derrs := manifests.Decode(file, item)
				for _, e := range derrs {
					if manifests.IsIgnorable(e) {
						continue
					}
					var de *manifests.DocumentError
					if errors.As(e, &de) {
						de.Document = doc
						de.Object = strings.TrimSuffix(fmt.Sprintf("items[%d] %s", i, de.Object), " ")
					}
					errs = append(errs, e)
				}
				for _, ing := range objs.Ingresses {
					ings = append(ings, locatedIngress{ing: ing, at: fmt.Sprintf("%s, items[%d]", at(doc), i)})
				}
			}
			continue
		}
		objs, derrs := manifests.Decode(file, raw)
		for _, e := range derrs {
			if manifests.IsIgnorable(e) {
				continue
			}
			var de *manifests.DocumentError
			if errors.As(e, &de) {
				de.Document = doc
			}
			errs = append(errs, e)
		}
		for _, ing := range objs.Ingresses {
			ings = append(ings, locatedIngress{ing: ing, at: at(doc)})
		}
	}
	return ings, errs
}

// blankDocument reports whether a document holds only blank and comment
// lines, which manifests.Decode does not count.
func blankDocument(raw []byte) bool {
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// listClusterIngresses lists the Ingresses of namespace (all when empty)
// from the cluster that serve would use.
func listClusterIngresses(ctx context.Context, kubeconfig, namespace string) (checkInput, error) {
	rc, err := server.RESTConfig(kubeconfig)
	if err != nil {
		return checkInput{}, err
	}
	rc.UserAgent = "strait-check"
	rc.Timeout = 30 * time.Second
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return checkInput{}, err
	}
	in := checkInput{source: "cluster " + rc.Host}
	if namespace != "" {
		in.source += ", namespace " + namespace
	}
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := client.NetworkingV1().Ingresses(namespace).List(ctx, opts)
		if err != nil {
			return checkInput{}, fmt.Errorf("listing Ingresses: %w", err)
		}
		for i := range list.Items {
			in.ingresses = append(in.ingresses, locatedIngress{ing: &list.Items[i]})
		}
		if list.Continue == "" {
			return in, nil
		}
		opts.Continue = list.Continue
	}
}

// checkReport is the migration report; its JSON form is --output json.
type checkReport struct {
	Source    string         `json:"source"`
	Prefix    string         `json:"annotationsPrefix"`
	Ingresses []checkIngress `json:"ingresses"`
	Summary   checkSummary   `json:"summary"`
	// Ready is true when nothing in use is not supported or unknown.
	Ready bool `json:"ready"`
	// Result is the last line of the text report, without "result: ".
	Result string `json:"result"`
	// Errors are the files and documents that could not be read
	// (--keep-going).
	Errors []string `json:"errors,omitempty"`
}

type checkIngress struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// At is "file: document N" for manifests.
	At          string            `json:"at,omitempty"`
	Annotations []checkAnnotation `json:"annotations"`
	// OverRisk lists the annotations above ingress-nginx's default
	// annotations-risk-level (High): with that default neither
	// ingress-nginx nor Strait serves the Ingress.
	OverRisk []string `json:"overRisk,omitempty"`
}

type checkAnnotation struct {
	// Name is the annotation without the prefix, as written.
	Name string `json:"name"`
	// AliasOf is the current name when Name is an older alias.
	AliasOf string `json:"aliasOf,omitempty"`
	// Value is the whole value (the text report shortens it).
	Value   string              `json:"value"`
	Support annotations.Support `json:"support"`
	// Snippet marks raw nginx configuration, which Strait never
	// interprets.
	Snippet bool `json:"snippet,omitempty"`
	// Notes are the registry's notes, given when the annotation is not
	// fully supported.
	Notes string `json:"notes,omitempty"`
}

type checkSummary struct {
	Ingresses int `json:"ingresses"`
	// AnnotationNames counts distinct annotation names; AnnotationUses
	// counts every annotation of every Ingress.
	AnnotationNames int          `json:"annotationNames"`
	AnnotationUses  int          `json:"annotationUses"`
	Levels          []checkLevel `json:"levels"`
	// NotSupported are the annotations in use that are not supported or
	// unknown, most used first.
	NotSupported []checkBlocker `json:"notSupported"`
}

type checkLevel struct {
	Support annotations.Support `json:"support"`
	Names   int                 `json:"names"`
	Uses    int                 `json:"uses"`
}

type checkBlocker struct {
	Name      string              `json:"name"`
	Support   annotations.Support `json:"support"`
	Ingresses int                 `json:"ingresses"`
}

// buildCheckReport classifies every prefixed annotation of every Ingress.
func buildCheckReport(in checkInput, prefix string, cat annotations.Catalogue) checkReport {
	rep := checkReport{Source: in.source, Prefix: prefix + "/", Ingresses: []checkIngress{}}
	for _, e := range in.errs {
		rep.Errors = append(rep.Errors, e.Error())
	}
	ings := append([]locatedIngress(nil), in.ingresses...)
	sort.SliceStable(ings, func(i, j int) bool {
		a, b := ings[i].ing, ings[j].ing
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return ings[i].at < ings[j].at
	})
	type usage struct {
		support   annotations.Support
		ingresses int
	}
	used := map[string]*usage{}
	uses := map[annotations.Support]int{}
	for _, li := range ings {
		ci := checkIngress{Namespace: li.ing.Namespace, Name: li.ing.Name, At: li.at, Annotations: []checkAnnotation{}}
		for key, value := range li.ing.Annotations {
			name, ok := strings.CutPrefix(key, rep.Prefix)
			if !ok {
				continue
			}
			ci.Annotations = append(ci.Annotations, classify(cat, name, value))
			if k, known := cat.Annotation(name); known && k.Risk > annotations.RiskHigh {
				ci.OverRisk = append(ci.OverRisk, name)
			}
		}
		sort.Strings(ci.OverRisk)
		sort.Slice(ci.Annotations, func(i, j int) bool { return ci.Annotations[i].Name < ci.Annotations[j].Name })
		for _, a := range ci.Annotations {
			u := used[a.Name]
			if u == nil {
				u = &usage{support: a.Support}
				used[a.Name] = u
			}
			u.ingresses++
			uses[a.Support]++
			rep.Summary.AnnotationUses++
		}
		rep.Ingresses = append(rep.Ingresses, ci)
	}
	rep.Summary.Ingresses = len(ings)
	rep.Summary.AnnotationNames = len(used)
	names := map[annotations.Support]int{}
	rep.Summary.NotSupported = []checkBlocker{}
	for name, u := range used {
		names[u.support]++
		if blocking(u.support) {
			rep.Summary.NotSupported = append(rep.Summary.NotSupported, checkBlocker{Name: name, Support: u.support, Ingresses: u.ingresses})
		}
	}
	for _, l := range checkLevels {
		rep.Summary.Levels = append(rep.Summary.Levels, checkLevel{Support: l, Names: names[l], Uses: uses[l]})
	}
	ns := rep.Summary.NotSupported
	sort.Slice(ns, func(i, j int) bool {
		if ns[i].Ingresses != ns[j].Ingresses {
			return ns[i].Ingresses > ns[j].Ingresses
		}
		return ns[i].Name < ns[j].Name
	})
	rep.Ready = len(ns) == 0
	if rep.Ready {
		rep.Result = "ready"
	} else if len(ns) == 1 {
		rep.Result = "1 annotation in use is not supported"
	} else {
		rep.Result = fmt.Sprintf("%d annotations in use are not supported", len(ns))
	}
	return rep
}

// classify looks one annotation up in the registry.
func classify(cat annotations.Catalogue, name, value string) checkAnnotation {
	a := checkAnnotation{Name: name, Value: value, Snippet: strings.HasSuffix(name, "-snippet")}
	k, known := cat.Annotation(name)
	// Strait's own annotations (strait.dev/) are not ingress-nginx's.
	known = known && k.Prefix == ""
	if !known {
		a.Support = supportUnknown
		a.Notes = "Not an ingress-nginx annotation Strait knows (a typo, or one of another ingress-nginx version); it has no effect."
		if s := cat.Suggest(name); s != "" {
			a.Notes += " " + strings.ToUpper(s[:1]) + s[1:]
			if !strings.HasSuffix(s, "?") {
				a.Notes += "."
			}
		}
	} else {
		a.Support = k.Support
		if k.Name != name {
			a.AliasOf = k.Name
		}
		if k.Support != annotations.Supported {
			a.Notes = k.Notes
		}
		if err := annotations.CheckValue(name, value); err != nil {
			a.Support = supportInvalid
			a.Notes = "Strait refuses this value (" + err.Error() + "); the Ingress gets a problem and, for redirects, access lists and rewrites, its paths answer 503."
		}
	}
	if a.Snippet && !strings.HasPrefix(a.Notes, "Never interpreted") {
		a.Notes = strings.TrimSpace("Never interpreted: snippets are raw nginx configuration. " + a.Notes)
	}
	return a
}

// text renders the report for a terminal.
func (r checkReport) text() []byte {
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("strait check: %s from %s; annotations %s*\n", plural(r.Summary.Ingresses, "Ingress", "Ingresses"), r.Source, r.Prefix)
	for _, ing := range r.Ingresses {
		p("\n%s/%s", ing.Namespace, ing.Name)
		if ing.At != "" {
			p("  (%s)", ing.At)
		}
		p("\n")
		if len(ing.Annotations) == 0 {
			p("  no %s annotations\n", strings.TrimSuffix(r.Prefix, "/"))
		}
		if len(ing.OverRisk) > 0 {
			verb := " is"
			if len(ing.OverRisk) > 1 {
				verb = " are"
			}
			b.WriteString(wrap("not served with the default annotations-risk-level (High): "+strings.Join(ing.OverRisk, ", ")+verb+
				" Critical. ingress-nginx ignores this Ingress too; remove the snippets, or set annotations-risk-level: Critical in the ConfigMap to serve the rest without it.", "  ", checkWrapWidth))
		}
		for _, a := range ing.Annotations {
			level := string(a.Support)
			if a.Snippet {
				level += ", snippet"
			}
			p("  %-*s %s: %s", checkLevelCol-2, level, a.Name, displayValue(a.Value))
			if a.AliasOf != "" {
				p(" (old name of %s)", a.AliasOf)
			}
			p("\n")
			if a.Notes != "" {
				b.WriteString(wrap(a.Notes, "      ", checkWrapWidth))
			}
		}
	}

	s := r.Summary
	p("\nsummary\n")
	p("  %-*s %d\n", checkLevelCol-2, "Ingresses read", s.Ingresses)
	p("  %-*s %s, %s\n", checkLevelCol-2, "annotations used", plural(s.AnnotationNames, "name", "names"), plural(s.AnnotationUses, "use", "uses"))
	for _, l := range s.Levels {
		p("  %-*s %s, %s\n", checkLevelCol-2, l.Support, plural(l.Names, "name", "names"), plural(l.Uses, "use", "uses"))
	}
	if len(r.Errors) > 0 {
		p("  %-*s %d (left out, see above)\n", checkLevelCol-2, "unreadable documents", len(r.Errors))
	}
	p("\nresult: %s\n", r.Result)
	width := 0
	for _, n := range s.NotSupported {
		width = max(width, len(n.Name))
	}
	for _, n := range s.NotSupported {
		p("  %-*s %-14s %s\n", width, n.Name, plural(n.Ingresses, "Ingress", "Ingresses"), n.Support)
	}
	return b.Bytes()
}

// displayValue quotes a value on one line: surrounding blank space dropped,
// line breaks shown as ⏎, other control characters escaped, cut to
// checkValueMax runes.
func displayValue(v string) string {
	v = strings.TrimSpace(v)
	var b strings.Builder
	n := 0
	for _, c := range v {
		if n == checkValueMax {
			b.WriteString("…")
			break
		}
		switch {
		case c == '\n':
			b.WriteString("⏎")
		case c == '\r':
			continue
		case c == '\t':
			b.WriteByte(' ')
		case c < 0x20 || c == 0x7f || c == utf8.RuneError:
			b.WriteString(strings.Trim(strconv.QuoteRune(c), "'"))
		default:
			b.WriteRune(c)
		}
		n++
	}
	return `"` + b.String() + `"`
}

// wrap breaks text into lines of at most width columns (longer words stay
// whole), each starting with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if line != indent && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += w
	}
	if line != indent {
		b.WriteString(line + "\n")
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
