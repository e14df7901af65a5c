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
	"net/http"
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

// State is what the controller's latest generation was translated from,
// and the problems it found.
type State struct {
	// Snapshot is nil before the first generation.
	Snapshot *snapshot.Snapshot
	Problems []model.Problem
}

// Validator decides AdmissionRequests for Ingresses.
type Validator struct {
	// Current returns the latest generation's State.
	Current func() State
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
	cur := v.Current()
	snap := cur.Snapshot
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
	denied, reasons, warnings := v.problems(cur, ing)
	allow.Warnings = warnings
	if len(denied) == 0 {
		v.count(metrics.AdmissionAllowed)
		return allow, nil
	}
	v.log().Info("Ingress refused", "namespace", ing.Namespace, "name", ing.Name, "operation", req.Operation, "dryRun", req.DryRun != nil && *req.DryRun, "reasons", reasons)
	v.count(metrics.AdmissionDenied)
	return &admissionv1.AdmissionResponse{
		UID:      req.UID,
		Allowed:  false,
		Warnings: warnings,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusUnprocessableEntity,
			Reason:  metav1.StatusReasonInvalid,
			Message: strings.Join(denied, "\n"),
		},
	}, nil
}

// problems translates the current snapshot with ing added, or in place of
// the stored Ingress of its name. It returns the texts of the problems
// that refuse ing, sorted, with their distinct reasons, and the texts of
// its warnings, sorted.
//
// ing's own problems count, and so do refusing problems it brings upon
// stored Ingresses (those the latest generation did not have): taking a
// path, alias or passthrough host from another Ingress, which happens
// when ing is older or, created in the same second, first by name. Those
// are given with the Ingress that would lose.
func (v *Validator) problems(cur State, ing *networkingv1.Ingress) (denied, reasons, warnings []string) {
	trial := *cur.Snapshot
	trial.Ingresses = withIngress(cur.Snapshot.Ingresses, ing)
	v.mu.Lock()
	r := v.builder.Build(&trial, v.Translate)
	v.mu.Unlock()
	ref := model.ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
	had := make(map[model.Problem]bool, len(cur.Problems))
	for _, p := range cur.Problems {
		had[p] = true
	}
	for _, p := range r.Problems {
		own, deny := p.Object == ref, denies(p.Reason)
		switch {
		case own && !deny:
			warnings = append(warnings, p.Text())
			continue
		case own:
			denied = append(denied, p.Text())
		case deny && p.Object.Kind == "Ingress" && !had[p]:
			denied = append(denied, p.Object.String()+": "+p.Text())
		default:
			continue
		}
		reasons = append(reasons, p.Reason)
	}
	slices.Sort(denied)
	slices.Sort(reasons)
	slices.Sort(warnings)
	return denied, slices.Compact(reasons), warnings
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
