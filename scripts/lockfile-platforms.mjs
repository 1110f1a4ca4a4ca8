// The npm registry mirror on our build machines serves only the linux-glibc builds of Biome's
// platform packages, so `npm install` leaves the other seven out of package-lock.json and
// `npm ci` then refuses the lockfile as out of sync. This adds the missing optional entries
// (never installed on linux-glibc, so no tarball is needed). Run after changing dependencies:
//   node scripts/lockfile-platforms.mjs
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const biome = lock.packages["node_modules/@biomejs/biome"];
if (!biome) throw new Error("no @biomejs/biome in package-lock.json");
let added = 0;
for (const [name, version] of Object.entries(biome.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const m = /cli-(\w+)-(arm64|x64)(-musl)?$/.exec(name);
  if (!m) continue;
  // Keys in the order npm writes them, so a later `npm install` leaves the file unchanged.
  const entry = { version, cpu: [m[2]], dev: true };
  if (m[3]) entry.libc = ["musl"];
  Object.assign(entry, { license: biome.license, optional: true, os: [m[1]] });
  lock.packages[key] = entry;
  added++;
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile-platforms: added ${added} optional platform entr${added === 1 ? "y" : "ies"}`);
