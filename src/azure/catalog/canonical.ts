/**
 * Canonical spelling of operation names and resource ids for display. Azure writes the same
 * operation as `Microsoft.Compute/virtualMachines/runCommand/action` (REST),
 * `MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION` (diagnostic export, AzureActivity) or in
 * lower case; ids are compared lower-cased everywhere, but a report shows one spelling whatever
 * the input's: the execution catalogue's, the display-name table's, or the one the loaded rules
 * write (the first seen wins; the catalogue and the table come first). In a resource id the
 * `subscriptions`/`resourceGroups`/`providers` keywords, the provider namespace and the resource
 * type segments take the spelling of a known operation on that type; names of resources are left
 * as written. Anything unknown is shown as written.
 */
import { EXECUTION_CATALOGUE } from "./execution-operations.js";
import { displayNameTable } from "./localized-operations.js";

/** lower-cased operation → spelling. */
const OPERATIONS = new Map<string, string>();
/** lower-cased `Namespace/type/subtype` (and `Namespace`) → spelling, from the known operations. */
const TYPES = new Map<string, string>();
let seeded = false;

function learnTypes(op: string): void {
  const segs = op.split("/");
  // The last segment is the verb (write, action's name, …); every shorter prefix is a type path,
  // except the `…/<action>/action` form whose action name is not a type: kept out of types only
  // when it is the last two segments.
  const end = segs[segs.length - 1]?.toLowerCase() === "action" ? segs.length - 2 : segs.length - 1;
  for (let i = 1; i <= end; i++) {
    const path = segs.slice(0, i).join("/");
    const key = path.toLowerCase();
    if (!TYPES.has(key)) TYPES.set(key, path);
  }
}

/** Records a spelling of an operation when it looks canonical (`Microsoft.…`) and none is known. */
export function learnOperationSpelling(op: string): void {
  seed();
  if (!/^Microsoft\.[A-Z]/.test(op) || !op.includes("/") || op.includes("*")) return;
  const key = op.toLowerCase();
  if (OPERATIONS.has(key)) return;
  OPERATIONS.set(key, op);
  learnTypes(op);
}

function seed(): void {
  if (seeded) return;
  seeded = true;
  for (const o of EXECUTION_CATALOGUE) learnOperationSpelling(o.operation);
  for (const e of displayNameTable().entries) learnOperationSpelling(e.operation);
}

/** The operation in its canonical spelling, or as written when none is known. */
export function canonicalOperation(op: string): string {
  seed();
  return OPERATIONS.get(op.toLowerCase()) ?? op;
}

const KEYWORDS: Record<string, string> = {
  subscriptions: "subscriptions",
  resourcegroups: "resourceGroups",
  providers: "providers",
};

/**
 * The resource id with its keywords, provider namespaces and type segments in canonical spelling
 * (names as written). An id that is not an ARM path is returned unchanged.
 */
export function canonicalResourceId(id: string): string {
  seed();
  if (!id.startsWith("/")) return id;
  const parts = id.split("/");
  // parts[0] is "" (leading slash). Walk: keyword/value pairs, and after `providers` a
  // namespace then type/name pairs until the next `providers`.
  let i = 1;
  while (i < parts.length) {
    const seg = parts[i] as string;
    const kw = KEYWORDS[seg.toLowerCase()];
    if (kw === undefined) {
      i += 2;
      continue;
    }
    parts[i] = kw;
    if (kw !== "providers") {
      i += 2;
      continue;
    }
    // Namespace at i+1, types at i+2, i+4, …
    const ns = parts[i + 1];
    if (ns === undefined) break;
    let path = ns;
    const nsSpelling = TYPES.get(ns.toLowerCase());
    if (nsSpelling) parts[i + 1] = nsSpelling;
    let j = i + 2;
    while (j < parts.length && (parts[j] as string).toLowerCase() !== "providers") {
      path = `${path}/${parts[j]}`;
      const known = TYPES.get(path.toLowerCase());
      if (known) parts[j] = known.slice(known.lastIndexOf("/") + 1);
      j += 2;
    }
    i = j;
  }
  return parts.join("/");
}
