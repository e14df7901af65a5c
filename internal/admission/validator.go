// Package admission is Strait's validating admission webhook for Ingresses.
// It decides with translate alone: the Ingress under review is put into
// the controller's current snapshot and translated, and its problems are
// the answer. It renders no configuration, runs nothing, and opens no
// file or URL that an object names, so an object cannot make it act (the
// hole ingress-nginx's webhook had when it ran nginx -t on configuration
// rendered from the object).
package admission

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/translate"
)

// NotReadyWarning is the warning on Ingresses let in before the controller
// has built its first generation: there is nothing to check them against
// yet, and refusing every Ingress while a controller starts would block
// deployments for longer than the check is worth.
const NotReadyWarning = "Strait has not synced with the cluster yet; this Ingress was not checked"

// Validator decides AdmissionRequests for Ingresses.
type Validator struct {
	// Snapshot returns the snapshot the latest generation was translated
	// from, or nil before the first.
	Snapshot func() *snapshot.Snapshot
	// Classes selects the Ingresses Strait serves, as the snapshot does;
	// others are let in unread.
	Classes snapshot.ClassOptions
	// Watches reports whether Ingresses of a namespace are served; nil
	// means every namespace. Others are let in unread.
	Watches func(namespace string) bool
	// Translate holds the controller-wide translation settings, the
	// controller's own.
	Translate translate.Options
	// Metrics counts the decisions; nil counts nothing.
	Metrics *metrics.Set
	// Log receives a line per refusal; nil means slog.Default().
	Log *slog.Logger
	// Now gives the creation time of an Ingress under review that has
	// none yet; nil means time.Now.
	Now func() time.Time

	// mu serializes reviews on builder, which keeps the translation of
	// the Ingresses a review leaves alone, so that a review translates
	// only the Ingresses coupled with the one under review.
	mu      sync.Mutex
	builder translate.Builder
}

// Review answers one AdmissionRequest. An error means the request could
// not be read (the webhook then answers 400); an object the request
// carries that is not an Ingress is let in.
func (v *Validator) Review(req *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, error) {
	allow := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	isIngress := req.Kind.Group == networkingv1.GroupName && req.Kind.Version == "v1" && req.Kind.Kind == "Ingress"
	if !isIngress || (req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
		v.count(metrics.AdmissionAllowed)
		return allow, nil
	}
	ing := &networkingv1.Ingress{}
	if err := json.Unmarshal(req.Object.Raw, ing); err != nil {
		return nil, fmt.Errorf("request.object is not a networking.k8s.io/v1 Ingress: %w", err)
	}
	// The API server fills these in before validating admission; a
	// request without them still names the object.
	if ing.Namespace == "" {
		ing.Namespace = req.Namespace
	}
	if ing.Name == "" {
		ing.Name = req.Name
	}
	snap := v.Snapshot()
	if snap == nil {
		allow.Warnings = []string{NotReadyWarning}
		v.count(metrics.AdmissionAllowed)
		return allow, nil
	}
	if (v.Watches != nil && !v.Watches(ing.Namespace)) || !snapshot.ClassFilter(snap.IngressClasses, v.Classes)(ing) {
		v.count(metrics.AdmissionAllowed)
		return allow, nil
	}
	if ing.CreationTimestamp.IsZero() {
		// Older Ingresses win conflicts; one without a time would sort
		// first and take what they hold.
		now := time.Now
		if v.Now != nil {
			now = v.Now
		}
		ing.CreationTimestamp = metav1.NewTime(now())
	}
	denied, warnings := v.problems(snap, ing)
	allow.Warnings = warnings
	if len(denied) == 0 {
		v.count(metrics.AdmissionAllowed)
		return allow, nil
	}
	v.log().Info("Ingress refused", "namespace", ing.Namespace, "name", ing.Name, "operation", req.Operation, "dryRun", req.DryRun != nil && *req.DryRun, "reasons", reasons(denied))
	v.count(metrics.AdmissionDenied)
	texts := make([]string, len(denied))
	for i, p := range denied {
		texts[i] = p.Text()
	}
	slices.Sort(texts)
	return &admissionv1.AdmissionResponse{
		UID:      req.UID,
		Allowed:  false,
		Warnings: warnings,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    422,
			Reason:  metav1.StatusReasonInvalid,
			Message: strings.Join(texts, "\n"),
		},
	}, nil
}

// problems translates snap with ing added, or in place of the stored
// Ingress of its name, and returns ing's problems: those that refuse it,
// and the warnings' texts, sorted.
func (v *Validator) problems(snap *snapshot.Snapshot, ing *networkingv1.Ingress) (denied []model.Problem, warnings []string) {
	trial := *snap
	trial.Ingresses = withIngress(snap.Ingresses, ing)
	v.mu.Lock()
	r := v.builder.Build(&trial, v.Translate)
	v.mu.Unlock()
	ref := model.ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
	for _, p := range r.Problems {
		switch {
		case p.Object != ref:
		case denies(p.Reason):
			denied = append(denied, p)
		default:
			warnings = append(warnings, p.Text())
		}
	}
	slices.Sort(warnings)
	return denied, warnings
}

// withIngress returns a copy of ings (namespace/name order) with ing added
// or replacing the Ingress of its name; ings itself is left alone.
func withIngress(ings []*networkingv1.Ingress, ing *networkingv1.Ingress) []*networkingv1.Ingress {
	i, found := slices.BinarySearchFunc(ings, ing, snapshot.CompareIngresses)
	out := make([]*networkingv1.Ingress, 0, len(ings)+1)
	out = append(out, ings[:i]...)
	out = append(out, ing)
	if found {
		i++
	}
	return append(out, ings[i:]...)
}

// reasons lists the distinct reasons of ps, sorted.
func reasons(ps []model.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Reason)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (v *Validator) count(result string) {
	if v.Metrics != nil {
		v.Metrics.AdmissionReviews.WithLabelValues(result).Inc()
	}
}

func (v *Validator) log() *slog.Logger {
	if v.Log != nil {
		return v.Log
	}
	return slog.Default()
}
