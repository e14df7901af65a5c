package proxy

import (
	"testing"

	"github.com/straitgw/strait/internal/model"
)

// TestGatewayModifyPath: prefix replacement follows the API's table
// (trailing slashes of the prefix and the replacement ignored, an empty
// result is "/"); a full replacement replaces everything.
func TestGatewayModifyPath(t *testing.T) {
	prefix := func(v string) *model.PathModifier {
		return &model.PathModifier{Type: model.ReplacePrefixMatch, Value: v}
	}
	for _, c := range []struct {
		path, match string
		pm          *model.PathModifier
		want        string
	}{
		{"/foo/bar", "/foo", prefix("/xyz"), "/xyz/bar"},
		{"/foo/bar", "/foo", prefix("/xyz/"), "/xyz/bar"},
		{"/foo/bar", "/foo/", prefix("/xyz"), "/xyz/bar"},
		{"/foo/bar", "/foo/", prefix("/xyz/"), "/xyz/bar"},
		{"/foo", "/foo", prefix("/xyz"), "/xyz"},
		{"/foo/", "/foo", prefix("/xyz"), "/xyz/"},
		{"/foo/bar", "/foo", prefix(""), "/bar"},
		{"/foo/", "/foo", prefix(""), "/"},
		{"/foo", "/foo", prefix(""), "/"},
		{"/foo/", "/foo", prefix("/"), "/"},
		{"/foo", "/foo", prefix("/"), "/"},
		{"/prefix/one/two", "/prefix/one", prefix("/one"), "/one/two"},
		{"/strip-prefix/three", "/strip-prefix", prefix("/"), "/three"},
		{"/anything", "/", prefix("/api"), "/api/anything"},
		{"/full/one/two", "/full/one", &model.PathModifier{Type: model.ReplaceFullPath, Value: "/one"}, "/one"},
	} {
		if got := modifyPath(c.path, c.pm, model.PathMatch{Type: "PathPrefix", Value: c.match}); got != c.want {
			t.Errorf("%s matched by %s, %s %q: %q, want %q", c.path, c.match, c.pm.Type, c.pm.Value, got, c.want)
		}
	}
}
