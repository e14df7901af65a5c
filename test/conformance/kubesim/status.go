package kubesim

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// status returns the status the Pod should have now, starting from its
// current one so that fields kubesim does not manage (such as qosClass,
// which the API server sets and then keeps immutable) are kept.
func (rt *podRuntime) status(pod *corev1.Pod) corev1.PodStatus {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	st := *pod.Status.DeepCopy()
	ip, host := rt.ip.String(), rt.sim.opts.NodeIP.String()
	st.PodIP, st.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	st.HostIP, st.HostIPs = host, []corev1.HostIP{{IP: host}}
	if st.StartTime == nil {
		st.StartTime = &metav1.Time{Time: rt.created}
	}
	st.Reason, st.Message = "", ""

	running, ready := 0, true
	st.ContainerStatuses = make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for i, sc := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: sc.Name, Image: sc.Image, ImageID: "kubesim://" + sc.Image, Started: new(false)}
		var c *container
		if rt.containers != nil {
			c = rt.containers[i]
		}
		switch {
		case c == nil:
			reason, msg := rt.waitReason, rt.waitMsg
			if reason == "" {
				reason = "ContainerCreating"
			}
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
		case c.failReason != "":
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.failReason, Message: c.failMsg}
		case c.running():
			running++
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.startedAt)}
			cs.ContainerID = fmt.Sprintf("kubesim://%s-%s-%d", pod.UID, c.name, c.restarts)
			cs.Started, cs.Ready = new(true), c.ready
		case c.lastExit != nil:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off restarting failed container %s", c.name)}
		default:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		if c != nil {
			cs.RestartCount = c.restarts
			if c.lastExit != nil {
				cs.LastTerminationState.Terminated = c.lastExit.DeepCopy()
			}
		}
		ready = ready && cs.Ready
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}

	st.Phase = corev1.PodPending
	if running > 0 {
		st.Phase = corev1.PodRunning
	}
	t := now()
	setCondition(&st, corev1.PodScheduled, true, t)
	setCondition(&st, corev1.PodReadyToStartContainers, true, t)
	setCondition(&st, corev1.PodInitialized, true, t)
	setCondition(&st, corev1.ContainersReady, ready, t)
	setCondition(&st, corev1.PodReady, ready, t)
	return st
}

// setCondition sets a condition of st, keeping its last transition time
// when its status does not change.
func setCondition(st *corev1.PodStatus, typ corev1.PodConditionType, ok bool, at time.Time) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != typ {
			continue
		}
		if c.Status != status {
			c.Status, c.LastTransitionTime = status, metav1.NewTime(at)
		}
		c.Reason, c.Message = "", ""
		if !ok && (typ == corev1.ContainersReady || typ == corev1.PodReady) {
			c.Reason = "ContainersNotReady"
		}
		return
	}
	c := corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: metav1.NewTime(at)}
	if !ok && (typ == corev1.ContainersReady || typ == corev1.PodReady) {
		c.Reason = "ContainersNotReady"
	}
	st.Conditions = append(st.Conditions, c)
}
