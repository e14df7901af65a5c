package status

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestKeepTransitions: a condition whose status stays keeps its
// lastTransitionTime (even when its reason or generation changes); one
// whose status changed, or that is new, gets the current time.
func TestKeepTransitions(t *testing.T) {
	old := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	have := []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", LastTransitionTime: old},
		{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed", LastTransitionTime: old},
	}
	want := []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "ListenersNotValid", ObservedGeneration: 2},
		{Type: "Programmed", Status: metav1.ConditionFalse, Reason: "Invalid"},
		{Type: "ResolvedRefs", Status: metav1.ConditionTrue, Reason: "ResolvedRefs"},
	}
	got := keepTransitions(want, have)
	if !got[0].LastTransitionTime.Equal(&old) {
		t.Errorf("Accepted (status unchanged) moved to %v", got[0].LastTransitionTime)
	}
	for _, c := range got[1:] {
		if c.LastTransitionTime.Equal(&old) || time.Since(c.LastTransitionTime.Time) > time.Minute {
			t.Errorf("%s: lastTransitionTime %v, want now", c.Type, c.LastTransitionTime)
		}
	}
	if want[0].LastTransitionTime != (metav1.Time{}) {
		t.Error("keepTransitions changed its input")
	}
}

// TestMergeParents: entries of other controllers stay as they are, ours
// are replaced (a parent no longer ours disappears), and an unchanged
// condition of ours keeps its transition time.
func TestMergeParents(t *testing.T) {
	old := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ref := func(name string) gatewayv1.ParentReference {
		return gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}
	}
	cond := func(st metav1.ConditionStatus, at metav1.Time) []metav1.Condition {
		return []metav1.Condition{{Type: "Accepted", Status: st, Reason: "Accepted", LastTransitionTime: at}}
	}
	have := []gatewayv1.RouteParentStatus{
		{ParentRef: ref("theirs"), ControllerName: "example.com/other", Conditions: cond(metav1.ConditionTrue, old)},
		{ParentRef: ref("kept"), ControllerName: "strait.dev/gateway-controller", Conditions: cond(metav1.ConditionTrue, old)},
		{ParentRef: ref("gone"), ControllerName: "strait.dev/gateway-controller", Conditions: cond(metav1.ConditionTrue, old)},
	}
	ours := []gatewayv1.RouteParentStatus{
		{ParentRef: ref("kept"), ControllerName: "strait.dev/gateway-controller", Conditions: cond(metav1.ConditionTrue, metav1.Time{})},
		{ParentRef: ref("new"), ControllerName: "strait.dev/gateway-controller", Conditions: cond(metav1.ConditionFalse, metav1.Time{})},
	}
	got := mergeParents(have, ours, "strait.dev/gateway-controller")
	var names []string
	for _, p := range got {
		names = append(names, string(p.ParentRef.Name))
	}
	if len(names) != 3 || names[0] != "theirs" || names[1] != "kept" || names[2] != "new" {
		t.Fatalf("parents %v, want [theirs kept new]", names)
	}
	if !got[1].Conditions[0].LastTransitionTime.Equal(&old) {
		t.Errorf("kept: transition time %v, want the old one", got[1].Conditions[0].LastTransitionTime)
	}
	if got[2].Conditions[0].LastTransitionTime.IsZero() {
		t.Error("new: no transition time")
	}
}

// TestUnusableAddress: a requested address without a value is any
// address; one with a value must be one the Gateway has.
func TestUnusableAddress(t *testing.T) {
	ip := gatewayv1.IPAddressType
	have := []gatewayv1.GatewayStatusAddress{{Type: &ip, Value: "172.30.0.1"}}
	for _, c := range []struct {
		req  []gatewayv1.GatewaySpecAddress
		want string
	}{
		{nil, ""},
		{[]gatewayv1.GatewaySpecAddress{{Type: &ip}}, ""},
		{[]gatewayv1.GatewaySpecAddress{{Type: &ip, Value: "172.30.0.1"}}, ""},
		{[]gatewayv1.GatewaySpecAddress{{Type: &ip}, {Type: &ip, Value: "192.0.2.9"}}, "192.0.2.9"},
	} {
		if got := unusableAddress(c.req, have); got != c.want {
			t.Errorf("unusableAddress(%v) = %q, want %q", c.req, got, c.want)
		}
	}
}
