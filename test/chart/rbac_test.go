package chart

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// deployRBAC is what deploy/10-rbac.yaml grants.
type deployRBAC struct {
	cluster []rbacv1.PolicyRule
}

// readDeployRBAC reads the ClusterRole of deploy/10-rbac.yaml, the rules the
// chart must grant too (the e2e tests prove them sufficient).
func readDeployRBAC(t testing.TB) deployRBAC {
	t.Helper()
	b := readFile(t, repoPath(t, "deploy", "10-rbac.yaml"))
	objs, err := decodeObjects(string(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" {
			var cr rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &cr); err != nil {
				t.Fatal(err)
			}
			return deployRBAC{cluster: cr.Rules}
		}
	}
	t.Fatal("deploy/10-rbac.yaml has no ClusterRole")
	return deployRBAC{}
}

// rulesEqual compares two rule lists as sets of rules, each rule's lists as
// sets.
func rulesEqual(a, b []rbacv1.PolicyRule) bool {
	key := func(r rbacv1.PolicyRule) string {
		parts := [][]string{r.APIGroups, r.Resources, r.ResourceNames, r.Verbs, r.NonResourceURLs}
		var s []string
		for _, p := range parts {
			p = slices.Clone(p)
			slices.Sort(p)
			s = append(s, strings.Join(p, ","))
		}
		return strings.Join(s, ";")
	}
	keys := func(rules []rbacv1.PolicyRule) []string {
		var out []string
		for _, r := range rules {
			out = append(out, key(r))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(keys(a), keys(b))
}
