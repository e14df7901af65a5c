{{/*
A controller Service (external or internal) from one settings map. Called
with (dict "root" $ "name" NAME "s" SETTINGS "defaults" EXTERNAL-SETTINGS):
an internal Service's empty settings fall back to the external one's.
*/}}
{{- define "strait.controllerService" -}}
{{- $root := .root -}}
{{- $s := .s -}}
{{- $d := .defaults -}}
{{- $type := default $d.type $s.type -}}
{{- $ports := merge (dict) ($s.ports | default dict) $d.ports -}}
{{- $targetPorts := merge (dict) ($s.targetPorts | default dict) $d.targetPorts -}}
{{- $nodePorts := $s.nodePorts | default dict -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  namespace: {{ include "strait.namespace" $root }}
  labels:
    {{- include "strait.controller.labels" $root | nindent 4 }}
    {{- with $d.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $s.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $type }}
  {{- with $s.clusterIP }}
  clusterIP: {{ . }}
  {{- end }}
  {{- with $s.externalIPs }}
  externalIPs:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if eq $type "LoadBalancer" }}
  {{- with $s.loadBalancerIP }}
  loadBalancerIP: {{ . }}
  {{- end }}
  {{- with $s.loadBalancerSourceRanges }}
  loadBalancerSourceRanges:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.loadBalancerClass }}
  loadBalancerClass: {{ . }}
  {{- end }}
  {{- end }}
  {{- if and $s.externalTrafficPolicy (ne $type "ClusterIP") }}
  externalTrafficPolicy: {{ $s.externalTrafficPolicy }}
  {{- if and $s.healthCheckNodePort (eq $type "LoadBalancer") (eq $s.externalTrafficPolicy "Local") }}
  healthCheckNodePort: {{ $s.healthCheckNodePort }}
  {{- end }}
  {{- end }}
  {{- with $s.sessionAffinity }}
  sessionAffinity: {{ . }}
  {{- end }}
  {{- with $s.ipFamilyPolicy }}
  ipFamilyPolicy: {{ . }}
  {{- end }}
  {{- with $s.ipFamilies }}
  ipFamilies:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  selector:
    {{- include "strait.controller.selectorLabels" $root | nindent 4 }}
  ports:
    {{- if $d.enableHttp }}
    - name: http
      port: {{ $ports.http }}
      protocol: TCP
      targetPort: {{ $targetPorts.http }}
      {{- if $s.appProtocol }}
      appProtocol: http
      {{- end }}
      {{- if and $nodePorts.http (ne $type "ClusterIP") }}
      nodePort: {{ $nodePorts.http }}
      {{- end }}
    {{- end }}
    {{- if $d.enableHttps }}
    - name: https
      port: {{ $ports.https }}
      protocol: TCP
      targetPort: {{ $targetPorts.https }}
      {{- if $s.appProtocol }}
      appProtocol: https
      {{- end }}
      {{- if and $nodePorts.https (ne $type "ClusterIP") }}
      nodePort: {{ $nodePorts.https }}
      {{- end }}
    {{- end }}
{{- end -}}
