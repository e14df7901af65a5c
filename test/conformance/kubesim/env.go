package kubesim

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// writeVolumes writes the Pod's secret and configMap volumes, as files
// named by key (or by the volume's items), into a directory per volume
// under dir, and creates an empty directory for every other volume. It
// returns each volume's directory by name. If a Secret or ConfigMap (or a
// key of one) that a volume needs and does not mark optional is missing,
// it returns a message saying which, and the Pod waits for it as it would
// on a kubelet.
func (s *Sim) writeVolumes(ctx context.Context, pod *corev1.Pod, dir string) (map[string]string, string, error) {
	vols := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		vdir := filepath.Join(dir, v.Name)
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return nil, "", err
		}
		vols[v.Name] = vdir
		var (
			data     map[string][]byte
			items    []corev1.KeyToPath
			optional bool
			what     string
			mode     = int32(0o644)
			err      error
		)
		switch {
		case v.Secret != nil:
			what = fmt.Sprintf("secret %q", v.Secret.SecretName)
			items, optional = v.Secret.Items, v.Secret.Optional != nil && *v.Secret.Optional
			if v.Secret.DefaultMode != nil {
				mode = *v.Secret.DefaultMode
			}
			data, err = s.secretData(ctx, pod.Namespace, v.Secret.SecretName)
		case v.ConfigMap != nil:
			what = fmt.Sprintf("configmap %q", v.ConfigMap.Name)
			items, optional = v.ConfigMap.Items, v.ConfigMap.Optional != nil && *v.ConfigMap.Optional
			if v.ConfigMap.DefaultMode != nil {
				mode = *v.ConfigMap.DefaultMode
			}
			data, err = s.configMapData(ctx, pod.Namespace, v.ConfigMap.Name)
		default:
			continue // emptyDir and anything else: an empty directory
		}
		if apierrors.IsNotFound(err) {
			if optional {
				continue
			}
			return nil, fmt.Sprintf("volume %q: %s not found", v.Name, what), nil
		}
		if err != nil {
			return nil, "", err
		}
		if len(items) == 0 {
			for _, k := range slices.Sorted(maps.Keys(data)) {
				items = append(items, corev1.KeyToPath{Key: k, Path: k})
			}
		}
		for _, it := range items {
			b, ok := data[it.Key]
			if !ok {
				if optional {
					continue
				}
				return nil, fmt.Sprintf("volume %q: %s has no key %q", v.Name, what, it.Key), nil
			}
			m := mode
			if it.Mode != nil {
				m = *it.Mode
			}
			p := filepath.Join(vdir, filepath.FromSlash(it.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, "", err
			}
			if err := os.WriteFile(p, b, os.FileMode(m)|0o600); err != nil {
				return nil, "", err
			}
		}
	}
	return vols, "", nil
}

func (s *Sim) secretData(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	sec, err := s.opts.Client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	data := maps.Clone(sec.Data)
	if data == nil {
		data = map[string][]byte{}
	}
	for k, v := range sec.StringData {
		data[k] = []byte(v)
	}
	return data, nil
}

func (s *Sim) configMapData(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	cm, err := s.opts.Client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	maps.Copy(data, cm.BinaryData)
	return data, nil
}

// containerEnv returns the environment of container c of pod, which runs
// at address ip, as "NAME=value" entries: HOSTNAME, then envFrom, then env
// in order (a later entry for a name wins). Values from the downward API
// (fieldRef), Secrets and ConfigMaps are resolved. A value that names a
// path under one of the container's volume mounts is rewritten to the
// directory kubesim wrote the volume to, since the process runs on the
// host's file system. If a Secret, ConfigMap or key the environment needs
// is missing and not optional, or the environment uses something kubesim
// does not support, it returns a message saying which.
func (s *Sim) containerEnv(ctx context.Context, pod *corev1.Pod, ip netip.Addr, c corev1.Container, vols map[string]string) ([]string, string, error) {
	env := []string{"HOSTNAME=" + pod.Name}
	for _, from := range c.EnvFrom {
		var (
			data     map[string][]byte
			optional bool
			what     string
			err      error
		)
		switch {
		case from.SecretRef != nil:
			what, optional = fmt.Sprintf("secret %q", from.SecretRef.Name), from.SecretRef.Optional != nil && *from.SecretRef.Optional
			data, err = s.secretData(ctx, pod.Namespace, from.SecretRef.Name)
		case from.ConfigMapRef != nil:
			what, optional = fmt.Sprintf("configmap %q", from.ConfigMapRef.Name), from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional
			data, err = s.configMapData(ctx, pod.Namespace, from.ConfigMapRef.Name)
		default:
			continue
		}
		if apierrors.IsNotFound(err) {
			if optional {
				continue
			}
			return nil, fmt.Sprintf("envFrom: %s not found", what), nil
		}
		if err != nil {
			return nil, "", err
		}
		for _, k := range slices.Sorted(maps.Keys(data)) {
			env = append(env, from.Prefix+k+"="+string(data[k]))
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
			continue
		}
		var (
			data     map[string][]byte
			key      string
			optional bool
			what     string
			err      error
		)
		switch vf := e.ValueFrom; {
		case vf.FieldRef != nil:
			v, err := fieldValue(pod, ip, s.opts.NodeIP, vf.FieldRef.FieldPath)
			if err != nil {
				return nil, fmt.Sprintf("env %s: %v", e.Name, err), nil
			}
			env = append(env, e.Name+"="+v)
			continue
		case vf.SecretKeyRef != nil:
			key, optional = vf.SecretKeyRef.Key, vf.SecretKeyRef.Optional != nil && *vf.SecretKeyRef.Optional
			what = fmt.Sprintf("secret %q", vf.SecretKeyRef.Name)
			data, err = s.secretData(ctx, pod.Namespace, vf.SecretKeyRef.Name)
		case vf.ConfigMapKeyRef != nil:
			key, optional = vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Optional != nil && *vf.ConfigMapKeyRef.Optional
			what = fmt.Sprintf("configmap %q", vf.ConfigMapKeyRef.Name)
			data, err = s.configMapData(ctx, pod.Namespace, vf.ConfigMapKeyRef.Name)
		default:
			return nil, fmt.Sprintf("env %s: only fieldRef, secretKeyRef and configMapKeyRef are supported", e.Name), nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, "", err
		}
		v, ok := data[key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Sprintf("env %s: key %q of %s not found", e.Name, key, what), nil
		}
		env = append(env, e.Name+"="+string(v))
	}
	return rewriteMountPaths(env, c.VolumeMounts, vols), "", nil
}

// fieldValue resolves a downward-API field path of pod.
func fieldValue(pod *corev1.Pod, ip, nodeIP netip.Addr, fieldPath string) (string, error) {
	switch fieldPath {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return ip.String(), nil
	case "status.hostIP", "status.hostIPs":
		return nodeIP.String(), nil
	}
	if k, ok := strings.CutPrefix(fieldPath, "metadata.labels['"); ok && strings.HasSuffix(k, "']") {
		return pod.Labels[strings.TrimSuffix(k, "']")], nil
	}
	if k, ok := strings.CutPrefix(fieldPath, "metadata.annotations['"); ok && strings.HasSuffix(k, "']") {
		return pod.Annotations[strings.TrimSuffix(k, "']")], nil
	}
	return "", fmt.Errorf("fieldRef %q is not supported", fieldPath)
}

// rewriteMountPaths replaces, in each value of env, a leading mount path
// (the whole value, or the value up to a slash) by the directory holding
// that volume, the longest mount path first.
func rewriteMountPaths(env []string, mounts []corev1.VolumeMount, vols map[string]string) []string {
	mounts = slices.Clone(mounts)
	slices.SortFunc(mounts, func(a, b corev1.VolumeMount) int { return len(b.MountPath) - len(a.MountPath) })
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		for _, m := range mounts {
			dir, ok := vols[m.Name]
			if !ok {
				continue
			}
			if m.SubPath != "" {
				dir = filepath.Join(dir, filepath.FromSlash(m.SubPath))
			}
			mp := strings.TrimSuffix(m.MountPath, "/")
			if value == mp || strings.HasPrefix(value, mp+"/") {
				value = dir + strings.TrimPrefix(value, mp)
				break
			}
		}
		out = append(out, name+"="+value)
	}
	return out
}
