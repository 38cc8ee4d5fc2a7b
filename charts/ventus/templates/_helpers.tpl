{{/* Names, labels and the pieces every control-plane Deployment shares. */}}

{{- define "ventus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ventus.fullname" -}}
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

{{- define "ventus.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "ventus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "broker") */}}
{{- define "ventus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ventus.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ventus.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "ventus.runtimeImage" -}}
{{- printf "%s:%s" .Values.browser.image.repository (default .Chart.AppVersion .Values.browser.image.tag) -}}
{{- end -}}

{{/* The browser namespace: never the release's (browser pods run untrusted pages, under Pod Security
     `restricted` and a NetworkPolicy of their own, away from the control plane and its Secret). */}}
{{- define "ventus.browserNamespace" -}}
{{- if or (not .Values.browser.namespace) (eq .Values.browser.namespace .Release.Namespace) -}}
{{- fail "browser.namespace must name a namespace of its own, not the release's: browser pods run untrusted pages" -}}
{{- end -}}
{{- .Values.browser.namespace -}}
{{- end -}}

{{/* A generated secret kept across upgrades: the value given, else the one in the existing Secret,
     else a new random one. (dict "value" $given "existing" $lookup "key" "NAME") */}}
{{- define "ventus.keptSecret" -}}
{{- $value := .value -}}
{{- if and (not $value) .existing -}}
{{- $value = index .existing.data .key | default "" | b64dec -}}
{{- end -}}
{{- $value | default (randAlphaNum 48) -}}
{{- end -}}

{{- define "ventus.secretName" -}}
{{- default (printf "%s-secrets" (include "ventus.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "ventus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ventus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ventus.artifactsClaim" -}}
{{- default (printf "%s-artifacts" (include "ventus.fullname" .)) .Values.artifacts.persistence.existingClaim -}}
{{- end -}}

{{/* Pod annotations: config checksums (a settings change rolls the pods) and Prometheus hints.
     (dict "root" $ "port" 8080) */}}
{{- define "ventus.podAnnotations" -}}
checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
{{- if not .root.Values.secrets.existingSecret }}
checksum/secret: {{ include (print .root.Template.BasePath "/secret.yaml") .root | sha256sum }}
{{- end }}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .root.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Settings and secrets, as environment, for every process. */}}
{{- define "ventus.envFrom" -}}
- configMapRef:
    name: {{ include "ventus.fullname" . }}-config
- secretRef:
    name: {{ include "ventus.secretName" . }}
{{- end -}}

{{/* Writable space under a read-only root: /tmp and the data dir (VENTUS_DATA_DIR). */}}
{{- define "ventus.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/ventus
{{- end -}}

{{- define "ventus.volumes" -}}
- name: tmp
  emptyDir: {}
- name: data
  emptyDir: {}
{{- end -}}

{{/* The migration init container (`ventus migrate`), when enabled. */}}
{{- define "ventus.initContainers" -}}
{{- if .Values.migrations.enabled }}
initContainers:
  - name: migrate
    image: {{ include "ventus.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    workingDir: {{ .Values.image.workingDir }}
    command: ["node", "--enable-source-maps", "dist/cli.mjs", "migrate"]
    envFrom:
      {{- include "ventus.envFrom" . | nindent 6 }}
    securityContext:
      {{- toYaml .Values.securityContext | nindent 6 }}
    volumeMounts:
      {{- include "ventus.volumeMounts" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/* Scheduling and pull secrets shared by every pod. */}}
{{- define "ventus.podScheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
