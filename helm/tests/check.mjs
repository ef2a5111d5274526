// Checks the chart's renders: every object against the Kubernetes API
// schemas (kubernetes-models, prometheus-operator), a TypeScript file per
// render for tsc against kubernetes-types (unknown fields fail there), and
// assertions on what the objects say.
//
//   node check.mjs OUT_DIR CHART_DIR NAME=VALUES_FILE=RENDER_FILE...
//
// Prints one line per check; exits 1 if any failed. Writes OUT_DIR/*.ts and
// OUT_DIR/tsconfig.json for tsc, and OUT_DIR/lines.json to name the object
// and field of each line tsc may complain about.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import YAML from "yaml";

const require = createRequire(import.meta.url);

const [outDir, chartDir, ...renders] = process.argv.slice(2);
let failures = 0;

function ok(render, what) {
  console.log(`ok    ${render}: ${what}`);
}
function fail(render, object, field, what) {
  failures++;
  console.log(`FAIL  ${render}: ${object}${field ? ` ${field}` : ""}: ${what}`);
}
/// One named check: `fn` returns a list of [object, field, problem].
function check(render, what, fn) {
  let problems;
  try {
    problems = fn();
  } catch (e) {
    problems = [["(check)", "", `threw ${e.stack || e}`]];
  }
  if (problems.length === 0) ok(render, what);
  for (const [object, field, problem] of problems)
    fail(render, object, field, `${what}: ${problem}`);
}

// Values as helm merges them: maps merge, anything else replaces.
function merge(base, over) {
  if (over === undefined) return base;
  if (over === null) return undefined;
  if (typeof base !== "object" || base === null || Array.isArray(base) ||
      typeof over !== "object" || Array.isArray(over))
    return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const m = merge(base[k], v);
    if (m === undefined) delete out[k];
    else out[k] = m;
  }
  return out;
}

const defaults = YAML.parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8"));

// --- kubernetes-models validators -----------------------------------------

const models = {
  "v1/ConfigMap": () => require("kubernetes-models/v1/ConfigMap").ConfigMap,
  "v1/Service": () => require("kubernetes-models/v1/Service").Service,
  "v1/ServiceAccount": () => require("kubernetes-models/v1/ServiceAccount").ServiceAccount,
  "v1/Secret": () => require("kubernetes-models/v1/Secret").Secret,
  "apps/v1/StatefulSet": () => require("kubernetes-models/apps/v1/StatefulSet").StatefulSet,
  "apps/v1/Deployment": () => require("kubernetes-models/apps/v1/Deployment").Deployment,
  "policy/v1/PodDisruptionBudget": () => require("kubernetes-models/policy/v1/PodDisruptionBudget").PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": () => require("kubernetes-models/networking.k8s.io/v1/NetworkPolicy").NetworkPolicy,
  "networking.k8s.io/v1/Ingress": () => require("kubernetes-models/networking.k8s.io/v1/Ingress").Ingress,
  "monitoring.coreos.com/v1/ServiceMonitor": () =>
    require("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor").ServiceMonitor,
};

// --- kubernetes-types, for tsc ----------------------------------------------

const types = {
  "v1/ConfigMap": ["kubernetes-types/core/v1", "ConfigMap"],
  "v1/Service": ["kubernetes-types/core/v1", "Service"],
  "v1/ServiceAccount": ["kubernetes-types/core/v1", "ServiceAccount"],
  "v1/Secret": ["kubernetes-types/core/v1", "Secret"],
  "apps/v1/StatefulSet": ["kubernetes-types/apps/v1", "StatefulSet"],
  "apps/v1/Deployment": ["kubernetes-types/apps/v1", "Deployment"],
  "policy/v1/PodDisruptionBudget": ["kubernetes-types/policy/v1", "PodDisruptionBudget"],
  "networking.k8s.io/v1/NetworkPolicy": ["kubernetes-types/networking/v1", "NetworkPolicy"],
  "networking.k8s.io/v1/Ingress": ["kubernetes-types/networking/v1", "Ingress"],
  "monitoring.coreos.com/v1/ServiceMonitor": [
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor", "IServiceMonitor"],
};

/// A TypeScript literal of `value`, one key per line; `lines` gets the
/// field path of each line it writes.
function literal(value, indent, pathSoFar, lines, out) {
  const pad = "  ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    let s = "[\n";
    value.forEach((v, i) => {
      const p = `${pathSoFar}[${i}]`;
      lines.push(p);
      s += `${pad}  ${literal(v, indent + 1, p, lines, out)},\n`;
    });
    lines.push(pathSoFar);
    return s + `${pad}]`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0) return "{}";
    let s = "{\n";
    for (const k of keys) {
      const p = pathSoFar ? `${pathSoFar}.${k}` : k;
      lines.push(p);
      s += `${pad}  ${JSON.stringify(k)}: ${literal(value[k], indent + 1, p, lines, out)},\n`;
    }
    lines.push(pathSoFar);
    return s + `${pad}}`;
  }
  return JSON.stringify(value);
}

// --- helpers on the objects -------------------------------------------------

const id = (o) => `${o.kind}/${o.metadata?.name}`;
const gvk = (o) => `${o.apiVersion}/${o.kind}`;
const component = (o) => o.metadata?.labels?.["app.kubernetes.io/component"];
const workloads = (objs) => objs.filter((o) => o.kind === "StatefulSet" || o.kind === "Deployment");
const selects = (selector, labels) =>
  Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v);

function containerPort(container, port) {
  return (container.ports || []).find((p) =>
    typeof port === "number" ? p.containerPort === port : p.name === port);
}

/// The settings file a workload's container reads (--config FILE or
/// `exec ... --config FILE`), parsed, with the ConfigMap it comes from.
function settingsOf(objs, w, c) {
  const words = [...(c.command || []), ...(c.args || [])].join(" ").split(/\s+/);
  const at = words.indexOf("--config");
  if (at < 0) return null;
  const file = words[at + 1];
  const mount = (c.volumeMounts || []).find((m) => m.mountPath === file);
  if (!mount) return { file, error: `--config ${file} is not a mounted file` };
  const vol = w.spec.template.spec.volumes.find((v) => v.name === mount.name);
  const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === vol?.configMap?.name);
  if (!cm) return { file, error: `${file}: volume ${mount.name} is not a ConfigMap of the release` };
  const text = cm.data?.[mount.subPath];
  if (text === undefined) return { file, error: `${file}: ConfigMap ${cm.metadata.name} has no key ${mount.subPath}` };
  return { file, settings: YAML.parse(text), configMap: cm.metadata.name };
}

function* leaves(value, p = "") {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) yield* leaves(v, p ? `${p}.${k}` : k);
  } else {
    yield [p, value];
  }
}

// --- the checks of one render ------------------------------------------------

function checkRender(name, valuesFile, renderFile) {
  const text = fs.readFileSync(renderFile, "utf8");
  const values = merge(defaults, valuesFile ? YAML.parse(fs.readFileSync(valuesFile, "utf8")) || {} : {});
  const valuesText = valuesFile ? fs.readFileSync(valuesFile, "utf8") : "";
  const objs = YAML.parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o);

  check(name, `${objs.length} objects parsed`, () =>
    objs.filter((o) => !o.kind || !o.apiVersion || !o.metadata?.name).map((o) => [id(o), "", "no kind, apiVersion or name"]));

  // Kubernetes API schemas.
  check(name, "every object valid against the Kubernetes API schema (kubernetes-models)", () => {
    const problems = [];
    for (const o of objs) {
      const model = models[gvk(o)];
      if (!model) {
        problems.push([id(o), "apiVersion", `${gvk(o)} has no validator here`]);
        continue;
      }
      try {
        new (model())(o).validate();
      } catch (e) {
        for (const err of e.errors || [{ instancePath: "", message: e.message }])
          problems.push([id(o), (err.instancePath || "/").slice(1).replaceAll("/", "."), err.message]);
      }
    }
    return problems;
  });

  // TypeScript file for tsc.
  const lines = [];
  const imports = new Map();
  let body = "";
  const lineMap = {}; // line number -> [object, field]
  let lineNo = 1 + Object.keys(types).length + 1; // imports then a blank line
  objs.forEach((o, i) => {
    const t = types[gvk(o)];
    if (!t) return;
    const alias = `${t[1]}_${t[0].replace(/[^A-Za-z0-9]/g, "_")}`;
    imports.set(alias, t);
    const objLines = [""];
    const lit = literal(o, 0, "", objLines, null);
    body += `// ${id(o)}\nexport const o${i}: ${alias} = ${lit};\n`;
    lineMap[lineNo] = [id(o), ""];
    lineNo++;
    objLines.forEach((p, k) => (lineMap[lineNo + k] = [id(o), p]));
    lineNo += objLines.length;
  });
  let head = "";
  const allAliases = Object.values(types).map((t) => `${t[1]}_${t[0].replace(/[^A-Za-z0-9]/g, "_")}`);
  for (const alias of allAliases) {
    const t = [...imports.entries()].find(([a]) => a === alias);
    head += t ? `import type { ${t[1][1]} as ${alias} } from ${JSON.stringify(t[1][0])};\n` : "\n";
  }
  fs.writeFileSync(path.join(outDir, `${name}.ts`), `${head}\n${body}`);
  fs.writeFileSync(path.join(outDir, `${name}.lines.json`), JSON.stringify(lineMap));

  const router = objs.find((o) => o.kind === "StatefulSet" && component(o) === "router");
  const r = values.router;

  // The cluster: members, services.
  check(name, `router StatefulSet with ${r.replicas} replica(s)`, () =>
    !router ? [["StatefulSet", "", "no router StatefulSet"]]
    : router.spec.replicas !== r.replicas ? [[id(router), "spec.replicas", `${router.spec.replicas}, values say ${r.replicas}`]] : []);
  if (router) {
    const c = router.spec.template.spec.containers[0];
    const headless = objs.find((o) => o.kind === "Service" && o.metadata.name === router.spec.serviceName);
    check(name, "peer list names every node once, by its stable DNS name under the headless Service", () => {
      const problems = [];
      const env = (n) => (c.env || []).find((e) => e.name === n);
      const members = env("SWITCHBOARD_MEMBERS");
      const cmName = members?.valueFrom?.configMapKeyRef?.name;
      const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === cmName);
      if (!cm) return [[id(router), "env.SWITCHBOARD_MEMBERS", `from ConfigMap '${cmName}', not in the render`]];
      const list = (cm.data[members.valueFrom.configMapKeyRef.key] || "").split(",").filter((x) => x);
      const ns = router.metadata.namespace;
      const want = [...Array(r.replicas).keys()].map((i) => {
        const pod = `${router.metadata.name}-${i}`;
        return `${pod}=${pod}.${router.spec.serviceName}.${ns}.svc.${values.clusterDomain}:${r.ports.cluster}`;
      });
      if (list.length !== r.replicas)
        problems.push([id(cm), "data.members", `${list.length} members for ${r.replicas} replicas`]);
      if (JSON.stringify(list) !== JSON.stringify(want))
        problems.push([id(cm), "data.members", `'${list.join(",")}', want '${want.join(",")}'`]);
      if (env("SWITCHBOARD_NODE_NAME")?.valueFrom?.fieldRef?.fieldPath !== "metadata.name")
        problems.push([id(router), "env.SWITCHBOARD_NODE_NAME", "not the pod's name"]);
      const adv = env("SWITCHBOARD_CLUSTER_ADVERTISE")?.value;
      if (adv !== `$(SWITCHBOARD_NODE_NAME).${router.spec.serviceName}.${ns}.svc.${values.clusterDomain}:${r.ports.cluster}`)
        problems.push([id(router), "env.SWITCHBOARD_CLUSTER_ADVERTISE", `'${adv}' is not the pod's DNS name`]);
      if (!/case "\$member" in\s+"\$SWITCHBOARD_NODE_NAME="\*\) ;;/.test(c.command?.join(" ") || ""))
        problems.push([id(router), "command", "does not drop the node's own entry from --peers"]);
      return problems;
    });
    check(name, "headless Service lists nodes before they are ready; client Service only ready ones", () => {
      const problems = [];
      if (!headless) return [[id(router), "spec.serviceName", `Service '${router.spec.serviceName}' not in the render`]];
      if (headless.spec.clusterIP !== "None") problems.push([id(headless), "spec.clusterIP", "not None"]);
      if (headless.spec.publishNotReadyAddresses !== true) problems.push([id(headless), "spec.publishNotReadyAddresses", "not true"]);
      if (!headless.spec.ports.some((p) => p.port === r.ports.cluster)) problems.push([id(headless), "spec.ports", "no cluster port"]);
      const clients = objs.filter((o) => o.kind === "Service" && o !== headless && selects(o.spec.selector, router.spec.template.metadata.labels));
      if (clients.length === 0) problems.push(["Service", "", "no client Service selects the routers"]);
      for (const s of clients) {
        if (s.spec.publishNotReadyAddresses) problems.push([id(s), "spec.publishNotReadyAddresses", "a client Service must send to ready nodes only"]);
        if (s.spec.clusterIP === "None") problems.push([id(s), "spec.clusterIP", "None on a client Service"]);
      }
      return problems;
    });
    check(name, "router probes on the gRPC port (gRPC health without TLS, TCP with TLS); startup allows 5 min of recovery", () => {
      const problems = [];
      for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        const p = c[kind];
        if (!p) { problems.push([id(router), `containers[0].${kind}`, "missing"]); continue; }
        if (r.grpc.tls.enabled) {
          if (!p.tcpSocket || containerPort(c, p.tcpSocket.port)?.containerPort !== r.ports.grpc)
            problems.push([id(router), `containers[0].${kind}`, `TLS on: want tcpSocket on the gRPC port ${r.ports.grpc}, found ${JSON.stringify(p)}`]);
        } else if (p.grpc?.port !== r.ports.grpc || p.grpc?.service) {
          problems.push([id(router), `containers[0].${kind}.grpc`, `want gRPC health on ${r.ports.grpc} (empty service), found ${JSON.stringify(p)}`]);
        }
      }
      const s = c.startupProbe;
      if (s && (s.periodSeconds || 10) * (s.failureThreshold || 3) < 300)
        problems.push([id(router), "containers[0].startupProbe", `${(s.periodSeconds || 10) * (s.failureThreshold || 3)} s is too short for a large store's recovery`]);
      return problems;
    });
    check(name, "router grace period longer than its drain (5 s gRPC + 10 s tenants) and preStop", () => {
      const spec = router.spec.template.spec;
      const pre = c.lifecycle?.preStop?.sleep?.seconds || 0;
      return (spec.terminationGracePeriodSeconds || 30) > 15 + pre + 5 ? []
        : [[id(router), "spec.template.spec.terminationGracePeriodSeconds", `${spec.terminationGracePeriodSeconds} s <= 15 s drain + ${pre} s preStop + 5 s margin`]];
    });
    check(name, "router data on its own volume, /tmp on a volume", () => {
      const problems = [];
      const cfg = settingsOf(objs, router, c);
      if (!cfg?.settings) return [[id(router), "containers[0].command", cfg?.error || "no --config"]];
      const dataDir = cfg.settings.node?.data_dir;
      const mount = (c.volumeMounts || []).find((m) => dataDir?.startsWith(m.mountPath + "/"));
      if (!mount) problems.push([id(router), "volumeMounts", `node.data_dir '${dataDir}' is on no volume`]);
      else if (!router.spec.volumeClaimTemplates?.some((t) => t.metadata.name === mount.name))
        problems.push([id(router), `volumeMounts.${mount.name}`, "node.data_dir is not on the node's PersistentVolumeClaim"]);
      return problems;
    });
  }

  // Every workload.
  for (const w of workloads(objs)) {
    const spec = w.spec.template.spec;
    check(name, `${id(w)}: securityContext non-root, read-only root, no privilege escalation, no capabilities, seccomp RuntimeDefault`, () => {
      const problems = [];
      if (spec.securityContext?.runAsNonRoot !== true) problems.push([id(w), "spec.template.spec.securityContext.runAsNonRoot", "not true"]);
      if (spec.automountServiceAccountToken !== false) problems.push([id(w), "spec.template.spec.automountServiceAccountToken", "the pods need no API token"]);
      for (const [i, c] of [...(spec.initContainers || []), ...spec.containers].entries()) {
        const sc = c.securityContext || {};
        const f = `containers[${i}].securityContext`;
        if (sc.runAsNonRoot !== true && spec.securityContext?.runAsNonRoot !== true) problems.push([id(w), `${f}.runAsNonRoot`, "not true"]);
        if (sc.readOnlyRootFilesystem !== true) problems.push([id(w), `${f}.readOnlyRootFilesystem`, "not true"]);
        if (sc.allowPrivilegeEscalation !== false) problems.push([id(w), `${f}.allowPrivilegeEscalation`, "not false"]);
        if (!(sc.capabilities?.drop || []).includes("ALL")) problems.push([id(w), `${f}.capabilities.drop`, "does not drop ALL"]);
        if (sc.capabilities?.add?.length) problems.push([id(w), `${f}.capabilities.add`, "adds capabilities"]);
        if ((sc.seccompProfile || spec.securityContext?.seccompProfile)?.type !== "RuntimeDefault") problems.push([id(w), `${f}.seccompProfile`, "not RuntimeDefault"]);
        if (!(c.volumeMounts || []).some((m) => m.mountPath === "/tmp")) problems.push([id(w), `containers[${i}].volumeMounts`, "no volume on /tmp"]);
      }
      return problems;
    });
    check(name, `${id(w)}: probes on ports the container has`, () => {
      const problems = [];
      for (const c of spec.containers)
        for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
          const p = c[kind];
          if (!p) {
            if (kind !== "startupProbe") problems.push([id(w), `${c.name}.${kind}`, "missing"]);
            continue;
          }
          const port = p.grpc?.port ?? p.tcpSocket?.port ?? p.httpGet?.port;
          if (port === undefined || !containerPort(c, port)) problems.push([id(w), `${c.name}.${kind}`, `port ${port} is not a port of the container`]);
        }
      return problems;
    });
    check(name, `${id(w)}: every file its settings name is mounted (certificates from their Secrets)`, () => {
      const problems = [];
      for (const c of spec.containers) {
        const cfg = settingsOf(objs, w, c);
        if (!cfg) continue;
        if (cfg.error) { problems.push([id(w), c.name, cfg.error]); continue; }
        for (const [key, value] of leaves(cfg.settings)) {
          if (typeof value !== "string" || !value.startsWith("/etc/switchboard/")) continue;
          const m = (c.volumeMounts || []).find((vm) => value.startsWith(vm.mountPath + "/"));
          if (!m) { problems.push([id(w), `${cfg.configMap}: ${key}`, `'${value}' is on no volume`]); continue; }
          const vol = spec.volumes.find((v) => v.name === m.name);
          const file = value.slice(m.mountPath.length + 1);
          const src = vol?.secret || vol?.configMap;
          if (!src) { problems.push([id(w), `volumes.${m.name}`, `${key} '${value}' is not from a Secret or ConfigMap`]); continue; }
          if (src.items && !src.items.some((it) => it.path === file)) problems.push([id(w), `volumes.${m.name}.items`, `${key} '${value}': no item '${file}'`]);
          if (/tls|certificate|private_key|ca/.test(key) && !vol.secret) problems.push([id(w), `volumes.${m.name}`, `${key} is not from a Secret`]);
          if (vol.configMap && !objs.some((o) => o.kind === "ConfigMap" && o.metadata.name === vol.configMap.name))
            problems.push([id(w), `volumes.${m.name}`, `ConfigMap '${vol.configMap.name}' not in the render`]);
        }
      }
      return problems;
    });
  }

  // TLS where the values turn it on.
  const componentTls = [
    ["router", true, r.grpc.tls.enabled, (s) => s.grpc?.tls_certificate && s.grpc?.tls_private_key],
    ["router", true, r.grpc.tls.enabled && r.grpc.tls.clientCertificates, (s) => s.grpc?.tls_client_ca],
    ["router", true, r.cluster.tls.enabled, (s) => s.cluster?.tls_certificate && s.cluster?.tls_private_key && s.cluster?.tls_ca],
    ["sbc-gateway", values.sbcGateway.enabled, values.sbcGateway.tls.enabled, (s) => s.tls?.certificate && s.tls?.private_key],
    ["graph-gateway", values.graphGateway.enabled, values.graphGateway.tls.enabled, (s) => s.http?.certificate && s.http?.private_key],
    ["web-edge", values.webEdge.enabled, values.webEdge.tls.enabled, (s) => s.http?.certificate && s.http?.private_key],
    ...["sbc-gateway", "graph-gateway", "web-edge"].map((g) => [g, values[{ "sbc-gateway": "sbcGateway", "graph-gateway": "graphGateway", "web-edge": "webEdge" }[g]].enabled,
      r.grpc.tls.enabled, (s) => s.router?.tls_ca && (!r.grpc.tls.clientCertificates || (s.router?.tls_certificate && s.router?.tls_private_key))]),
  ];
  check(name, "TLS settings present exactly where the values turn TLS on", () => {
    const problems = [];
    for (const [comp, enabled, tls, has] of componentTls) {
      if (!enabled) continue;
      const w = workloads(objs).find((o) => component(o) === comp);
      if (!w) { problems.push([comp, "", "enabled but no workload"]); continue; }
      const cfg = settingsOf(objs, w, w.spec.template.spec.containers[0]);
      const present = !!has(cfg?.settings || {});
      if (present !== tls) problems.push([id(w), cfg?.configMap || "", `TLS ${tls ? "on" : "off"} in values, ${present ? "set" : "not set"} in its settings`]);
    }
    return problems;
  });

  // Which components exist.
  for (const [comp, key] of [["sbc-gateway", "sbcGateway"], ["graph-gateway", "graphGateway"], ["web-edge", "webEdge"]]) {
    check(name, `${comp} ${values[key].enabled ? "deployed" : "absent"} as the values say`, () => {
      const found = objs.filter((o) => component(o) === comp);
      return values[key].enabled === (found.length > 0) ? []
        : [[comp, `${key}.enabled`, `${values[key].enabled}, but ${found.length} objects`]];
    });
  }
  if (values.sbcGateway.enabled) {
    check(name, "SIP Service carries UDP and TCP, and TLS when on", () => {
      const g = values.sbcGateway;
      const svc = objs.find((o) => o.kind === "Service" && component(o) === "sbc-gateway" && o.spec.clusterIP !== "None");
      if (!svc) return [["Service", "", "no SIP Service"]];
      const has = (port, proto) => svc.spec.ports.some((p) => p.port === port && p.protocol === proto);
      const problems = [];
      if (!has(g.ports.sip, "UDP")) problems.push([id(svc), "spec.ports", `no UDP ${g.ports.sip}`]);
      if (!has(g.ports.sip, "TCP")) problems.push([id(svc), "spec.ports", `no TCP ${g.ports.sip}`]);
      if (has(g.ports.sipTls, "TCP") !== g.tls.enabled) problems.push([id(svc), "spec.ports", `TLS port ${g.ports.sipTls} ${g.tls.enabled ? "missing" : "present with TLS off"}`]);
      return problems;
    });
  }

  // PodDisruptionBudgets.
  check(name, "a PodDisruptionBudget (maxUnavailable) per workload whose values enable one", () => {
    const problems = [];
    const key = { router: "router", "sbc-gateway": "sbcGateway", "graph-gateway": "graphGateway", "web-edge": "webEdge" };
    for (const w of workloads(objs)) {
      const v = values[key[component(w)]];
      const pdbs = objs.filter((o) => o.kind === "PodDisruptionBudget" && selects(o.spec.selector.matchLabels, w.spec.template.metadata.labels));
      if (v.pdb.enabled && pdbs.length !== 1) problems.push([id(w), "pdb", `${pdbs.length} PodDisruptionBudgets select it`]);
      if (!v.pdb.enabled && pdbs.length) problems.push([id(w), "pdb", "a PodDisruptionBudget although disabled"]);
      for (const p of pdbs)
        if (p.spec.maxUnavailable !== v.pdb.maxUnavailable) problems.push([id(p), "spec.maxUnavailable", `${p.spec.maxUnavailable}, values say ${v.pdb.maxUnavailable}`]);
    }
    return problems;
  });

  // Topology spread never blocks scheduling unless asked.
  check(name, "topology spread as the values say (ScheduleAnyway unless asked otherwise)", () => {
    const problems = [];
    const key = { router: "router", "sbc-gateway": "sbcGateway", "graph-gateway": "graphGateway", "web-edge": "webEdge" };
    for (const w of workloads(objs)) {
      const want = values[key[component(w)]].topologySpread || [];
      const got = w.spec.template.spec.topologySpreadConstraints || [];
      if (got.length !== want.length) problems.push([id(w), "topologySpreadConstraints", `${got.length}, values say ${want.length}`]);
      got.forEach((t, i) => {
        if (t.whenUnsatisfiable !== want[i]?.whenUnsatisfiable) problems.push([id(w), `topologySpreadConstraints[${i}].whenUnsatisfiable`, t.whenUnsatisfiable]);
        if (!selects(t.labelSelector?.matchLabels, w.spec.template.metadata.labels)) problems.push([id(w), `topologySpreadConstraints[${i}].labelSelector`, "does not select its own pods"]);
      });
    }
    return problems;
  });

  // Services and Ingresses point at something.
  check(name, "every Service selects pods and targets ports they have; every Ingress backend exists", () => {
    const problems = [];
    for (const s of objs.filter((o) => o.kind === "Service")) {
      const ws = workloads(objs).filter((w) => selects(s.spec.selector, w.spec.template.metadata.labels));
      if (!ws.length) { problems.push([id(s), "spec.selector", "selects no workload"]); continue; }
      for (const p of s.spec.ports)
        for (const w of ws)
          if (!w.spec.template.spec.containers.some((c) => (c.ports || []).some((cp) =>
              (typeof p.targetPort === "string" ? cp.name === p.targetPort : cp.containerPort === (p.targetPort ?? p.port)) && (cp.protocol || "TCP") === (p.protocol || "TCP"))))
            problems.push([id(s), `spec.ports.${p.name}`, `target ${p.targetPort}/${p.protocol} is no port of ${id(w)}`]);
    }
    for (const ing of objs.filter((o) => o.kind === "Ingress"))
      for (const rule of ing.spec.rules)
        for (const p of rule.http.paths) {
          const b = p.backend.service;
          const s = objs.find((o) => o.kind === "Service" && o.metadata.name === b.name);
          if (!s || !s.spec.ports.some((sp) => sp.name === b.port.name)) problems.push([id(ing), `backend ${p.path}`, `Service ${b.name} port ${b.port.name} not in the render`]);
        }
    return problems;
  });

  // Monitoring.
  const monitors = objs.filter((o) => o.kind === "ServiceMonitor");
  check(name, `ServiceMonitor ${values.metrics.serviceMonitor.enabled ? "for every component" : "absent"} as metrics.serviceMonitor.enabled says`, () => {
    const problems = [];
    if (!values.metrics.serviceMonitor.enabled)
      return monitors.map((m) => [id(m), "", "rendered although metrics.serviceMonitor.enabled is false"]);
    for (const w of workloads(objs)) {
      const m = monitors.find((mon) => component(mon) === component(w));
      if (!m) { problems.push([id(w), "", "no ServiceMonitor"]); continue; }
      const svcs = objs.filter((o) => o.kind === "Service" && selects(m.spec.selector.matchLabels, o.metadata.labels));
      if (svcs.length !== 1) problems.push([id(m), "spec.selector", `selects ${svcs.length} Services`]);
      for (const e of m.spec.endpoints)
        if (!svcs.some((s) => s.spec.ports.some((p) => p.name === e.port))) problems.push([id(m), `endpoints.${e.port}`, "no such Service port"]);
    }
    return problems;
  });

  // NetworkPolicy: the cluster port only between routers.
  if (router && values.networkPolicy.enabled) {
    check(name, "NetworkPolicy admits the routers' cluster port from routers only", () => {
      const np = objs.filter((o) => o.kind === "NetworkPolicy" && selects(o.spec.podSelector.matchLabels, router.spec.template.metadata.labels));
      if (!np.length) return [["NetworkPolicy", "", "none selects the routers"]];
      const problems = [];
      for (const p of np)
        for (const [i, rule] of (p.spec.ingress || []).entries()) {
          if (!(rule.ports || []).some((pt) => pt.port === "cluster" || pt.port === r.ports.cluster)) {
            if (!rule.ports?.length) problems.push([id(p), `spec.ingress[${i}]`, "admits every port"]);
            continue;
          }
          if (!rule.from?.length || !rule.from.every((f) => f.podSelector && !f.namespaceSelector && selects(f.podSelector.matchLabels, router.spec.template.metadata.labels)
              && selects(router.spec.selector.matchLabels, f.podSelector.matchLabels)))
            problems.push([id(p), `spec.ingress[${i}].from`, "admits more than the routers to the cluster port"]);
        }
      return problems;
    });
  }

  check(name, `NetworkPolicy ${values.networkPolicy.enabled ? "for every workload" : "absent"} as networkPolicy.enabled says`, () =>
    workloads(objs).flatMap((w) => {
      const n = objs.filter((o) => o.kind === "NetworkPolicy" && selects(o.spec.podSelector.matchLabels, w.spec.template.metadata.labels)).length;
      return (n > 0) === values.networkPolicy.enabled ? [] : [[id(w), "", `${n} NetworkPolicies select it`]];
    }));

  // No addresses of any network written into the chart.
  check(name, "no hard-coded IP address (only 0.0.0.0 listeners and those in the values file)", () => {
    const problems = [];
    const allowed = new Set(["0.0.0.0", "127.0.0.1", ...(valuesText.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) || [])]);
    text.split("\n").forEach((line, i) => {
      for (const ip of line.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) || [])
        if (!allowed.has(ip) || ip.startsWith("10.")) problems.push([`line ${i + 1}`, "", `'${ip}' in: ${line.trim()}`]);
    });
    return problems;
  });
}

for (const arg of renders) {
  const [name, valuesFile, renderFile] = arg.split("=");
  checkRender(name, valuesFile, renderFile);
}
process.exit(failures ? 1 : 0);
