{{/* Names: <release>-pier-<part>, or <release>-<part> when the release is already called pier-something. */}}
{{- define "pier.fullname" -}}
{{- if contains "pier" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-pier" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pier.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: pier
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pier
{{- end -}}

{{/* Selector labels of one part: include "pier.selector" (list . "controller") */}}
{{- define "pier.selector" -}}
app.kubernetes.io/name: pier
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "pier.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "pier.secretName" -}}{{ include "pier.fullname" . }}-secrets{{- end -}}
{{- define "pier.s3" -}}{{ if .Values.storage.s3.bucket }}true{{ end }}{{- end -}}
{{- define "pier.ownDatabase" -}}{{ if not .Values.database.url }}true{{ end }}{{- end -}}
{{- define "pier.ownRedis" -}}{{ if not .Values.redis.url }}true{{ end }}{{- end -}}
{{- define "pier.ownRegistry" -}}{{ if not .Values.registry.url }}true{{ end }}{{- end -}}

{{/* Where the processes push and pull apps' images: the off-cluster registry, or the proxy on 127.0.0.1. */}}
{{- define "pier.registry" -}}
{{- .Values.registry.url | default (printf "127.0.0.1:%v" .Values.registry.proxyPort) -}}
{{- end -}}

{{/* The environment every Pier process reads its settings from (core/settings.py). */}}
{{- define "pier.env" -}}
- name: PIER_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ include "pier.secretName" . }}, key: secret-key}}
- name: PIER_BUILDER_KEY
  valueFrom: {secretKeyRef: {name: {{ include "pier.secretName" . }}, key: builder-key}}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ include "pier.secretName" . }}, key: database-url}}
- name: REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ include "pier.secretName" . }}, key: redis-url}}
{{- if include "pier.s3" . }}
- name: PIER_S3_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ include "pier.secretName" . }}, key: s3-access-key}}
- name: PIER_S3_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ include "pier.secretName" . }}, key: s3-secret-key}}
{{- end }}
{{- end -}}

{{- define "pier.envFrom" -}}
- configMapRef:
    name: {{ include "pier.fullname" . }}-settings
{{- end -}}

{{/* Pods restart when the settings they read change. */}}
{{- define "pier.podAnnotations" -}}
checksum/settings: {{ include (print .Template.BasePath "/settings.yaml") . | sha256sum }}
checksum/secret-values: {{ list .Values.database.url .Values.redis.url .Values.storage.s3 | toJson | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pier's own processes: the pier user (uid 1000), no capabilities, a read-only root filesystem. */}}
{{- define "pier.podSecurityContext" -}}
runAsUser: 1000
runAsGroup: 1000
runAsNonRoot: true
fsGroup: 1000
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "pier.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The writable folders every Pier process needs under a read-only root: /tmp and the app's var/. */}}
{{- define "pier.scratchMounts" -}}
- name: tmp
  mountPath: /tmp
- name: var
  mountPath: /opt/pier/app/var
{{- end -}}

{{- define "pier.scratchVolumes" -}}
- name: tmp
  emptyDir: {}
- name: var
  emptyDir: {}
{{- end -}}

{{/* Node placement and pull secrets: include "pier.scheduling" (list . extraNodeSelector extraTolerations) */}}
{{- define "pier.scheduling" -}}
{{- $root := index . 0 -}}
{{- $nodeSelector := merge (deepCopy (index . 1)) $root.Values.nodeSelector -}}
{{- $tolerations := concat (index . 2) $root.Values.tolerations -}}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The registry proxy as a sidecar (a native one: an init container that keeps running), listening on
     the pod's 127.0.0.1, for pods that push to or read the in-cluster registry. */}}
{{- define "pier.registryProxySidecar" -}}
- name: registry-proxy
  image: {{ include "pier.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  restartPolicy: Always
  args: [nginx, -c, /etc/pier/registry-proxy/sidecar.conf, -e, /dev/stderr]
  securityContext:
    {{- include "pier.securityContext" . | nindent 4 }}
  startupProbe:
    exec:
      command: [bash, -c, 'exec 3<>/dev/tcp/127.0.0.1/{{ .Values.registry.proxyPort }}']
    periodSeconds: 1
    failureThreshold: 30
  resources:
    {{- toYaml .Values.registry.proxy.resources | nindent 4 }}
  volumeMounts:
    - name: registry-proxy-config
      mountPath: /etc/pier/registry-proxy
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{- define "pier.registryProxyVolume" -}}
- name: registry-proxy-config
  configMap:
    name: {{ include "pier.fullname" . }}-registry-proxy
{{- end -}}

{{/* Liveness of a Celery worker: it answers a ping from its own node name (queue@pod). */}}
{{- define "pier.workerProbe" -}}
livenessProbe:
  exec:
    command: [sh, -c, 'exec celery -A workers.main inspect ping --timeout 20 -d "{{ . }}@$HOSTNAME"']
  initialDelaySeconds: 60
  periodSeconds: 120
  timeoutSeconds: 60
  failureThreshold: 3
{{- end -}}
