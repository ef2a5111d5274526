{{/* Names, labels and the pieces every workload shares. */}}

{{- define "switchboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or the release name when it holds the chart's. */}}
{{- define "switchboard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>": call with (list $ "router"). */}}
{{- define "switchboard.component" -}}
{{- printf "%s-%s" (include "switchboard.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{- define "switchboard.labels" -}}
{{- $ := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ $.Release.Service }}
app.kubernetes.io/version: {{ $.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: switchboard
{{ include "switchboard.selectorLabels" . }}
{{- with $.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "switchboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchboard.name" (index . 0) }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "switchboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "switchboard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image of a component: (list $ .Values.router.image). */}}
{{- define "switchboard.image" -}}
{{- $ := index . 0 -}}
{{- $repo := (index . 1).repository -}}
{{- $tag := default $.Chart.AppVersion $.Values.image.tag -}}
{{- if $.Values.image.registry -}}
{{- printf "%s/%s:%s" $.Values.image.registry $repo $tag -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* The router's client Service as the gateways dial it. */}}
{{- define "switchboard.routerAddress" -}}
{{- printf "%s.%s.svc.%s:%d" (include "switchboard.component" (list . "router")) .Release.Namespace .Values.clusterDomain (int .Values.router.ports.grpc) -}}
{{- end -}}

{{- define "switchboard.routerHeadless" -}}
{{- printf "%s-headless" (include "switchboard.component" (list . "router")) -}}
{{- end -}}

{{/* Every router node as name=host:port of its cluster port, for
     replicas nodes; each node drops its own entry at start. */}}
{{- define "switchboard.routerMembers" -}}
{{- $name := include "switchboard.component" (list . "router") -}}
{{- $headless := include "switchboard.routerHeadless" . -}}
{{- $members := list -}}
{{- range $i := until (int .Values.router.replicas) -}}
{{- $pod := printf "%s-%d" $name $i -}}
{{- $members = append $members (printf "%s=%s.%s.%s.svc.%s:%d" $pod $pod $headless $.Release.Namespace $.Values.clusterDomain (int $.Values.router.ports.cluster)) -}}
{{- end -}}
{{- join "," $members -}}
{{- end -}}

{{/* Pod-level settings shared by every workload: (list $ .Values.router "router"). */}}
{{- define "switchboard.podSpecCommon" -}}
{{- $ := index . 0 -}}
{{- $c := index . 1 -}}
{{- $component := index . 2 -}}
serviceAccountName: {{ include "switchboard.serviceAccountName" $ }}
automountServiceAccountToken: false
enableServiceLinks: false
terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds }}
securityContext:
  runAsNonRoot: true
  {{- with $.Values.podSecurityContext }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
{{- with $.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.topologySpread }}
topologySpreadConstraints:
  {{- range . }}
  - topologyKey: {{ .topologyKey }}
    maxSkew: {{ .maxSkew }}
    whenUnsatisfiable: {{ .whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "switchboard.selectorLabels" (list $ $component) | nindent 8 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The container's security context: no root, nothing written outside
     the volumes, no privilege, no capability. */}}
{{- define "switchboard.containerSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  privileged: false
  capabilities:
    drop:
      - ALL
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* preStop: wait so that endpoints drop the pod before SIGTERM. */}}
{{- define "switchboard.lifecycle" -}}
{{- if gt (int .preStopSleepSeconds) 0 -}}
lifecycle:
  preStop:
    sleep:
      seconds: {{ .preStopSleepSeconds }}
{{- end }}
{{- end -}}

{{/* Pod annotations: a component's own, and its config's checksum, so
     that a settings change rolls the pods. */}}
{{- define "switchboard.podAnnotations" -}}
{{- $c := index . 0 -}}
{{- $config := index . 1 -}}
checksum/config: {{ $config | sha256sum }}
{{- with $c.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The secret of a component's client certificate to the router. */}}
{{- define "switchboard.routerClientSecret" -}}
{{- $ := index . 0 -}}
{{- $c := index . 1 -}}
{{- default (printf "%s-client-tls" (include "switchboard.component" (list $ (index . 2)))) $c.routerClient.secretName -}}
{{- end -}}

{{/* The router.* settings of a gateway or the web edge. */}}
{{- define "switchboard.routerClientSettings" -}}
{{- $ := index . 0 -}}
{{- $s := dict "address" (include "switchboard.routerAddress" $) -}}
{{- if $.Values.router.grpc.tls.enabled -}}
{{- $_ := set $s "tls_ca" "/etc/switchboard/router-client/ca.crt" -}}
{{- if $.Values.router.grpc.tls.clientCertificates -}}
{{- $_ := set $s "tls_certificate" "/etc/switchboard/router-client/tls.crt" -}}
{{- $_ := set $s "tls_private_key" "/etc/switchboard/router-client/tls.key" -}}
{{- end -}}
{{- end -}}
{{- toYaml $s -}}
{{- end -}}

{{/* Checks across values that the schema cannot express. */}}
{{- define "switchboard.validate" -}}
{{- $r := .Values.router -}}
{{- if and (not $r.grpc.tls.enabled) (not $r.grpc.allowPlaintext) -}}
{{- fail "router.grpc.tls.enabled is false: set router.grpc.allowPlaintext true as well (plain gRPC on the pod network, only where a service mesh encrypts between pods), or turn TLS on" -}}
{{- end -}}
{{- if and (not $r.grpc.tls.enabled) $r.grpc.tls.clientCertificates -}}
{{- fail "router.grpc.tls.clientCertificates needs router.grpc.tls.enabled" -}}
{{- end -}}
{{- if and (not $r.auth.openidConfiguration) (not $r.grpc.tls.clientCertificates) (not $r.grpc.allowUnauthenticated) -}}
{{- fail "router: no authentication: set router.auth.openidConfiguration (Entra ID tokens) or router.grpc.tls.clientCertificates, or router.grpc.allowUnauthenticated true where a mesh authorizes callers" -}}
{{- end -}}
{{- if and $r.auth.openidConfiguration (not $r.auth.audiences) -}}
{{- fail "router.auth.audiences: required with router.auth.openidConfiguration" -}}
{{- end -}}
{{- if and (gt (int $r.replicas) 1) (not $r.cluster.tls.enabled) (not $r.cluster.allowInsecure) -}}
{{- fail "router.replicas > 1 without router.cluster.tls.enabled: set router.cluster.allowInsecure true (a private lab network only), or give the nodes cluster certificates" -}}
{{- end -}}
{{- if and .Values.sbcGateway.enabled .Values.sbcGateway.tls.verifyPeer (not .Values.sbcGateway.tls.enabled) -}}
{{- fail "sbcGateway.tls.verifyPeer needs sbcGateway.tls.enabled" -}}
{{- end -}}
{{- if and .Values.graphGateway.enabled (not .Values.graphGateway.settings.appId) -}}
{{- fail "graphGateway.settings.appId: the bot's Entra application id is required when graphGateway.enabled" -}}
{{- end -}}
{{- if and .Values.graphGateway.enabled (not .Values.graphGateway.settings.callbackUrl) -}}
{{- fail "graphGateway.settings.callbackUrl: the bot's registered callback URL (https://<public name>/api/calls) is required when graphGateway.enabled" -}}
{{- end -}}
{{- end -}}

{{/* The router's YAML settings file (docs/operations.md). */}}
{{- define "switchboard.routerConfig" -}}
{{- $r := .Values.router -}}
{{- $node := dict "data_dir" "/var/lib/switchboard/data" "sync_writes" $r.settings.syncWrites "audit_interval" $r.settings.auditInterval "history_retention" $r.settings.historyRetention "event_retention" $r.settings.eventRetention -}}
{{- $grpc := dict "listen" (printf "0.0.0.0:%d" (int $r.ports.grpc)) "max_in_flight" $r.settings.maxInFlight "max_in_flight_per_tenant" $r.settings.maxInFlightPerTenant -}}
{{- if $r.grpc.tls.enabled -}}
{{- $_ := set $grpc "tls_certificate" "/etc/switchboard/grpc-tls/tls.crt" -}}
{{- $_ := set $grpc "tls_private_key" "/etc/switchboard/grpc-tls/tls.key" -}}
{{- if $r.grpc.tls.clientCertificates -}}
{{- $_ := set $grpc "tls_client_ca" "/etc/switchboard/grpc-client-ca/ca.crt" -}}
{{- end -}}
{{- end -}}
{{- if $r.grpc.allowPlaintext -}}
{{- $_ := set $grpc "allow_plaintext" true -}}
{{- end -}}
{{- if $r.grpc.allowUnauthenticated -}}
{{- $_ := set $grpc "allow_unauthenticated" true -}}
{{- end -}}
{{- $cluster := dict "listen" (printf "0.0.0.0:%d" (int $r.ports.cluster)) -}}
{{- if $r.cluster.tls.enabled -}}
{{- $_ := set $cluster "tls_certificate" "/etc/switchboard/cluster-tls/tls.crt" -}}
{{- $_ := set $cluster "tls_private_key" "/etc/switchboard/cluster-tls/tls.key" -}}
{{- $_ := set $cluster "tls_ca" "/etc/switchboard/cluster-tls/ca.crt" -}}
{{- end -}}
{{- if $r.cluster.allowInsecure -}}
{{- $_ := set $cluster "allow_insecure" true -}}
{{- end -}}
{{- $config := dict "node" $node "grpc" $grpc "cluster" $cluster "metrics" (dict "listen" (printf "0.0.0.0:%d" (int $r.ports.metrics))) "log" (dict "level" $r.settings.logLevel) -}}
{{- if $r.auth.openidConfiguration -}}
{{- $auth := dict "openid_configuration" $r.auth.openidConfiguration "audience" (join "," $r.auth.audiences) -}}
{{- with $r.auth.issuers -}}
{{- $_ := set $auth "issuer" (join "," .) -}}
{{- end -}}
{{- with $r.auth.platformTenant -}}
{{- $_ := set $auth "platform_tenant" . -}}
{{- end -}}
{{- $_ := set $config "auth" $auth -}}
{{- end -}}
{{- toYaml (mergeOverwrite $config (deepCopy $r.extraSettings)) -}}
{{- end -}}

{{/* The SBC gateway's YAML settings file (docs/teams-direct-routing.md). */}}
{{- define "switchboard.sbcGatewayConfig" -}}
{{- $g := .Values.sbcGateway -}}
{{- $sip := dict "listen" (printf "0.0.0.0:%d" (int $g.ports.sip)) "agent_route" $g.settings.agentRoute -}}
{{- if $g.trunks -}}
{{- $_ := set $sip "trunks" "/etc/switchboard/trunks/trunks" -}}
{{- end -}}
{{- with $g.settings.allowedSources -}}
{{- $_ := set $sip "allowed_sources" (join "," .) -}}
{{- end -}}
{{- with $g.settings.ping -}}
{{- $_ := set $sip "ping" (join "," .) -}}
{{- end -}}
{{- $config := dict "sip" $sip "router" (fromYaml (include "switchboard.routerClientSettings" (list .))) "metrics" (dict "listen" (printf "0.0.0.0:%d" (int $g.ports.metrics))) "log" (dict "level" $g.settings.logLevel) -}}
{{- if $g.tls.enabled -}}
{{- $tls := dict "certificate" "/etc/switchboard/sip-tls/tls.crt" "private_key" "/etc/switchboard/sip-tls/tls.key" "listen" (printf "0.0.0.0:%d" (int $g.ports.sipTls)) -}}
{{- if $g.tls.verifyPeer -}}
{{- $_ := set $tls "verify" "peer" -}}
{{- $_ := set $tls "ca_file" "/etc/switchboard/sip-ca/ca.crt" -}}
{{- end -}}
{{- $_ := set $config "tls" $tls -}}
{{- end -}}
{{- toYaml (mergeOverwrite $config (deepCopy $g.extraSettings)) -}}
{{- end -}}

{{/* The router client's certificate volume of a gateway or the web edge:
     (list $ .Values.sbcGateway "sbc-gateway"). */}}
{{- define "switchboard.routerClientVolume" -}}
{{- $ := index . 0 -}}
{{- if $.Values.router.grpc.tls.enabled -}}
- name: router-client
  secret:
    secretName: {{ include "switchboard.routerClientSecret" . }}
    items:
      - key: ca.crt
        path: ca.crt
      {{- if $.Values.router.grpc.tls.clientCertificates }}
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
      {{- end }}
{{- end }}
{{- end -}}

{{- define "switchboard.routerClientMount" -}}
{{- if .Values.router.grpc.tls.enabled -}}
- name: router-client
  mountPath: /etc/switchboard/router-client
  readOnly: true
{{- end }}
{{- end -}}

{{/* The Graph gateway's YAML settings file (docs/teams-graph.md). */}}
{{- define "switchboard.graphGatewayConfig" -}}
{{- $g := .Values.graphGateway -}}
{{- $s := $g.settings -}}
{{- $http := dict "listen" (printf "0.0.0.0:%d" (int $g.ports.https)) -}}
{{- if $g.tls.enabled -}}
{{- $_ := set $http "certificate" "/etc/switchboard/https-tls/tls.crt" -}}
{{- $_ := set $http "private_key" "/etc/switchboard/https-tls/tls.key" -}}
{{- end -}}
{{- $creds := "/etc/switchboard/graph-credentials" -}}
{{- $graph := dict "app_id" $s.appId "callback_url" $s.callbackUrl "callback_digit" $s.callbackDigit "client_secret_file" (printf "%s/%s" $creds $g.credentials.clientSecretKey) -}}
{{- with $s.tenants -}}
{{- $_ := set $graph "tenants" (join "," .) -}}
{{- end -}}
{{- with $s.holdPrompt -}}
{{- $_ := set $graph "hold_prompt" . -}}
{{- end -}}
{{- with $s.announcementUrl -}}
{{- $_ := set $graph "announcement_url" . -}}
{{- end -}}
{{- $presence := dict "certificate_id" $g.presence.certificateId -}}
{{- if $g.presence.certificateSecretName -}}
{{- $_ := set $presence "certificate" "/etc/switchboard/presence/tls.crt" -}}
{{- $_ := set $presence "private_key" "/etc/switchboard/presence/tls.key" -}}
{{- $_ := set $presence "client_state_file" (printf "%s/%s" $creds $g.credentials.clientStateKey) -}}
{{- end -}}
{{- with $s.presenceUrl -}}
{{- $_ := set $presence "notification_url" . -}}
{{- end -}}
{{- $signin := dict "token_store" "/var/lib/switchboard/graph-gateway" "token_key_file" (printf "%s/%s" $creds $g.credentials.tokenKeyKey) -}}
{{- $config := dict "http" $http "graph" $graph "presence" $presence "signin" $signin "router" (fromYaml (include "switchboard.routerClientSettings" (list .))) "metrics" (dict "listen" (printf "0.0.0.0:%d" (int $g.ports.metrics))) "log" (dict "level" $s.logLevel) -}}
{{- toYaml (mergeOverwrite $config (deepCopy $g.extraSettings)) -}}
{{- end -}}

{{/* The web edge's YAML settings file (switchboard-web --help): http.*,
     router.*, metrics.*, log.*. */}}
{{- define "switchboard.webEdgeConfig" -}}
{{- $w := .Values.webEdge -}}
{{- $http := dict "listen" (printf "0.0.0.0:%d" (int $w.ports.https)) -}}
{{- if $w.tls.enabled -}}
{{- $_ := set $http "certificate" "/etc/switchboard/https-tls/tls.crt" -}}
{{- $_ := set $http "private_key" "/etc/switchboard/https-tls/tls.key" -}}
{{- end -}}
{{- $config := dict "http" $http "router" (fromYaml (include "switchboard.routerClientSettings" (list .))) "metrics" (dict "listen" (printf "0.0.0.0:%d" (int $w.ports.metrics))) "log" (dict "level" $w.settings.logLevel) -}}
{{- toYaml (mergeOverwrite $config (deepCopy $w.extraSettings)) -}}
{{- end -}}

{{/* An Ingress to a component's HTTPS port: (list $ .Values.webEdge "web-edge"). */}}
{{- define "switchboard.ingress" -}}
{{- $ := index . 0 -}}
{{- $c := index . 1 -}}
{{- $component := index . 2 -}}
{{- $name := include "switchboard.component" (list $ $component) -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "switchboard.labels" (list $ $component) | nindent 4 }}
  {{- with $c.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $c.ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- if $c.ingress.tlsSecretName }}
  tls:
    - hosts:
        - {{ $c.ingress.host | quote }}
      secretName: {{ $c.ingress.tlsSecretName }}
  {{- end }}
  rules:
    - host: {{ $c.ingress.host | quote }}
      http:
        paths:
          {{- range $c.ingress.paths }}
          - path: {{ . }}
            pathType: Prefix
            backend:
              service:
                name: {{ $name }}
                port:
                  name: https
          {{- end }}
{{- end -}}

{{/* The Service of a component's HTTPS port and the headless one of its
     pods: (list $ .Values.webEdge "web-edge" headless?). */}}
{{- define "switchboard.httpsServices" -}}
{{- $ := index . 0 -}}
{{- $c := index . 1 -}}
{{- $component := index . 2 -}}
{{- $name := include "switchboard.component" (list $ $component) -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "switchboard.labels" (list $ $component) | nindent 4 }}
  {{- with $c.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $c.service.type }}
  selector:
    {{- include "switchboard.selectorLabels" (list $ $component) | nindent 4 }}
  ports:
    - name: https
      port: {{ $c.ports.https }}
      targetPort: https
      protocol: TCP
      appProtocol: {{ ternary "https" "http" $c.tls.enabled }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}-headless
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "switchboard.labels" (list $ $component) | nindent 4 }}
    switchboard.io/service: headless
spec:
  clusterIP: None
  selector:
    {{- include "switchboard.selectorLabels" (list $ $component) | nindent 4 }}
  ports:
    - name: https
      port: {{ $c.ports.https }}
      targetPort: https
      protocol: TCP
    - name: metrics
      port: {{ $c.ports.metrics }}
      targetPort: metrics
      protocol: TCP
{{- end -}}

{{/* /healthz probes on the HTTPS (or HTTP) port. */}}
{{- define "switchboard.httpProbes" -}}
{{- $scheme := ternary "HTTPS" "HTTP" .tls.enabled -}}
readinessProbe:
  httpGet:
    path: /healthz
    port: https
    scheme: {{ $scheme }}
  periodSeconds: 5
  failureThreshold: 2
livenessProbe:
  httpGet:
    path: /healthz
    port: https
    scheme: {{ $scheme }}
  periodSeconds: 10
  failureThreshold: 6
{{- end -}}
