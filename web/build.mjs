// Builds the app into one directory the web edge serves:
//   node build.mjs [--outdir DIR]     (default: dist)
// Offline: esbuild from node_modules, nothing downloaded.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf("--outdir");
const outdir = at > 0 ? process.argv[at + 1] : join(here, "dist");

mkdirSync(outdir, { recursive: true });
await esbuild.build({
  entryPoints: [join(here, "src", "main.tsx")],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["chrome110", "safari16", "firefox115"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outfile: join(outdir, "app.js"),
  logLevel: "warning",
});
for (const f of ["index.html", "app.css"])
  copyFileSync(join(here, "src", f), join(outdir, f));
console.log(`web app built into ${outdir}`);
