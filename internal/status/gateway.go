package status

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/straitgw/strait/internal/controller"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/translate/gatewayapi"
)

// GatewayOptions configure the Gateway API status writes.
type GatewayOptions struct {
	// Client writes the statuses.
	Client gatewayclient.Interface
	// ControllerName is ours: route parent statuses under another
	// controller's name are left as they are.
	ControllerName gatewayv1.GatewayController
	// ListenerFailures, when set, returns why listening sockets could not
	// be opened, by "address:port"; their listeners are not Programmed.
	ListenerFailures func() map[string]string
}

// statusKey names an object whose status was written.
type statusKey struct {
	kind, namespace, name string
}

// writeGateways brings the status of every GatewayClass, Gateway and route
// of ours to what the generation says, writing only those that differ.
// Conditions keep their lastTransitionTime while their status stays.
func (w *Writer) writeGateways(ctx context.Context, g controller.Generation) {
	gw := w.opts.Gateway
	r := g.Gateway
	if gw == nil || gw.Client == nil || r == nil {
		return
	}
	v1 := gw.Client.GatewayV1()
	// An object deleted and created again under its name is another
	// object, with an empty status: what was written is remembered by
	// UID.
	uids := map[statusKey]types.UID{}
	for _, o := range g.Snapshot.GatewayClasses {
		uids[statusKey{"GatewayClass", "", o.Name}] = o.UID
	}
	for _, o := range g.Snapshot.Gateways {
		uids[statusKey{"Gateway", o.Namespace, o.Name}] = o.UID
	}
	for _, o := range g.Snapshot.HTTPRoutes {
		uids[statusKey{"HTTPRoute", o.Namespace, o.Name}] = o.UID
	}
	for _, o := range g.Snapshot.GRPCRoutes {
		uids[statusKey{"GRPCRoute", o.Namespace, o.Name}] = o.UID
	}
	w.gwUIDs = uids
	for _, cs := range r.Classes {
		want := gatewayv1.GatewayClassStatus{Conditions: cs.Conditions, SupportedFeatures: cs.SupportedFeatures}
		w.writeStatus(ctx, statusKey{"GatewayClass", "", cs.Name}, want, func(ctx context.Context) error {
			cur, err := v1.GatewayClasses().Get(ctx, cs.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			st := want
			st.Conditions = keepTransitions(want.Conditions, cur.Status.Conditions)
			if equality.Semantic.DeepEqual(st, cur.Status) {
				return nil
			}
			cur.Status = st
			_, err = v1.GatewayClasses().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
	}
	models := map[string]*model.Gateway{}
	for i := range g.Model.Gateways {
		models[g.Model.Gateways[i].Name] = &g.Model.Gateways[i]
	}
	var failures map[string]string
	if gw.ListenerFailures != nil {
		failures = gw.ListenerFailures()
	}
	shared := w.gatewayAddresses(g)
	specs := map[string][]gatewayv1.GatewaySpecAddress{}
	for _, o := range g.Snapshot.Gateways {
		specs[o.Namespace+"/"+o.Name] = o.Spec.Addresses
	}
	for _, gs := range r.Gateways {
		name := gs.Namespace + "/" + gs.Name
		want := w.gatewayStatus(gs, models[name], shared, failures, specs[name])
		w.writeStatus(ctx, statusKey{"Gateway", gs.Namespace, gs.Name}, want, func(ctx context.Context) error {
			cur, err := v1.Gateways(gs.Namespace).Get(ctx, gs.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			st := want
			st.Conditions = keepTransitions(want.Conditions, cur.Status.Conditions)
			st.Listeners = slices.Clone(want.Listeners)
			for i := range st.Listeners {
				var prev []metav1.Condition
				for _, old := range cur.Status.Listeners {
					if old.Name == st.Listeners[i].Name {
						prev = old.Conditions
					}
				}
				st.Listeners[i].Conditions = keepTransitions(st.Listeners[i].Conditions, prev)
			}
			if equality.Semantic.DeepEqual(st, cur.Status) {
				return nil
			}
			cur.Status = st
			_, err = v1.Gateways(gs.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
	}
	ours := map[statusKey][]gatewayv1.RouteParentStatus{}
	for _, rs := range r.Routes {
		ours[statusKey{rs.Kind, rs.Namespace, rs.Name}] = rs.Parents
	}
	// Routes that no longer name a Gateway of ours lose the parent
	// statuses written for them before.
	for _, hr := range g.Snapshot.HTTPRoutes {
		k := statusKey{"HTTPRoute", hr.Namespace, hr.Name}
		if _, ok := ours[k]; !ok && hasParentOf(hr.Status.Parents, gw.ControllerName) {
			ours[k] = nil
		}
	}
	for _, gr := range g.Snapshot.GRPCRoutes {
		k := statusKey{"GRPCRoute", gr.Namespace, gr.Name}
		if _, ok := ours[k]; !ok && hasParentOf(gr.Status.Parents, gw.ControllerName) {
			ours[k] = nil
		}
	}
	for k := range w.gwWritten {
		if _, ok := uids[k]; !ok {
			delete(w.gwWritten, k) // the object is gone
		}
	}
	keys := make([]statusKey, 0, len(ours))
	for k := range ours {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b statusKey) int {
		return strings.Compare(a.kind+"/"+a.namespace+"/"+a.name, b.kind+"/"+b.namespace+"/"+b.name)
	})
	for _, k := range keys {
		parents := ours[k]
		w.writeStatus(ctx, k, parents, func(ctx context.Context) error {
			switch k.kind {
			case "HTTPRoute":
				rc := v1.HTTPRoutes(k.namespace)
				return writeParents(ctx, rc.Get, rc.UpdateStatus, k.name, parents, gw.ControllerName,
					func(r *gatewayv1.HTTPRoute) *[]gatewayv1.RouteParentStatus { return &r.Status.Parents })
			case "GRPCRoute":
				rc := v1.GRPCRoutes(k.namespace)
				return writeParents(ctx, rc.Get, rc.UpdateStatus, k.name, parents, gw.ControllerName,
					func(r *gatewayv1.GRPCRoute) *[]gatewayv1.RouteParentStatus { return &r.Status.Parents })
			}
			return fmt.Errorf("no status writer for kind %s", k.kind)
		})
	}
}

// writeParents reads a route, merges our parent statuses into those it
// shows and updates its status when that changes them.
func writeParents[R any](ctx context.Context,
	get func(context.Context, string, metav1.GetOptions) (R, error),
	update func(context.Context, R, metav1.UpdateOptions) (R, error),
	name string, ours []gatewayv1.RouteParentStatus, controller gatewayv1.GatewayController,
	parents func(R) *[]gatewayv1.RouteParentStatus) error {
	cur, err := get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	have := parents(cur)
	st := mergeParents(*have, ours, controller)
	if equality.Semantic.DeepEqual(st, *have) {
		return nil
	}
	*have = st
	_, err = update(ctx, cur, metav1.UpdateOptions{})
	return err
}

// writeStatus runs write unless want is what this replica last wrote for
// the object. A failed write is tried again with the next generation.
func (w *Writer) writeStatus(ctx context.Context, k statusKey, want any, write func(context.Context) error) {
	b, err := json.Marshal(want)
	if err != nil {
		return
	}
	written := string(w.gwUIDs[k]) + " " + string(b)
	if w.gwWritten[k] == written {
		return
	}
	if err := w.limiter.Wait(ctx); err != nil {
		return
	}
	if err := write(ctx); err != nil {
		w.log.Warn("writing status", "kind", k.kind, "object", strings.TrimPrefix(k.namespace+"/"+k.name, "/"), "error", err)
		delete(w.gwWritten, k)
		w.retryLater()
		return
	}
	w.metrics.StatusWrites.Inc()
	w.gwWritten[k] = written
}

// gatewayStatus completes translate's status of a Gateway with what the
// data plane knows: its addresses, and whether its listeners are open.
func (w *Writer) gatewayStatus(gs gatewayapi.GatewayStatus, m *model.Gateway, shared []gatewayv1.GatewayStatusAddress, failures map[string]string, requested []gatewayv1.GatewaySpecAddress) gatewayv1.GatewayStatus {
	st := gatewayv1.GatewayStatus{Conditions: slices.Clone(gs.Conditions), Listeners: slices.Clone(gs.Listeners)}
	ip := gatewayv1.IPAddressType
	if m != nil && len(m.Addresses) > 0 {
		for _, a := range m.Addresses {
			st.Addresses = append(st.Addresses, gatewayv1.GatewayStatusAddress{Type: &ip, Value: a})
		}
	} else {
		st.Addresses = shared
	}
	gen := int64(0)
	accepted := false
	for _, c := range gs.Conditions {
		if c.Type == string(gatewayv1.GatewayConditionAccepted) {
			gen, accepted = c.ObservedGeneration, c.Status == metav1.ConditionTrue
		}
	}
	programmed := 0
	for i := range st.Listeners {
		l := &st.Listeners[i]
		l.Conditions = slices.Clone(l.Conditions)
		for j := range l.Conditions {
			c := &l.Conditions[j]
			if c.Type != string(gatewayv1.ListenerConditionProgrammed) || c.Status != metav1.ConditionTrue {
				continue
			}
			if why := listenerFailure(m, string(l.Name), failures); why != "" {
				c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(gatewayv1.ListenerReasonInvalid), why
				continue
			}
			programmed++
		}
	}
	cond := metav1.Condition{Type: string(gatewayv1.GatewayConditionProgrammed), ObservedGeneration: gen}
	unusable := unusableAddress(requested, st.Addresses)
	switch {
	case !accepted:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, string(gatewayv1.GatewayReasonInvalid), "the Gateway is not accepted"
	case unusable != "":
		cond.Status, cond.Reason = metav1.ConditionFalse, string(gatewayv1.GatewayReasonAddressNotUsable)
		cond.Message = fmt.Sprintf("spec.addresses asks for %s; Strait assigns addresses itself (leave the value empty, or remove it)", unusable)
	case len(st.Addresses) == 0:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, string(gatewayv1.GatewayReasonAddressNotAssigned), "no address: the address pool is exhausted, or the published Service has none"
	case programmed == 0:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, string(gatewayv1.GatewayReasonInvalid), "no listener is programmed"
	default:
		cond.Status, cond.Reason = metav1.ConditionTrue, string(gatewayv1.GatewayReasonProgrammed)
	}
	st.Conditions = append(st.Conditions, cond)
	return st
}

// unusableAddress returns the first address the Gateway asks for by value
// that is not one it has: Strait takes no static addresses. A requested
// address without a value asks for any, which is what Strait assigns.
func unusableAddress(requested []gatewayv1.GatewaySpecAddress, have []gatewayv1.GatewayStatusAddress) string {
	for _, r := range requested {
		if r.Value == "" {
			continue
		}
		if !slices.ContainsFunc(have, func(a gatewayv1.GatewayStatusAddress) bool { return a.Value == r.Value }) {
			return r.Value
		}
	}
	return ""
}

// listenerFailure says why the socket of a Gateway's listener is not open,
// or "".
func listenerFailure(m *model.Gateway, listener string, failures map[string]string) string {
	if m == nil || len(failures) == 0 {
		return ""
	}
	for _, l := range m.Listeners {
		if l.Name != listener {
			continue
		}
		addrs := m.Addresses
		for _, a := range addrs {
			if why := failures[net.JoinHostPort(a, fmt.Sprint(l.Port))]; why != "" {
				return why
			}
		}
		if len(addrs) == 0 {
			for addr, why := range failures {
				if _, port, _ := net.SplitHostPort(addr); port == fmt.Sprint(l.Port) {
					return why
				}
			}
		}
	}
	return ""
}

// gatewayAddresses are the addresses of Gateways without addresses of
// their own: those published for Ingresses (--publish-service or
// --publish-status-address).
func (w *Writer) gatewayAddresses(g controller.Generation) []gatewayv1.GatewayStatusAddress {
	var out []gatewayv1.GatewayStatusAddress
	ip, host := gatewayv1.IPAddressType, gatewayv1.HostnameAddressType
	for _, a := range w.addresses(g) {
		if a.IP != "" {
			out = append(out, gatewayv1.GatewayStatusAddress{Type: &ip, Value: a.IP})
		} else {
			out = append(out, gatewayv1.GatewayStatusAddress{Type: &host, Value: a.Hostname})
		}
	}
	return out
}

// keepTransitions returns want with the lastTransitionTime of each
// condition taken from have when its status did not change, now otherwise.
func keepTransitions(want, have []metav1.Condition) []metav1.Condition {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	out := slices.Clone(want)
	for i := range out {
		out[i].LastTransitionTime = now
		for _, h := range have {
			if h.Type == out[i].Type && h.Status == out[i].Status {
				out[i].LastTransitionTime = h.LastTransitionTime
			}
		}
	}
	return out
}

// mergeParents replaces the parent statuses written under our controller
// name with ours, keeping other controllers' entries in place.
func mergeParents(have, ours []gatewayv1.RouteParentStatus, name gatewayv1.GatewayController) []gatewayv1.RouteParentStatus {
	out := make([]gatewayv1.RouteParentStatus, 0, len(have)+len(ours))
	for _, p := range have {
		if p.ControllerName != name {
			out = append(out, p)
		}
	}
	for _, p := range ours {
		var prev []metav1.Condition
		for _, h := range have {
			if h.ControllerName == name && equality.Semantic.DeepEqual(h.ParentRef, p.ParentRef) {
				prev = h.Conditions
			}
		}
		p.Conditions = keepTransitions(p.Conditions, prev)
		out = append(out, p)
	}
	return out
}

// hasParentOf reports whether a route's status holds an entry of ours.
func hasParentOf(ps []gatewayv1.RouteParentStatus, name gatewayv1.GatewayController) bool {
	for _, p := range ps {
		if p.ControllerName == name {
			return true
		}
	}
	return false
}
