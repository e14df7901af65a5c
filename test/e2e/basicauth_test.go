package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// basicAuthResp is what TestBasicAuth sees of one response.
type basicAuthResp struct {
	code      int
	challenge string // WWW-Authenticate
	backend   string // echo backend that answered, "" when none did
	echo      echo.Echo
	err       error
}

// basicAuthGet sends GET path with Host host, with basic credentials when
// user is not empty.
func (s *strait) basicAuthGet(host, path, user, pass string) basicAuthResp {
	req, err := http.NewRequest(http.MethodGet, "http://"+s.http+path, nil)
	if err != nil {
		return basicAuthResp{err: err}
	}
	req.Host = host
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return basicAuthResp{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	out := basicAuthResp{code: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), backend: resp.Header.Get(echo.BackendHeader), err: err}
	if out.backend != "" {
		_ = json.Unmarshal(b, &out.echo)
	}
	return out
}

// basicAuthSecret creates an Opaque Secret with data.
func basicAuthSecret(o *objects, name string, data map[string]string) {
	o.t.Helper()
	d := map[string][]byte{}
	for k, v := range data {
		d[k] = []byte(v)
	}
	_, err := o.c.CoreV1().Secrets(o.ns).Create(o.ctx(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeOpaque, Data: d,
	}, metav1.CreateOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
}

// TestBasicAuth: auth-type basic with an htpasswd Secret (auth-file) and
// with an auth-map Secret. Without credentials, with a wrong password or
// an unknown user the answer is 401 with the realm's challenge and the
// backend is not reached; with good credentials the backend answers and
// does not receive the Authorization header. An Ingress whose Secret is
// missing answers 503 (fail closed) with a Warning Event while the host's
// other Ingresses keep serving, and starts authenticating once the Secret
// is created. HTTPS behaves the same.
func TestBasicAuth(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.41.1", "a")
	o := newObjects(t, c, "basicauth")
	o.service("web")
	o.slice("web", "10.244.41.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "auth.test"
	// Hashes of "secret" from htpasswd -m and -B, openssl passwd -6, and
	// the {SHA} scheme.
	basicAuthSecret(o, "htpasswd", map[string]string{"auth": "# staff\n" +
		"alice:$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0\n" +
		"bob:$2y$05$b92SzjHsKqEGT2mT36R7zun1hOgNalEJON9mA01blnX3nOAtiR.jG\n"})
	basicAuthSecret(o, "users", map[string]string{
		"carol": "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
		"dave":  "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1\n",
	})
	annIngress(o, "open", host, "/", "web", nil, "")
	annIngress(o, "file", host, "/file", "web", annMap("auth-type", "basic", "auth-secret", "htpasswd", "auth-realm", "Staff Only"), "")
	annIngress(o, "map", host, "/map", "web", annMap("auth-type", "basic", "auth-secret", "basicauth/users", "auth-secret-type", "auth-map"), "")
	annIngress(o, "missing", host, "/missing", "web", annMap("auth-type", "basic", "auth-secret", "later", "auth-realm", "Later"), "")
	annTLSSecret(o, "secure-cert", "secure.test")
	annIngress(o, "secure", "secure.test", "/", "web", annMap("auth-type", "basic", "auth-secret", "htpasswd"), "secure-cert")

	s := startStrait(t, c)
	for _, tc := range []struct {
		path, user, pass string
		code             int
		challenge        string
	}{
		{"/file", "", "", 401, `Basic realm="Staff Only"`},
		{"/file/deeper?x=1", "alice", "wrong", 401, `Basic realm="Staff Only"`},
		{"/file", "mallory", "secret", 401, `Basic realm="Staff Only"`},
		{"/file", "carol", "secret", 401, `Basic realm="Staff Only"`}, // a user of the other Secret
		{"/file", "alice", "secret", 200, ""},
		{"/file/deeper", "bob", "secret", 200, ""},
		{"/map", "", "", 401, `Basic realm=""`},
		{"/map", "dave", "Secret", 401, `Basic realm=""`},
		{"/map", "carol", "secret", 200, ""},
		{"/map", "dave", "secret", 200, ""},
		{"/missing", "", "", 503, ""},
		{"/missing", "alice", "secret", 503, ""},
		{"/", "", "", 200, ""},
	} {
		r := s.basicAuthGet(host, tc.path, tc.user, tc.pass)
		if r.err != nil || r.code != tc.code || r.challenge != tc.challenge {
			t.Errorf("%s as %q: %d WWW-Authenticate %q (%v), want %d %q", tc.path, tc.user, r.code, r.challenge, r.err, tc.code, tc.challenge)
			continue
		}
		if (tc.code == 200) != (r.backend == "a") {
			t.Errorf("%s as %q: answered by backend %q", tc.path, tc.user, r.backend)
		}
		if r.backend != "" && tc.path != "/" && len(r.echo.Headers["Authorization"]) > 0 {
			t.Errorf("%s as %q: the backend received Authorization %q", tc.path, tc.user, r.echo.Headers["Authorization"])
		}
	}
	// Without authentication the header is the application's.
	if r := s.basicAuthGet(host, "/", "alice", "anything"); r.backend != "a" || len(r.echo.Headers["Authorization"]) != 1 {
		t.Errorf("open Ingress: backend %q, Authorization %q; want it passed through", r.backend, r.echo.Headers["Authorization"])
	}
	// The same over HTTPS, which the net/http handler serves directly.
	hc := s.annHTTPSClient(t)
	for _, tc := range []struct {
		user string
		code int
	}{{"", 401}, {"alice", 200}} {
		req, _ := http.NewRequest(http.MethodGet, "https://secure.test/x", nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, "secret")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("HTTPS as %q: %v", tc.user, err)
			continue
		}
		var e echo.Echo
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tc.code || (tc.code == 200) != (e.Backend == "a") || len(e.Headers["Authorization"]) > 0 || (tc.code == 401) != (resp.Header.Get("WWW-Authenticate") == `Basic realm=""`) {
			t.Errorf("HTTPS as %q: %d WWW-Authenticate %q, backend saw Authorization %q; want %d", tc.user, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), e.Headers["Authorization"], tc.code)
		}
	}
	annWaitWarning(t, c, "basicauth", "missing", "SecretNotFound", "auth-secret", `"later"`, "not found", "503")
	for _, name := range []string{"open", "file", "map", "secure"} {
		if w := annWarnings(c, "basicauth", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}

	// The Secret appears: the Ingress authenticates against it.
	basicAuthSecret(o, "later", map[string]string{"auth": "erin:{PLAIN}open sesame\n"})
	deadline := time.Now().Add(10 * time.Second)
	r := s.basicAuthGet(host, "/missing", "", "")
	for r.code != 401 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		r = s.basicAuthGet(host, "/missing", "", "")
	}
	if r.code != 401 || r.challenge != `Basic realm="Later"` {
		t.Fatalf("after the Secret was created: %d %q, want 401 with the realm Later", r.code, r.challenge)
	}
	if r := s.basicAuthGet(host, "/missing", "erin", "open sesame"); r.code != 200 || r.backend != "a" || len(r.echo.Headers["Authorization"]) > 0 {
		t.Errorf("erin after the Secret was created: %d from %q, Authorization %q", r.code, r.backend, r.echo.Headers["Authorization"])
	}
}
