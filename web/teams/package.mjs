// Builds the Teams app package (a zip of manifest.json and two icons) that
// a Teams admin uploads: static tabs for agents and supervisors, a
// configurable tab for channels and chats, and single sign-on through the
// API app registration (webApplicationInfo). The manifest is validated
// against Microsoft's published schema (bundled by @microsoft/app-manifest,
// read from disk) before the zip is written.
//
//   node web/teams/package.mjs --host app.contoso.example --client-id GUID
//        --tenant contoso [--app-id GUID] [--version 1.0.0]
//        [--publisher NAME] [--out DIR] [--template FILE]

import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "package.json"));

function fail(message) {
  console.error(`teams-package: ${message}`);
  process.exit(2);
}

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) {
    if (fallback === undefined) fail(`--${name} is required (see web/teams/package.mjs)`);
    return fallback;
  }
  const value = process.argv[at + 1];
  if (value === undefined || value.startsWith("--")) fail(`--${name} needs a value`);
  return value;
}

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const host = option("host");
if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/i.test(host) || !host.includes("."))
  fail(`--host: expected the app's host name such as app.contoso.example (no scheme, no path), found '${host}'`);
const clientId = option("client-id");
if (!guid.test(clientId)) fail(`--client-id: expected the API app registration's id (a GUID), found '${clientId}'`);
const tenant = option("tenant");
if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenant)) fail(`--tenant: expected a Switchboard tenant id, found '${tenant}'`);
// The same host and tenant give the same app id: a new package updates the
// app already uploaded.
const digest = createHash("sha256").update(`switchboard|${host}|${tenant}`).digest("hex");
const derived = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-a${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
const appId = option("app-id", derived);
if (!guid.test(appId)) fail(`--app-id: expected a GUID, found '${appId}'`);
const version = option("version", "1.0.0");
if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) fail(`--version: expected x.y.z, found '${version}'`);
const publisher = option("publisher", "Switchboard");
const out = resolve(option("out", "build/teams"));

const template = option("template", join(here, "manifest.template.json"));
const text = readFileSync(template, "utf8")
  .replaceAll("{{host}}", host)
  .replaceAll("{{client_id}}", clientId)
  .replaceAll("{{tenant}}", tenant)
  .replaceAll("{{app_id}}", appId)
  .replaceAll("{{version}}", version)
  .replaceAll("{{publisher}}", publisher.replaceAll('"', "'"));
const manifest = JSON.parse(text);

// Microsoft's published schema, as @microsoft/app-manifest bundles it
// (JSON Schema draft 4), checked with ajv.
const Ajv = require("ajv-draft-04");
const addFormats = require("ajv-formats");
const schemaFile = join(dirname(require.resolve("@microsoft/app-manifest/package.json")), "build",
                        "json-schemas", "teams", `v${manifest.manifestVersion}`, "MicrosoftTeams.schema.json");
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
if (!validate(manifest))
  fail(`the manifest breaks Microsoft's schema v${manifest.manifestVersion}:\n  ` +
       validate.errors
         .map((e) => `${e.instancePath || "/"} ${e.message}` +
                     (e.params?.additionalProperty ? `: '${e.params.additionalProperty}'` : ""))
         .join("\n  "));

// --- Icons: PNG, drawn here (a switchboard's jack field).
function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) raw.set(pixel(x, y), y * (size * 4 + 1) + 1 + x * 4);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
                        chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}
// Nine jacks in a 3x3 field: in a cell of the grid, a round hole.
function jack(x, y, size) {
  const cell = size / 3;
  const cx = (Math.floor(x / cell) + 0.5) * cell;
  const cy = (Math.floor(y / cell) + 0.5) * cell;
  return Math.hypot(x - cx, y - cy) < cell * 0.28;
}
const color = png(192, (x, y) => (jack(x - 24, y - 24, 144) && x >= 24 && y >= 24 && x < 168 && y < 168
                                    ? [255, 255, 255, 255] : [0x5b, 0x5f, 0xc7, 255]));
const outline = png(32, (x, y) => (jack(x, y, 32) ? [255, 255, 255, 255] : [0, 0, 0, 0]));

const stage = join(out, `stage-${tenant}`);
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
writeFileSync(join(stage, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
writeFileSync(join(stage, "color.png"), color);
writeFileSync(join(stage, "outline.png"), outline);
const zip = join(out, `switchboard-${tenant}.zip`);
rmSync(zip, { force: true });
execFileSync("python3", ["-m", "zipfile", "-c", zip, "manifest.json", "color.png", "outline.png"], { cwd: stage });
rmSync(stage, { recursive: true, force: true });
console.log(`teams-package: ${zip} (app id ${appId}, tabs on https://${host}/, single sign-on for ${clientId})`);
