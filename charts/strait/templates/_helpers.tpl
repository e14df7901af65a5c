{{/*
Names. Object names follow the ingress-nginx chart's: "<fullname>-controller"
for the controller's objects, "<fullname>-controller-admission" for the
webhook Service, so that dashboards and scripts keyed on them carry over.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "strait.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-<chart>", shortened to the release name when it already
holds the chart name; fullnameOverride replaces it. */}}
{{- define "strait.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The namespace of namespaced objects. */}}
{{- define "strait.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<fullname>-controller": Deployment or DaemonSet, Services, ConfigMap,
PodDisruptionBudget, HorizontalPodAutoscaler. */}}
{{- define "strait.controller.fullname" -}}
{{- printf "%s-%s" (include "strait.fullname" .) .Values.controller.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The webhook's Service, Secret, configuration and cert-manager objects. */}}
{{- define "strait.admission.fullname" -}}
{{- printf "%s-%s" (include "strait.fullname" .) .Values.controller.admissionWebhooks.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "strait.admission.serviceName" -}}
{{- printf "%s-admission" (include "strait.controller.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secret holding the webhook's serving certificate (tls.crt, tls.key)
and its CA (ca.crt), whoever issues it. */}}
{{- define "strait.admission.secretName" -}}
{{- include "strait.admission.fullname" . -}}
{{- end -}}

{{/* DNS names the webhook's certificate is valid for: the names the API
server may use for the webhook Service. */}}
{{- define "strait.admission.dnsNames" -}}
{{- $svc := include "strait.admission.serviceName" . -}}
{{- $ns := include "strait.namespace" . -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson -}}
{{- end -}}

{{- define "strait.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "strait.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The leader-election Lease: controller.extraArgs.election-id when given
there (the Role must grant the Lease the flag names), else
controller.electionID, else "<fullname>-leader". */}}
{{- define "strait.electionID" -}}
{{- $fromArgs := get (.Values.controller.extraArgs | default dict) "election-id" -}}
{{- $id := default .Values.controller.electionID (toString (default "" $fromArgs)) -}}
{{- default (printf "%s-leader" (include "strait.fullname" .)) $id -}}
{{- end -}}

{{/* Labels. */}}
{{- define "strait.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "strait.labels" -}}
helm.sh/chart: {{ include "strait.chart" . }}
{{ include "strait.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: {{ include "strait.name" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "strait.selectorLabels" -}}
app.kubernetes.io/name: {{ include "strait.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of the controller's objects, and the pods' selector. */}}
{{- define "strait.controller.labels" -}}
{{ include "strait.labels" . }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "strait.controller.selectorLabels" -}}
{{ include "strait.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end -}}

{{/* The image reference: [global.image.registry|registry]/image or
repository, then :tag (default "v" + appVersion), then @digest. */}}
{{- define "strait.image" -}}
{{- $img := .Values.controller.image -}}
{{- $repo := $img.repository -}}
{{- if not $repo -}}
{{- $registry := default $img.registry ((.Values.global).image).registry -}}
{{- $repo = ternary (printf "%s/%s" $registry $img.image) $img.image (ne $registry "") -}}
{{- end -}}
{{- $tag := default (printf "v%s" .Chart.AppVersion) $img.tag -}}
{{- printf "%s:%s" $repo $tag -}}
{{- with $img.digest -}}@{{ . }}{{- end -}}
{{- end -}}

{{/* Whether the container binds a port below 1024. */}}
{{- define "strait.lowPorts" -}}
{{- $p := .Values.controller.containerPort -}}
{{- if or (lt (int $p.http) 1024) (lt (int $p.https) 1024) -}}true{{- end -}}
{{- end -}}

{{/* Whether the PodDisruptionBudget is rendered: only when more than one
pod is meant to run, since a budget of one available pod over one replica
blocks every node drain. */}}
{{- define "strait.pdbEnabled" -}}
{{- $c := .Values.controller -}}
{{- if eq $c.kind "Deployment" -}}
{{- if $c.autoscaling.enabled -}}
{{- if gt (int $c.autoscaling.minReplicas) 1 -}}true{{- end -}}
{{- else if gt (int $c.replicaCount) 1 -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/* Checks of values that would otherwise render objects that cannot work;
each fails with the key to change. Included by the workload template. */}}
{{- define "strait.validate" -}}
{{- $c := .Values.controller -}}
{{- if not (has $c.kind (list "Deployment" "DaemonSet")) -}}
{{- fail (printf "controller.kind must be Deployment or DaemonSet, not %q" (toString $c.kind)) -}}
{{- end -}}
{{- if not (has $c.service.type (list "LoadBalancer" "NodePort" "ClusterIP")) -}}
{{- fail (printf "controller.service.type must be LoadBalancer, NodePort or ClusterIP, not %q" (toString $c.service.type)) -}}
{{- end -}}
{{- $drain := add (int $c.shutdownDelaySeconds) (int $c.shutdownGracePeriodSeconds) -}}
{{- if le (int $c.terminationGracePeriodSeconds) $drain -}}
{{- fail (printf "controller.terminationGracePeriodSeconds (%d) must exceed controller.shutdownDelaySeconds plus controller.shutdownGracePeriodSeconds (%d): the kubelet would kill Strait while it drains" (int $c.terminationGracePeriodSeconds) $drain) -}}
{{- end -}}
{{- if and $c.autoscaling.enabled (eq $c.kind "DaemonSet") -}}
{{- fail "controller.autoscaling.enabled needs controller.kind Deployment: a DaemonSet runs one pod per node" -}}
{{- end -}}
{{- $wh := $c.admissionWebhooks -}}
{{- if $wh.enabled -}}
{{- if ne (dir $wh.certificate) (dir $wh.key) -}}
{{- fail (printf "controller.admissionWebhooks.certificate (%s) and .key (%s) must be in one directory: the webhook's Secret is mounted there" $wh.certificate $wh.key) -}}
{{- end -}}
{{- if not (has $wh.failurePolicy (list "Fail" "Ignore")) -}}
{{- fail (printf "controller.admissionWebhooks.failurePolicy must be Fail or Ignore, not %q" (toString $wh.failurePolicy)) -}}
{{- end -}}
{{- $ports := list (int $c.containerPort.http) (int $c.containerPort.https) (int $c.metrics.port) -}}
{{- if has (int $wh.port) $ports -}}
{{- fail (printf "controller.admissionWebhooks.port (%d) is also the HTTP, HTTPS or metrics port" (int $wh.port)) -}}
{{- end -}}
{{- end -}}
{{- if and $c.metrics.serviceMonitor.enabled (not $c.metrics.enabled) -}}
{{- fail "controller.metrics.serviceMonitor.enabled needs controller.metrics.enabled: the ServiceMonitor scrapes the metrics Service" -}}
{{- end -}}
{{- end -}}

{{/* The controller's flags, before controller.extraArgs: a list of
[name, value] pairs; a flag named in extraArgs is left to it. */}}
{{- define "strait.flags" -}}
{{- $c := .Values.controller -}}
{{- $ns := include "strait.namespace" . -}}
{{- $f := list -}}
{{- $f = append $f (list "configmap" (printf "%s/%s" $ns (include "strait.controller.fullname" .))) -}}
{{- if $c.publishService.enabled -}}
{{- if $c.publishService.pathOverride -}}
{{- $f = append $f (list "publish-service" $c.publishService.pathOverride) -}}
{{- else if and $c.service.enabled $c.service.external.enabled -}}
{{- $f = append $f (list "publish-service" (printf "%s/%s" $ns (include "strait.controller.fullname" .))) -}}
{{- end -}}
{{- end -}}
{{- $f = append $f (list "election-id" (include "strait.electionID" .)) -}}
{{- $f = append $f (list "controller-class" $c.ingressClassResource.controllerValue) -}}
{{- $f = append $f (list "ingress-class" $c.ingressClass) -}}
{{- if $c.ingressClassByName -}}
{{- $f = append $f (list "ingress-class-by-name" "true") -}}
{{- end -}}
{{- if $c.watchIngressWithoutClass -}}
{{- $f = append $f (list "watch-ingress-without-class" "true") -}}
{{- end -}}
{{- if $c.scope.enabled -}}
{{- $f = append $f (list "watch-namespace" (default .Release.Namespace $c.scope.namespace)) -}}
{{- else if $c.scope.namespaceSelector -}}
{{- $f = append $f (list "watch-namespace-selector" $c.scope.namespaceSelector) -}}
{{- end -}}
{{- if ne (int $c.containerPort.http) 80 -}}
{{- $f = append $f (list "http-port" (toString (int $c.containerPort.http))) -}}
{{- end -}}
{{- if ne (int $c.containerPort.https) 443 -}}
{{- $f = append $f (list "https-port" (toString (int $c.containerPort.https))) -}}
{{- end -}}
{{- if ne (int $c.metrics.port) 10254 -}}
{{- $f = append $f (list "healthz-port" (toString (int $c.metrics.port))) -}}
{{- end -}}
{{- $f = append $f (list "shutdown-delay" (printf "%ds" (int $c.shutdownDelaySeconds))) -}}
{{- $f = append $f (list "shutdown-grace-period" (printf "%ds" (int $c.shutdownGracePeriodSeconds))) -}}
{{- if $c.admissionWebhooks.enabled -}}
{{- $f = append $f (list "validating-webhook" (printf ":%d" (int $c.admissionWebhooks.port))) -}}
{{- $f = append $f (list "validating-webhook-certificate" $c.admissionWebhooks.certificate) -}}
{{- $f = append $f (list "validating-webhook-key" $c.admissionWebhooks.key) -}}
{{- end -}}
{{- toJson $f -}}
{{- end -}}

{{/* The container's args: "serve", the chart's flags, then extraArgs in
key order (a list value repeats the flag, an empty value gives the bare
flag). */}}
{{- define "strait.args" -}}
{{- $extra := .Values.controller.extraArgs | default dict -}}
- serve
{{- range $pair := include "strait.flags" . | fromJsonArray }}
{{- if not (hasKey $extra (index $pair 0)) }}
- {{ printf "--%s=%s" (index $pair 0) (index $pair 1) | quote }}
{{- end }}
{{- end }}
{{- range $key := keys $extra | sortAlpha }}
{{- $value := get $extra $key }}
{{- if kindIs "slice" $value }}
{{- range $value }}
- {{ printf "--%s=%s" $key (include "strait.flagValue" .) | quote }}
{{- end }}
{{- else if or (kindIs "invalid" $value) (eq (toString $value) "") }}
- {{ printf "--%s" $key | quote }}
{{- else }}
- {{ printf "--%s=%s" $key (include "strait.flagValue" $value) | quote }}
{{- end }}
{{- end }}
{{- end -}}


{{/* A flag value as text. Numbers in values files arrive as float64, which
would print 1000000 as 1e+06: whole numbers are printed as integers. */}}
{{- define "strait.flagValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) -}}
{{- int64 . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}
