package admission_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/admission"
	"github.com/straitgw/strait/internal/metrics"
)

// post sends body to the handler as the API server does.
func post(t *testing.T, h http.Handler, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, admission.Path, bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func reviewJSON(t testing.TB, req *admissionv1.AdmissionRequest) []byte {
	t.Helper()
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandlerAnswers(t *testing.T) {
	m := metrics.New(metrics.Controller{})
	h := validator(world(), m).Handler()
	for _, tc := range []struct {
		name    string
		ann     []string
		allowed bool
	}{
		{"valid", nil, true},
		{"invalid", []string{"proxy-body-size", "12 megabytes"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request(t, admissionv1.Create, ingress("a", "strait", "a.test", "/", "web", tc.ann...))
			w := post(t, h, "application/json", reviewJSON(t, req))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Request != nil || out.Response == nil {
				t.Fatalf("answer %s", w.Body)
			}
			if out.Response.UID != req.UID || out.Response.Allowed != tc.allowed {
				t.Errorf("uid %q allowed %v, want %q %v", out.Response.UID, out.Response.Allowed, req.UID, tc.allowed)
			}
			if !tc.allowed && !strings.Contains(out.Response.Result.Message, "12 megabytes") {
				t.Errorf("message %q", out.Response.Result.Message)
			}
		})
	}
	if a, d := reviews(t, m, metrics.AdmissionAllowed), reviews(t, m, metrics.AdmissionDenied); a != 1 || d != 1 {
		t.Errorf("allowed %v, denied %v; want 1 each", a, d)
	}
}

func TestHandlerRefusesMalformed(t *testing.T) {
	valid := func(t *testing.T) *admissionv1.AdmissionRequest {
		return request(t, admissionv1.Create, ingress("a", "strait", "a.test", "/", "web"))
	}
	for _, tc := range []struct {
		name        string
		contentType string
		body        func(t *testing.T) []byte
		code        int
		says        string
	}{
		{"not JSON", "application/json", func(*testing.T) []byte { return []byte("{not json") }, 400, "not an AdmissionReview"},
		{"empty", "application/json", func(*testing.T) []byte { return nil }, 400, "not an AdmissionReview"},
		{"no request", "application/json", func(t *testing.T) []byte { return reviewJSON(t, nil) }, 400, "has no request"},
		{"v1beta1", "application/json", func(t *testing.T) []byte {
			return bytes.Replace(reviewJSON(t, valid(t)), []byte("admission.k8s.io/v1"), []byte("admission.k8s.io/v1beta1"), 1)
		}, 400, "want admission.k8s.io/v1 AdmissionReview"},
		{"another kind", "application/json", func(t *testing.T) []byte {
			return bytes.Replace(reviewJSON(t, valid(t)), []byte(`"kind":"AdmissionReview"`), []byte(`"kind":"Status"`), 1)
		}, 400, "want admission.k8s.io/v1 AdmissionReview"},
		{"object not an Ingress", "application/json", func(t *testing.T) []byte {
			req := valid(t)
			req.Object.Raw = []byte(`{"metadata": []}`)
			return reviewJSON(t, req)
		}, 400, "not a networking.k8s.io/v1 Ingress"},
		{"YAML", "application/yaml", func(t *testing.T) []byte { return reviewJSON(t, valid(t)) }, 415, "want application/json"},
		{"no content type", "", func(t *testing.T) []byte { return reviewJSON(t, valid(t)) }, 415, "want application/json"},
		{"too large", "application/json", func(*testing.T) []byte {
			return append([]byte(`{"apiVersion":"`), bytes.Repeat([]byte("x"), admission.MaxRequestBytes)...)
		}, 413, "request body over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metrics.New(metrics.Controller{})
			w := post(t, validator(world(), m).Handler(), tc.contentType, tc.body(t))
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.says) {
				t.Errorf("answer %d %q, want %d saying %q", w.Code, w.Body, tc.code, tc.says)
			}
			if got := reviews(t, m, metrics.AdmissionError); got != 1 {
				t.Errorf("strait_admission_reviews_total{result=\"error\"} = %v, want 1", got)
			}
		})
	}
}

func TestHandlerRoutes(t *testing.T) {
	h := validator(world(), nil).Handler()
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, admission.Path, http.StatusMethodNotAllowed},
		{http.MethodPost, "/", http.StatusNotFound},
		{http.MethodPost, "/networking/v1/services", http.StatusNotFound},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}"))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, w.Code, tc.code)
		}
		_, _ = io.Copy(io.Discard, w.Body)
	}
}

// FuzzHandler: whatever the body, the handler answers 200 with a review
// response, or refuses the request with 400 or 413; it never panics.
func FuzzHandler(f *testing.F) {
	f.Add(reviewJSON(f, request(f, admissionv1.Create, ingress("a", "strait", "a.test", "/", "web", "proxy-body-size", "1m"))))
	f.Add(reviewJSON(f, request(f, admissionv1.Update, ingress("a", "strait", "a.test", "/(x", "web", "use-regex", "true", "auth-url", "http://x/$host"))))
	f.Add(reviewJSON(f, nil))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"group":"networking.k8s.io","version":"v1","kind":"Ingress"},"operation":"CREATE","object":{"metadata":{"name":"x"},"spec":{"rules":[{"host":"*"}]}}}}`))
	h := validator(world(ingress("stored", "strait", "taken.test", "/", "web")), nil).Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		w := post(t, h, "application/json", body)
		switch w.Code {
		case http.StatusOK:
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Response == nil {
				t.Fatalf("200 without a review response: %s (%v)", w.Body, err)
			}
			if !out.Response.Allowed && (out.Response.Result == nil || out.Response.Result.Message == "") {
				t.Fatalf("refusal without a message: %s", w.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
