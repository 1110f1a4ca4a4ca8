/**
 * `--enable` / `--disable`: which loaded rules run. A selector names rules by id, tag
 * (`attack.t1651`), level (`high`) or a glob over ids and rule files (`2c2714bf-*`,
 * `compute/*.yml`); matching ignores case. With `--enable`, only what it names runs; `--disable`
 * then removes from that. A detection rule an enabled correlation reads is kept, as a private rule
 * (it feeds the correlation and produces no finding of its own), so disabling a step never
 * silently blinds a chain that is still on.
 */
import { encodeGlob, globMatch } from "../matcher/glob.js";
import { SEVERITIES } from "../model/finding.js";
import { UsageError } from "../util/errors.js";
import type { EngineRule, LoadedRules, ResolvedCorrelation } from "./loader.js";

export interface RuleSelection {
  enable?: readonly string[];
  disable?: readonly string[];
}

type AnyRule = EngineRule | ResolvedCorrelation;

const WILDCARD = /[*?]/;

function matches(selector: string, rule: AnyRule): boolean {
  const s = selector.trim().toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(s)) return rule.level === s;
  if (rule.id.toLowerCase() === s) return true;
  if (rule.tags.some((t) => t.toLowerCase() === s)) return true;
  const file = rule.file.replaceAll("\\", "/").toLowerCase();
  if (WILDCARD.test(s)) {
    const g = encodeGlob(s);
    if (globMatch(g, rule.id.toLowerCase())) return true;
    // A glob over files matches the path as loaded or any tail of it (`compute/*.yml`, `*/run-command.yml`).
    const parts = file.split("/");
    return parts.some((_, i) => globMatch(g, parts.slice(i).join("/")));
  }
  // A plain file or directory name: the rule file itself, or a folder on its path.
  return file === s || file.endsWith(`/${s}`) || file.includes(`/${s.replace(/\/$/, "")}/`);
}

/** The rules the selection keeps, and one sentence of what it turned off (for the report). */
export function selectRules(loaded: LoadedRules, sel: RuleSelection): { loaded: LoadedRules; note?: string } {
  const enable = (sel.enable ?? []).filter((s) => s.trim().length > 0);
  const disable = (sel.disable ?? []).filter((s) => s.trim().length > 0);
  if (enable.length === 0 && disable.length === 0) return { loaded };
  const all: AnyRule[] = [...loaded.rules.filter((r) => !r.private), ...loaded.correlations];
  for (const [flag, list] of [
    ["--enable", enable],
    ["--disable", disable],
  ] as const) {
    for (const s of list)
      if (!all.some((r) => matches(s, r)))
        throw new UsageError(
          `${flag} '${s}' matches no loaded rule (give a rule id, a tag such as attack.t1651, a level, or a glob over ids or rule files; rules list shows them)`,
        );
  }
  const on = (r: AnyRule): boolean =>
    (enable.length === 0 || enable.some((s) => matches(s, r))) && !disable.some((s) => matches(s, r));
  const correlations = loaded.correlations.filter(on);
  // What the enabled correlations read, through chains of correlations too.
  const needed = new Set<string>();
  const byId = new Map(loaded.correlations.map((c) => [c.id, c]));
  const visit = (c: ResolvedCorrelation): void => {
    for (const ref of c.refs) {
      if (needed.has(ref)) continue;
      needed.add(ref);
      const next = byId.get(ref);
      if (next) visit(next);
    }
  };
  for (const c of correlations) visit(c);
  // A correlation an enabled one reads stays (correlations have no private form).
  const keptCorrelations = loaded.correlations.filter((c) => on(c) || needed.has(c.id));
  const rules: EngineRule[] = [];
  let off = 0;
  for (const r of loaded.rules) {
    if (r.private || on(r)) rules.push(r);
    else {
      off++;
      if (needed.has(r.id)) rules.push({ ...r, private: true });
    }
  }
  off += loaded.correlations.length - correlations.length;
  const note =
    off > 0
      ? `${off} rule(s) turned off by ${[enable.length > 0 ? `--enable ${enable.join(",")}` : "", disable.length > 0 ? `--disable ${disable.join(",")}` : ""].filter(Boolean).join(" ")}`
      : undefined;
  return { loaded: { ...loaded, rules, correlations: keptCorrelations }, ...(note ? { note } : {}) };
}
