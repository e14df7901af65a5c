package chart

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// serveFlagLine matches a flag in `strait serve --help`: "  -x, --name type"
// or "      --name type".
var serveFlagLine = regexp.MustCompile(`^\s+(?:-[a-zA-Z], )?--([a-z0-9][a-z0-9-]*)`)

// serveFlags returns the flags `strait serve` accepts, from its help.
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command(straitBin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("strait serve --help: %v\n%s", err, out)
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if m := serveFlagLine.FindStringSubmatch(line); m != nil {
			names[m[1]] = true
		}
	}
	// The parse must find flags it knows are there.
	for _, known := range []string{"configmap", "publish-service", "election-id", "controller-class", "shutdown-delay"} {
		if !names[known] {
			t.Fatalf("found no --%s in strait serve --help; parsed %v from:\n%s", known, names, out)
		}
	}
	return names
}

// TestFlagsAcceptedByServe renders every values file and checks that each
// flag the container is given is one `strait serve` accepts.
func TestFlagsAcceptedByServe(t *testing.T) {
	accepted := serveFlags(t)
	renderings := map[string]rendering{"default values": render(t)}
	for _, f := range []string{"ingress-nginx-values.yaml", "daemonset-hostnetwork-values.yaml", "cert-manager-values.yaml"} {
		renderings[f] = render(t, "-f", valuesFile(t, f))
	}
	for name, r := range renderings {
		for flag := range flags(t, r) {
			if !accepted[flag] {
				t.Errorf("%s: the chart passes --%s, which strait serve does not accept", name, flag)
			}
		}
	}
}
