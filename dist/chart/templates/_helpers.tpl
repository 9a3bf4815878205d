{{/*
Chart name, truncated to 63 characters.
*/}}
{{- define "orgsync.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name. A release named "orgsync" gives the same names as dist/install.yaml
(orgsync-controller-manager, orgsync-manager-role, ...). Kept to 40 characters so that the longest
suffix (-controller-manager-metrics-service) still fits in 63.
*/}}
{{- define "orgsync.fullname" -}}
{{- $name := include "orgsync.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "orgsync.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "orgsync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the manager's pods (Deployment selector, metrics Service, ServiceMonitor).
*/}}
{{- define "orgsync.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "orgsync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "orgsync.serviceAccountName" -}}
{{ include "orgsync.fullname" . }}-controller-manager
{{- end }}

{{- define "orgsync.metricsServiceName" -}}
{{ include "orgsync.fullname" . }}-controller-manager-metrics-service
{{- end }}

{{/*
The manager image: repository:tag, or repository as given when it holds a digest.
*/}}
{{- define "orgsync.image" -}}
{{- if contains "@" .Values.image.repository }}
{{- .Values.image.repository }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
Checks of values that cannot be expressed in values.schema.json.
*/}}
{{- define "orgsync.validate" -}}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "serviceMonitor.enabled needs metrics.enabled: the ServiceMonitor scrapes the metrics Service" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (not .Values.networkPolicy.apiServer.cidrs) }}
{{- fail "networkPolicy.enabled needs networkPolicy.apiServer.cidrs: the addresses of the Kubernetes API server (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes, and the ClusterIP of Service default/kubernetes); without them the manager could not reach it" }}
{{- end }}
{{- end }}
