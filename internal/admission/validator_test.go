package admission_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/straitgw/strait/internal/admission"
	"github.com/straitgw/strait/internal/metrics"
)

func TestReview(t *testing.T) {
	stored := ingress("stored", "strait", "taken.test", "/", "web")
	for _, tc := range []struct {
		name string
		op   admissionv1.Operation
		obj  runtime.Object
		// deny lists the texts the refusal must contain; nil: allowed.
		deny []string
		// warn lists the texts the warnings must contain, in order.
		warn []string
	}{
		{name: "valid", obj: ingress("a", "strait", "a.test", "/", "web")},
		{
			name: "invalid size", obj: ingress("a", "strait", "a.test", "/", "web", "proxy-body-size", "12 megabytes"),
			deny: []string{"metadata.annotations: nginx.ingress.kubernetes.io/proxy-body-size", `"12 megabytes"`, "not a size"},
		},
		{
			name: "invalid regex", obj: ingress("a", "strait", "a.test", "/api/(v1", "web", "use-regex", "true"),
			deny: []string{`path "/api/(v1" on host "a.test"`, "not valid RE2"},
		},
		{
			name: "two problems, sorted", obj: ingress("a", "strait", "a.test", "/", "web", "proxy-body-size", "lots", "limit-rps", "fast"),
			deny: []string{"limit-rps", "\n", "proxy-body-size"},
		},
		{
			name: "path held by an older Ingress", obj: later(ingress("a", "strait", "taken.test", "/", "web")),
			deny: []string{`spec.rules[0].http.paths[0].path: Prefix path "/" on host "taken.test" is already served by Ingress apps/stored`},
		},
		{
			// Created in the same second and first by name, it would
			// take the path from the stored one.
			name: "path taken from an Ingress of the same second", obj: ingress("a", "strait", "taken.test", "/", "web"),
			deny: []string{`Ingress apps/stored: spec.rules[0].http.paths[0].path: Prefix path "/" on host "taken.test" is already served by Ingress apps/a`},
		},
		{
			// Replacing the stored object, it does not conflict with
			// itself.
			name: "update of the stored Ingress", op: admissionv1.Update, obj: ingress("stored", "strait", "taken.test", "/", "web"),
		},
		{
			name: "update breaking the stored Ingress", op: admissionv1.Update, obj: ingress("stored", "strait", "taken.test", "/", "web", "ssl-redirect", "yes"),
			deny: []string{"nginx.ingress.kubernetes.io/ssl-redirect", `"yes"`},
		},
		{
			name: "missing Service", obj: ingress("a", "strait", "a.test", "/", "later"),
			warn: []string{"spec.rules[0].http.paths[0].backend.service.name: Service apps/later not found"},
		},
		{
			name: "missing Secrets", obj: ingress("a", "strait", "a.test", "/", "web", "auth-type", "basic", "auth-secret", "later-htpasswd", "auth-tls-secret", "apps/later-ca"),
			warn: []string{"auth-secret \"later-htpasswd\": Secret apps/later-htpasswd not found", "auth-tls-secret: Secret apps/later-ca not found"},
		},
		{
			name: "unknown annotation", obj: ingress("a", "strait", "a.test", "/", "web", "no-such-thing", "1"),
			warn: []string{"nginx.ingress.kubernetes.io/no-such-thing is not an ingress-nginx annotation"},
		},
		{
			name: "warning beside a refusal", obj: ingress("a", "strait", "a.test", "/", "later", "proxy-body-size", "lots"),
			deny: []string{"proxy-body-size"},
			warn: []string{"Service apps/later not found"},
		},
		{name: "another class", obj: ingress("a", "other", "a.test", "/", "web", "proxy-body-size", "12 megabytes")},
		{name: "no class", obj: ingress("a", "", "a.test", "/", "web", "proxy-body-size", "12 megabytes")},
		{
			name: "legacy class annotation", obj: ingress("a", "", "a.test", "/", "web", "kubernetes.io/ingress.class", "strait", "proxy-body-size", "12 megabytes"),
			deny: []string{"proxy-body-size"},
		},
		{name: "delete", op: admissionv1.Delete, obj: ingress("a", "strait", "a.test", "/", "web", "proxy-body-size", "12 megabytes")},
		{name: "not an Ingress", obj: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "svc"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metrics.New(metrics.Controller{})
			v := validator(world(stored), m)
			op := tc.op
			if op == "" {
				op = admissionv1.Create
			}
			req := request(t, op, tc.obj)
			if _, ok := tc.obj.(*corev1.Service); ok {
				req.Kind = metav1.GroupVersionKind{Version: "v1", Kind: "Service"}
			}
			resp, err := v.Review(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.UID != req.UID {
				t.Errorf("uid %q, want %q", resp.UID, req.UID)
			}
			checkResponse(t, resp, tc.deny, tc.warn)
			result := metrics.AdmissionAllowed
			if tc.deny != nil {
				result = metrics.AdmissionDenied
			}
			if got := reviews(t, m, result); got != 1 {
				t.Errorf("strait_admission_reviews_total{result=%q} = %v, want 1", result, got)
			}
		})
	}
}

// checkResponse checks that resp refuses with a message containing deny
// (allows when deny is nil), and that its warnings contain warn in order.
func checkResponse(t *testing.T, resp *admissionv1.AdmissionResponse, deny, warn []string) {
	t.Helper()
	if deny == nil {
		if !resp.Allowed {
			t.Errorf("refused: %+v", resp.Result)
		}
	} else {
		if resp.Allowed || resp.Result == nil {
			t.Fatalf("allowed (warnings %q), want refused", resp.Warnings)
		}
		if resp.Result.Code != 422 || resp.Result.Reason != metav1.StatusReasonInvalid {
			t.Errorf("result %d %s, want 422 Invalid", resp.Result.Code, resp.Result.Reason)
		}
		msg := resp.Result.Message
		for _, s := range deny {
			i := strings.Index(msg, s)
			if i < 0 {
				t.Errorf("message %q lacks %q", resp.Result.Message, s)
				continue
			}
			msg = msg[i+len(s):]
		}
	}
	if len(resp.Warnings) != len(warn) {
		t.Fatalf("warnings %q, want %d containing %q", resp.Warnings, len(warn), warn)
	}
	for i, w := range warn {
		if !strings.Contains(resp.Warnings[i], w) {
			t.Errorf("warning %d %q lacks %q", i, resp.Warnings[i], w)
		}
	}
}

func TestReviewBeforeFirstGeneration(t *testing.T) {
	v := validator(nil, nil)
	resp, err := v.Review(request(t, admissionv1.Create, ingress("a", "strait", "a.test", "/", "web", "proxy-body-size", "12 megabytes")))
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, resp, nil, []string{admission.NotReadyWarning})
}

func TestReviewUnwatchedNamespace(t *testing.T) {
	v := validator(world(), nil)
	v.Watches = func(n string) bool { return n == "elsewhere" }
	resp, err := v.Review(request(t, admissionv1.Create, ingress("a", "strait", "a.test", "/", "web", "proxy-body-size", "12 megabytes")))
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, resp, nil, nil)
}

// TestReviewDryRun: a dry run is decided like any request.
func TestReviewDryRun(t *testing.T) {
	v := validator(world(), nil)
	req := request(t, admissionv1.Create, ingress("a", "strait", "a.test", "/", "web", "proxy-body-size", "12 megabytes"))
	dry := true
	req.DryRun = &dry
	resp, err := v.Review(req)
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, resp, []string{"proxy-body-size"}, nil)
}

// TestReviewNewIngressIsNewest: an Ingress being created has no creation
// time yet; it must lose conflicts to the stored ones, not win them.
func TestReviewNewIngressIsNewest(t *testing.T) {
	v := validator(world(ingress("stored", "strait", "taken.test", "/", "web")), nil)
	ing := ingress("a-first-by-name", "strait", "taken.test", "/", "web")
	ing.CreationTimestamp = metav1.Time{}
	resp, err := v.Review(request(t, admissionv1.Create, ing))
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, resp, []string{"already served by Ingress apps/stored"}, nil)
}

// TestReviewLeavesSnapshot: reviews never change what the controller
// holds; the next review sees the stored Ingresses only.
func TestReviewLeavesSnapshot(t *testing.T) {
	snap := world(ingress("stored", "strait", "taken.test", "/", "web"))
	before := append([]*networkingv1.Ingress(nil), snap.Ingresses...)
	v := validator(snap, nil)
	if _, err := v.Review(request(t, admissionv1.Create, ingress("x", "strait", "x.test", "/", "web"))); err != nil {
		t.Fatal(err)
	}
	if len(snap.Ingresses) != 1 || snap.Ingresses[0] != before[0] {
		t.Fatalf("the snapshot changed: %v", snap.Ingresses)
	}
	// x was never stored: another Ingress may take x.test/.
	resp, err := v.Review(request(t, admissionv1.Create, ingress("y", "strait", "x.test", "/", "web")))
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, resp, nil, nil)
}

func TestReviewUnreadableObject(t *testing.T) {
	v := validator(world(), nil)
	req := request(t, admissionv1.Create, ingress("a", "strait", "a.test", "/", "web"))
	req.Object.Raw = []byte(`{"spec": "not an object"}`)
	if _, err := v.Review(req); err == nil || !strings.Contains(err.Error(), "not a networking.k8s.io/v1 Ingress") {
		t.Fatalf("error %v, want one about the object", err)
	}
}

// later makes ing a second younger than the Ingresses of ingress().
func later(ing *networkingv1.Ingress) *networkingv1.Ingress {
	ing.CreationTimestamp = metav1.NewTime(ing.CreationTimestamp.Add(time.Second))
	return ing
}

// TestReviewsInParallel: the API server sends reviews concurrently; each
// gets the answer for its own Ingress.
func TestReviewsInParallel(t *testing.T) {
	v := validator(world(ingress("stored", "strait", "taken.test", "/", "web")), nil)
	errs := make(chan string, 64)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("i%d", i)
			bad := i%2 == 1
			ann := []string{}
			if bad {
				ann = []string{"proxy-body-size", "12 megabytes"}
			}
			resp, err := v.Review(request(t, admissionv1.Create, ingress(name, "strait", name+".test", "/", "web", ann...)))
			if err != nil {
				errs <- err.Error()
				return
			}
			if resp.Allowed == bad {
				errs <- fmt.Sprintf("%s: allowed %v, result %+v", name, resp.Allowed, resp.Result)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
