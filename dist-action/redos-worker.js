import { createRequire as __aeaCreateRequire } from "node:module";
const require = __aeaCreateRequire(import.meta.url);

// src/rules/redos-worker.ts
import { parentPort } from "node:worker_threads";

// src/paths.ts
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
var PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
var BUILTIN_RULES_DIR = join(PACKAGE_ROOT, "detections");
var DEMO_TENANT_DIR = join(PACKAGE_ROOT, "demo", "tenant");
function builtModule(url) {
  const u = new URL(url);
  if (!u.pathname.endsWith(".ts")) return u;
  const rel = u.pathname.slice(new URL("src/", `file://${PACKAGE_ROOT}/`).pathname.length).replace(/\.ts$/, ".js");
  return new URL(`dist/${rel}`, `file://${PACKAGE_ROOT}/`);
}

// src/rules/redos.ts
var PROBE_LENGTH = 2e4;
var repeat = (unit, tail) => unit.repeat(Math.max(1, Math.floor(PROBE_LENGTH / Math.max(1, unit.length)))) + tail;
function adversarialInputs(pattern) {
  const tails = ["!\0", "\n"];
  const own = [...new Set(pattern.replace(/\\[dDwWsSbBnrtfv]/g, "").match(/[A-Za-z0-9_/:@=$%&#~,;<>'"-]/g) ?? [])];
  const singles = [
    .../* @__PURE__ */ new Set([" ", "	", "a", "A", "0", "-", "/", "\\", "=", "$", '"', "'", ".", "\n", "\r\n", "x ", ...own])
  ].slice(0, 48);
  const fragments = [...new Set(pattern.match(/[A-Za-z0-9_./:@-]{2,}/g) ?? [])].slice(0, 24);
  const inputs = [];
  for (const s of singles) for (const t of tails) inputs.push(repeat(s, t));
  for (const f of fragments) for (const sep of ["", " ", "	", "\n"]) inputs.push(repeat(f + sep, "!"));
  if (fragments.length > 1) for (const sep of [" ", "", "	"]) inputs.push(repeat(fragments.join(sep) + sep, "!"));
  return inputs;
}
var WORKER_URL = import.meta.url.endsWith(".ts") ? builtModule(new URL("./redos-worker.ts", import.meta.url).href) : new URL("./redos-worker.js", import.meta.url);

// src/rules/redos-worker.ts
parentPort?.on("message", (p) => {
  try {
    const re = new RegExp(p.pattern, p.flags);
    const inputs = adversarialInputs(p.pattern);
    const start = performance.now();
    for (const input of inputs) re.test(input);
    parentPort?.postMessage({ ms: performance.now() - start });
  } catch (e) {
    parentPort?.postMessage({ error: e.message });
  }
});
parentPort?.postMessage({ ready: true });
