// Supply-chain checks for .ci/run (docs/security.md, "Dependencies"):
//   1. no runtime dependency (direct or transitive) has an install script;
//   2. every direct runtime dependency is listed, with its reason, in docs/security.md;
//   3. npm audit of the runtime dependencies finds nothing high or critical. A registry whose
//      audit endpoint does not answer (this project's build mirror returns 405) is said, not failed.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const npm = (args) => spawnSync("npm", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
let failed = false;

const q = npm(["query", ":attr(scripts, [install]), :attr(scripts, [preinstall]), :attr(scripts, [postinstall])"]);
if (q.status !== 0) throw new Error(`npm query failed: ${q.stderr}`);
const scripted = JSON.parse(q.stdout).filter((p) => !p.dev);
for (const p of scripted) {
  console.error(`runtime dependency ${p.name}@${p.version} has an install script`);
  failed = true;
}
console.log(`install scripts in runtime dependencies: ${scripted.length}`);

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const doc = readFileSync("docs/security.md", "utf8");
const undocumented = Object.keys(pkg.dependencies ?? {}).filter((name) => !doc.includes(`| \`${name}\` |`));
for (const name of undocumented) {
  console.error(`runtime dependency ${name} is not in docs/security.md's dependency table (with its reason)`);
  failed = true;
}
console.log(
  `runtime dependencies documented: ${Object.keys(pkg.dependencies ?? {}).length - undocumented.length}/${Object.keys(pkg.dependencies ?? {}).length}`,
);

const audit = npm(["audit", "--omit=dev", "--audit-level=high", "--loglevel=error"]);
const said = `${audit.stdout}${audit.stderr}`;
if (/audit endpoint returned an error/i.test(said)) {
  console.log("npm audit: the registry's audit endpoint did not answer (a mirror without it); not checked here");
} else if (audit.status !== 0) {
  console.error(said);
  console.error("npm audit: high or critical advisories in runtime dependencies (above)");
  failed = true;
} else {
  console.log("npm audit (runtime dependencies): no high or critical advisories");
}
process.exit(failed ? 1 : 0);
