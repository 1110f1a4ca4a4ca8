/**
 * Catastrophic backtracking (ReDoS) in rule regexes. JavaScript cannot stop a regex once it
 * runs, so a regex is tried, before any record meets it, in a worker thread against inputs built
 * to make backtracking regexes blow up — long runs of one character, of the pattern's own
 * literal fragments and of their combinations, each ending in a character that fails the match —
 * and a regex that does not finish them within a budget is refused. The built-in pack is held to
 * this by a test (test/rules/redos.test.ts); user rules are probed when they load (a refused
 * rule is skipped with the reason) and, while the scan runs, timed per record (engine.ts).
 */
import { Worker } from "node:worker_threads";
import { builtModule } from "../paths.js";
import type { Detection } from "../sigma/ast.js";

/** A regex as a rule writes it. */
export interface RegexProbe {
  pattern: string;
  flags: string;
}

export interface ProbeResult extends RegexProbe {
  /** Time the inputs took (ms); undefined when the budget ran out first. */
  ms?: number;
  timedOut: boolean;
}

/** Characters in each adversarial input (a run is about this long). */
export const PROBE_LENGTH = 20_000;
/**
 * Time one regex may take over all of its adversarial inputs. Linear regexes with bounded
 * repetition (the pack's slowest, `[^\n]{0,400}?` between alternations) take up to about 0.7 s
 * on a loaded 2-core machine; a catastrophic one does not finish in minutes.
 */
export const PROBE_BUDGET_MS = 5_000;

/** Every regex a rule's detection holds. */
export function regexesOf(detection: Detection): RegexProbe[] {
  const out: RegexProbe[] = [];
  for (const sel of Object.values(detection.selections))
    for (const alt of sel.alternatives)
      for (const item of alt)
        for (const v of item.values)
          if (v.type === "regex")
            out.push({
              pattern: v.pattern,
              flags: `${v.flags.i ? "i" : ""}${v.flags.m ? "m" : ""}${v.flags.s ? "s" : ""}`,
            });
  return out;
}

const repeat = (unit: string, tail: string): string =>
  unit.repeat(Math.max(1, Math.floor(PROBE_LENGTH / Math.max(1, unit.length)))) + tail;

/**
 * The inputs one regex is tried on: runs of single characters that regexes commonly repeat
 * (blanks, word characters, digits, separators, quotes, newlines) and of each character the
 * pattern names, and runs of the pattern's own
 * literal fragments alone, with blanks, and joined in the pattern's order — what brings a
 * nested or overlapping quantifier to try every split — each ending in characters no match
 * expects.
 */
export function adversarialInputs(pattern: string): string[] {
  const tails = ["!\u0000", "\n"];
  const own = [...new Set(pattern.replace(/\\[dDwWsSbBnrtfv]/g, "").match(/[A-Za-z0-9_/:@=$%&#~,;<>'"-]/g) ?? [])];
  const singles = [
    ...new Set([" ", "\t", "a", "A", "0", "-", "/", "\\", "=", "$", '"', "'", ".", "\n", "\r\n", "x ", ...own]),
  ].slice(0, 48);
  const fragments = [...new Set(pattern.match(/[A-Za-z0-9_./:@-]{2,}/g) ?? [])].slice(0, 24);
  const inputs: string[] = [];
  for (const s of singles) for (const t of tails) inputs.push(repeat(s, t));
  for (const f of fragments) for (const sep of ["", " ", "\t", "\n"]) inputs.push(repeat(f + sep, "!"));
  if (fragments.length > 1) for (const sep of [" ", "", "\t"]) inputs.push(repeat(fragments.join(sep) + sep, "!"));
  return inputs;
}

const WORKER_URL = import.meta.url.endsWith(".ts")
  ? builtModule(new URL("./redos-worker.ts", import.meta.url).href)
  : new URL("./redos-worker.js", import.meta.url);

/**
 * Tries each distinct regex in a worker thread, one at a time, and waits at most `budgetMs` for
 * each: a worker still busy past it is terminated (the only way to stop a regex) and a new one
 * takes the rest. Results come back in the order of `probes`.
 */
/** Results by budget, flags and pattern, for the process: rule files copied from one another repeat their regexes. */
const PROBED = new Map<string, ProbeResult>();
const PROBED_LIMIT = 10_000;

export async function probeRegexes(probes: readonly RegexProbe[], budgetMs = PROBE_BUDGET_MS): Promise<ProbeResult[]> {
  const key = (p: RegexProbe) => `${budgetMs}\u0000${p.flags}\u0000${p.pattern}`;
  const wanted = new Map<string, RegexProbe>();
  for (const p of probes) if (!PROBED.has(key(p))) wanted.set(key(p), p);
  const tried = await probeDistinct([...wanted.values()], budgetMs);
  if (PROBED.size + tried.length > PROBED_LIMIT) PROBED.clear();
  const fresh = new Map(tried.map((r) => [key(r), r]));
  for (const [k, r] of fresh) PROBED.set(k, r);
  return probes.map((p) => (PROBED.get(key(p)) ?? fresh.get(key(p))) as ProbeResult);
}

async function probeDistinct(probes: readonly RegexProbe[], budgetMs: number): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  let worker: Worker | undefined;
  // A worker says when it is ready: its start-up (loading modules) is not the regex's time.
  const start = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const w = new Worker(WORKER_URL);
      w.once("message", () => resolve(w));
      w.once("error", reject);
    });
  try {
    for (const p of probes) {
      worker ??= await start();
      const w = worker;
      const ms = await new Promise<number | undefined>((resolve, reject) => {
        const timer = setTimeout(() => resolve(undefined), budgetMs);
        w.once("message", (m: { ms?: number; error?: string }) => {
          clearTimeout(timer);
          if (m.error !== undefined) reject(new Error(m.error));
          else resolve(m.ms);
        });
        w.postMessage({ pattern: p.pattern, flags: p.flags });
      });
      if (ms === undefined) {
        await w.terminate();
        worker = undefined;
        results.push({ pattern: p.pattern, flags: p.flags, timedOut: true });
      } else {
        results.push({ pattern: p.pattern, flags: p.flags, ms, timedOut: false });
      }
    }
  } finally {
    await worker?.terminate();
  }
  return results;
}
