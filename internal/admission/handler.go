package admission

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/straitgw/strait/internal/metrics"
)

// Path is where the webhook answers, ingress-nginx's path, so that a
// ValidatingWebhookConfiguration written for it carries over.
const Path = "/networking/v1/ingresses"

// MaxRequestBytes bounds a request body. The API server accepts objects of
// up to about 3 MiB, and a review of an update carries the object twice
// (object and oldObject).
const MaxRequestBytes = 7 << 20

// Handler returns the webhook's HTTP handler: POST Path with an
// admission.k8s.io/v1 AdmissionReview. A request that is not one is
// answered 400 (415 for a body that is not JSON, 413 for one over
// MaxRequestBytes); the API server then applies the webhook's
// failurePolicy.
func (v *Validator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+Path, v.serveReview)
	return mux
}

func (v *Validator) serveReview(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, err error) {
		v.count(metrics.AdmissionError)
		v.log().Warn("admission review not understood", "remote", r.RemoteAddr, "status", code, "error", err)
		http.Error(w, err.Error(), code)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		fail(http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: want application/json", r.Header.Get("Content-Type")))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			fail(http.StatusRequestEntityTooLarge, fmt.Errorf("request body over %d bytes", tooLarge.Limit))
			return
		}
		fail(http.StatusBadRequest, fmt.Errorf("reading the request: %w", err))
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		fail(http.StatusBadRequest, fmt.Errorf("the body is not an AdmissionReview: %w", err))
		return
	}
	if review.APIVersion != admissionv1.SchemeGroupVersion.String() || review.Kind != "AdmissionReview" {
		fail(http.StatusBadRequest, fmt.Errorf("got %s %q, want %s AdmissionReview (set admissionReviewVersions to [v1])", review.APIVersion, review.Kind, admissionv1.SchemeGroupVersion))
		return
	}
	if review.Request == nil {
		fail(http.StatusBadRequest, errors.New("the AdmissionReview has no request"))
		return
	}
	resp, err := v.Review(review.Request)
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	out, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp})
	if err != nil {
		// A response holds only strings and flags.
		fail(http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}
