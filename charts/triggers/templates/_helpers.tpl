{{/* Names ---------------------------------------------------------------------------------- */}}

{{- define "triggers.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "triggers.fullname" -}}
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

{{/* "<fullname>-<component>": (dict "root" $ "component" "ingest") */}}
{{- define "triggers.componentName" -}}
{{- printf "%s-%s" (include "triggers.fullname" .root | trunc 52 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "triggers.configName" -}}
{{- printf "%s-config" (include "triggers.fullname" .) -}}
{{- end -}}

{{- define "triggers.secretName" -}}
{{- default (printf "%s-secrets" (include "triggers.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{/* Labels: (dict "root" $ "component" "ingest") */}}
{{- define "triggers.selectorLabels" -}}
app.kubernetes.io/name: {{ include "triggers.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "triggers.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "triggers.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: triggers
{{- end -}}

{{- define "triggers.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The container port: the PORT setting. */}}
{{- define "triggers.port" -}}
{{- default "8080" (toString .Values.config.PORT) | int -}}
{{- end -}}

{{/* Whether the Secret of secretConfig has at least one value (or an existing one is used). */}}
{{- define "triggers.hasSecret" -}}
{{- $any := .Values.existingSecret -}}
{{- range $name, $value := .Values.secretConfig }}{{ if not (eq (toString (default "" $value)) "") }}{{ $any = "yes" }}{{ end }}{{ end -}}
{{- if $any }}yes{{ end -}}
{{- end -}}

{{- define "triggers.secretKeyName" -}}
{{- printf "%s-secret-key" (include "triggers.fullname" .) -}}
{{- end -}}

{{/* Whether the chart draws TRIGGERS_SECRET_KEY itself (values: secretKey.generate). */}}
{{- define "triggers.generatesSecretKey" -}}
{{- if and (eq .Values.mode "distributed") .Values.secretKey.generate (not .Values.existingSecret) (not .Values.secretConfig.TRIGGERS_SECRET_KEY) -}}yes{{- end -}}
{{- end -}}

{{/* Settings that only make sense together; a wrong combination stops the render with a reason. */}}
{{- define "triggers.validate" -}}
{{- $c := .Values.config -}}
{{- if not (has .Values.mode (list "embedded" "distributed")) -}}
{{- fail (printf "mode must be embedded or distributed (got %q)" .Values.mode) -}}
{{- end -}}
{{- if eq .Values.mode "distributed" -}}
{{- if ne (toString $c.TRIGGERS_METADATA_STORE) "postgres" -}}
{{- fail "mode: distributed needs config.TRIGGERS_METADATA_STORE=postgres (SQLite files cannot be shared between pods)" -}}
{{- end -}}
{{- if not (has (toString $c.TRIGGERS_EVENT_STORE) (list "postgres" "dynamodb")) -}}
{{- fail "mode: distributed needs config.TRIGGERS_EVENT_STORE=postgres or dynamodb" -}}
{{- end -}}
{{- if not (has (toString $c.TRIGGERS_QUEUE) (list "sqs" "kafka")) -}}
{{- fail "mode: distributed needs config.TRIGGERS_QUEUE=sqs or kafka" -}}
{{- end -}}
{{- if ne (toString $c.TRIGGERS_CACHE) "redis" -}}
{{- fail "mode: distributed needs config.TRIGGERS_CACHE=redis (rate limits and idempotency shared by every ingest pod)" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not .Values.secretConfig.TRIGGERS_POSTGRES_URL) -}}
{{- fail "mode: distributed needs secretConfig.TRIGGERS_POSTGRES_URL (or existingSecret holding it)" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not .Values.secretConfig.TRIGGERS_REDIS_URL) -}}
{{- fail "mode: distributed needs secretConfig.TRIGGERS_REDIS_URL (or existingSecret holding it)" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not .Values.secretConfig.TRIGGERS_SECRET_KEY) (not .Values.secretKey.generate) -}}
{{- fail "mode: distributed needs secretConfig.TRIGGERS_SECRET_KEY (or existingSecret holding it, or secretKey.generate=true): the key encrypting webhook secrets at rest, shared by every pod" -}}
{{- end -}}
{{- if and (eq (toString $c.TRIGGERS_QUEUE) "kafka") (not $c.TRIGGERS_KAFKA_BROKERS) -}}
{{- fail "config.TRIGGERS_QUEUE=kafka needs config.TRIGGERS_KAFKA_BROKERS" -}}
{{- end -}}
{{- if and (eq (toString $c.TRIGGERS_QUEUE) "sqs") .Values.deliverer.keda.enabled (not .Values.aws.accountId) (not $c.TRIGGERS_SQS_ENDPOINT) -}}
{{- fail "KEDA on SQS needs aws.accountId (the queue URLs are https://sqs.<region>.amazonaws.com/<account>/<queue>)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The SQS queue URL KEDA polls for a topic: (dict "root" $ "topic" "events") */}}
{{- define "triggers.sqsQueueUrl" -}}
{{- $c := .root.Values.config -}}
{{- $prefix := default "triggers" (toString $c.TRIGGERS_SQS_QUEUE_PREFIX) -}}
{{- $region := default "us-east-1" (toString $c.TRIGGERS_AWS_REGION) -}}
{{- $base := printf "https://sqs.%s.amazonaws.com" $region -}}
{{- if $c.TRIGGERS_SQS_ENDPOINT }}{{ $base = trimSuffix "/" (toString $c.TRIGGERS_SQS_ENDPOINT) }}{{ end -}}
{{- printf "%s/%s/%s-%s" $base (default "000000000000" (toString .root.Values.aws.accountId)) $prefix .topic -}}
{{- end -}}

{{/* Pod pieces ----------------------------------------------------------------------------- */}}

{{/* Pod template annotations: a change of settings rolls the pods. */}}
{{- define "triggers.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* A pod template's metadata (labels, podLabels, the checksum annotations): (dict "root" $ "component" "ingest") */}}
{{- define "triggers.podMetadata" -}}
labels:
  {{- include "triggers.labels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  {{- include "triggers.podAnnotations" .root | nindent 2 }}
{{- end -}}

{{/* One container running a role: (dict "root" $ "name" "ingest" "role" "ingest" "port" 8080 "env" map "resources" map [portName]) */}}
{{- define "triggers.container" -}}
{{- $root := .root -}}
{{- $portName := default "http" .portName -}}
- name: {{ .name }}
  image: {{ include "triggers.image" $root | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args: [{{ .role | quote }}]
  ports:
    - name: {{ $portName }}
      containerPort: {{ .port }}
      protocol: TCP
  envFrom:
    - configMapRef:
        name: {{ include "triggers.configName" $root }}
    {{- if include "triggers.hasSecret" $root }}
    - secretRef:
        name: {{ include "triggers.secretName" $root }}
    {{- end }}
    {{- if include "triggers.generatesSecretKey" $root }}
    - secretRef:
        name: {{ include "triggers.secretKeyName" $root }}
    {{- end }}
  {{- if or .env $root.Values.extraEnv }}
  env:
    {{- range $name, $value := .env }}
    {{- if not (eq (toString $value) "") }}
    - name: {{ $name }}
      value: {{ toString $value | quote }}
    {{- end }}
    {{- end }}
    {{- with $root.Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  startupProbe:
    httpGet: { path: /health, port: {{ $portName }} }
    {{- toYaml $root.Values.probes.startup | nindent 4 }}
  livenessProbe:
    httpGet: { path: /health, port: {{ $portName }} }
    {{- toYaml $root.Values.probes.liveness | nindent 4 }}
  {{- if not .noReadiness }}
  readinessProbe:
    httpGet: { path: /ready, port: {{ $portName }} }
    {{- toYaml $root.Values.probes.readiness | nindent 4 }}
  {{- end }}
  {{- if and .preStopSleep $root.Values.preStopSleepSeconds }}
  lifecycle:
    # Keep serving while the load balancer stops sending here (its deregistration lags the endpoint removal).
    preStop:
      exec:
        command: ["sleep", {{ $root.Values.preStopSleepSeconds | quote }}]
  {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: data
      mountPath: {{ default "/data" $root.Values.config.TRIGGERS_DATA_DIR }}
    {{- with $root.Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* Pod-level settings shared by every workload: (dict "root" $ "component" "ingest") */}}
{{- define "triggers.podCommon" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "triggers.componentName" . }}
{{- /* Only the controller talks to the Kubernetes API. */}}
automountServiceAccountToken: {{ or (eq .component "controller") (and (eq .component "embedded") $root.Values.controller.enabled) }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: {{ $root.Values.topologySpread.zone }}
    labelSelector:
      matchLabels:
        {{- include "triggers.selectorLabels" . | nindent 8 }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: {{ $root.Values.topologySpread.node }}
    labelSelector:
      matchLabels:
        {{- include "triggers.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end -}}

{{/* The controller's own settings: the Lease lives in the release's namespace unless set. */}}
{{- define "triggers.controllerEnv" -}}
{{- $env := dict -}}
{{- if not .Values.config.TRIGGERS_CONTROLLER_LEASE_NAMESPACE -}}
{{- $_ := set $env "TRIGGERS_CONTROLLER_LEASE_NAMESPACE" .Release.Namespace -}}
{{- end -}}
{{- toYaml (merge $env .Values.controller.env) -}}
{{- end -}}

{{/* The Lease namespace the controller uses. */}}
{{- define "triggers.leaseNamespace" -}}
{{- default .Release.Namespace (toString .Values.config.TRIGGERS_CONTROLLER_LEASE_NAMESPACE) -}}
{{- end -}}

{{/* Distributed mode's workloads, in order: the four roles, then the controller when enabled.
     A JSON list: range over (include "triggers.distributedComponents" $ | fromJsonArray). */}}
{{- define "triggers.distributedComponents" -}}
{{- $components := list "ingest" "matcher" "deliverer" "inbox" -}}
{{- if .Values.controller.enabled }}{{ $components = append $components "controller" }}{{ end -}}
{{- toJson $components -}}
{{- end -}}

{{/* Whether an autoscaler owns the component's replica count: (dict "root" $ "component" "ingest") */}}
{{- define "triggers.autoscaled" -}}
{{- $values := index .root.Values .component -}}
{{- if and (has .component (list "ingest" "inbox")) $values.autoscaling.enabled -}}yes{{- end -}}
{{- if and (has .component (list "matcher" "deliverer")) $values.keda.enabled (has (toString .root.Values.config.TRIGGERS_QUEUE) (list "sqs" "kafka")) -}}yes{{- end -}}
{{- end -}}

{{/* The controller's rules on Subscriptions, Secrets and Events (docs/operator.md). */}}
{{- define "triggers.controllerRules" -}}
- apiGroups: [triggers.dev]
  resources: [subscriptions]
  verbs: [get, list, watch, patch]
- apiGroups: [triggers.dev]
  resources: [subscriptions/status]
  verbs: [get, update, patch]
- apiGroups: [triggers.dev]
  resources: [subscriptions/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
