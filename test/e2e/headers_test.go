package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// hdrResp is a response's status and headers, and what the echo backend
// saw when it answered.
type hdrResp struct {
	code   int
	header http.Header
	echo   echo.Echo
}

// hdrDo sends req to Strait and reads the answer.
func hdrDo(t *testing.T, req *http.Request) hdrResp {
	t.Helper()
	resp, err := plainClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := hdrResp{code: resp.StatusCode, header: resp.Header}
	if resp.Header.Get(echo.BackendHeader) != "" {
		_ = json.Unmarshal(b, &out.echo)
	}
	return out
}

// TestHeaderConfigMap: the controller ConfigMap's proxy-set-headers reach
// the backend (replacing or removing the client's), add-headers are on
// every response, enable-underscores-in-headers passes names with "_",
// generate-request-id "false" passes only the client's X-Request-ID; a
// ConfigMap update applies without a restart (catalogue 2, 2.1).
func TestHeaderConfigMap(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.61.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	for name, data := range map[string]map[string]string{
		"strait-config": {
			"proxy-set-headers": "strait-system/upstream-headers", "add-headers": "strait-system/response-headers",
			"enable-underscores-in-headers": "true", "generate-request-id": "false",
			"global-allowed-response-headers": "X-Team",
		},
		"upstream-headers": {"X-Custom-From": "strait", "X-Empty": "", "X-Request-Start": "t=${msec}", "X-Client": "$remote_addr"},
		"response-headers": {"X-Frame-Options": "DENY"},
	} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}
		if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	o := newObjects(t, c, "hdr")
	o.service("web")
	o.slice("web", "10.244.61.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "web", "hdr.test", "/", "web", nil, "")
	for name, data := range map[string]map[string]string{"team": {"X-Team": "blue"}, "extra": {"X-Team": "red", "X-Other": "1"}} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}
		if _, err := c.Client.CoreV1().ConfigMaps(o.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	annIngress(o, "custom", "hdr.test", "/custom", "web", annMap("custom-headers", "hdr/team"), "")
	annIngress(o, "denied", "hdr.test", "/denied", "web", annMap("custom-headers", "hdr/extra"), "")

	s := startStrait(t, c, "--configmap=strait-system/strait-config")
	get := func(hdr map[string]string) hdrResp {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+s.http+"/x", nil)
		req.Host = "hdr.test"
		for k, v := range hdr {
			req.Header[k] = []string{v}
		}
		return hdrDo(t, req)
	}
	r := get(map[string]string{"X-Custom-From": "client", "X-Empty": "client", "My_Header": "u"})
	if r.code != 200 || r.echo.Backend != "a" {
		t.Fatalf("GET: %d from %q", r.code, r.echo.Backend)
	}
	for k, want := range map[string][]string{"X-Custom-From": {"strait"}, "X-Empty": nil, "My_header": {"u"}, "X-Request-Id": nil} {
		if got := r.echo.Headers[k]; !slices.Equal(got, want) {
			t.Errorf("backend saw %s %q, want %q", k, got, want)
		}
	}
	if got := r.echo.Headers["X-Request-Start"]; len(got) != 1 || !strings.HasPrefix(got[0], "t=") || len(got[0]) < len("t=1700000000.000") {
		t.Errorf("backend saw X-Request-Start %q, want t=<msec>", got)
	}
	if got := r.echo.Headers["X-Client"]; !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("backend saw X-Client %q, want [127.0.0.1] ($remote_addr)", got)
	}
	if got := r.header.Values("X-Frame-Options"); !slices.Equal(got, []string{"DENY"}) {
		t.Errorf("response X-Frame-Options %q, want [DENY]", got)
	}
	if r.header.Get("Server") != "" {
		t.Errorf("response Server %q, want none (server-tokens false)", r.header.Get("Server"))
	}
	r = get(map[string]string{"X-Request-ID": "client-id"})
	if got := r.echo.Headers["X-Request-Id"]; !slices.Equal(got, []string{"client-id"}) {
		t.Errorf("backend saw X-Request-ID %q, want the client's", got)
	}
	// Strait's own answers carry add-headers too.
	req, _ := http.NewRequest("GET", "http://"+s.http+"/", nil)
	req.Host = "unknown.test"
	if r := hdrDo(t, req); r.code != 404 || r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("404 for an unknown host: %d, X-Frame-Options %q", r.code, r.header.Get("X-Frame-Options"))
	}

	// custom-headers: the Ingress's own response headers; a header not
	// in global-allowed-response-headers denies its paths.
	req, _ = http.NewRequest("GET", "http://"+s.http+"/custom/x", nil)
	req.Host = "hdr.test"
	if r := hdrDo(t, req); r.code != 200 || r.header.Get("X-Team") != "blue" || r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("/custom: %d, X-Team %q, X-Frame-Options %q; want 200, blue, DENY", r.code, r.header.Get("X-Team"), r.header.Get("X-Frame-Options"))
	}
	req, _ = http.NewRequest("GET", "http://"+s.http+"/denied", nil)
	req.Host = "hdr.test"
	if r := hdrDo(t, req); r.code != 503 || r.echo.Backend != "" {
		t.Errorf("/denied: %d from %q, want 503", r.code, r.echo.Backend)
	}
	annWaitWarning(t, c, "hdr", "denied", "InvalidAnnotation", "X-Other", "global-allowed-response-headers")

	// Back to ingress-nginx's defaults for the two keys.
	cur, err := c.Client.CoreV1().ConfigMaps(sys.ns).Get(ctx, "strait-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delete(cur.Data, "generate-request-id")
	delete(cur.Data, "enable-underscores-in-headers")
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "generate-request-id to apply", func() bool {
		return len(get(nil).echo.Headers["X-Request-Id"]) == 1
	})
	r = get(map[string]string{"My_Header": "u"})
	if got := r.echo.Headers["X-Request-Id"]; len(got) != 1 || len(got[0]) != 32 {
		t.Errorf("backend saw X-Request-ID %q, want a generated 32-hex id", got)
	}
	if got := r.echo.Headers["My_header"]; got != nil {
		t.Errorf("backend saw My_Header %q, want it dropped by default", got)
	}
	if got := r.echo.Headers["X-Custom-From"]; !slices.Equal(got, []string{"strait"}) {
		t.Errorf("backend saw X-Custom-From %q after the update", got)
	}
}
