/**
 * The packed first-seen baseline (src/engine/baseline.ts): its time codes must order exactly as
 * the ISO strings they stand for and give them back exactly, and the table must behave as the
 * Map it replaced (earliest time per key, the bound, growth, the keys a scan changed).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ADDED,
  Baseline,
  decodeTime,
  EARLIER,
  encodeTime,
  FULL,
  KEPT,
  partEntries,
  type TimeCode,
} from "../../src/engine/baseline.js";
import { FirstSeenStage } from "../../src/engine/firstseen.js";
import { keyHash, MemoryState } from "../../src/engine/state.js";

/** Times as Azure writes them: no fraction, or 1 to 9 digits of one (REST pages carry 7). */
const isoTime = fc
  .tuple(
    fc.date({ min: new Date("1990-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }),
    fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
  )
  .map(([d, f]) => `${d.toISOString().slice(0, 19)}${f === undefined ? "" : `.${f}`}Z`);

const code = (s: string): TimeCode => {
  const c = { hi: 0, lo: 0 };
  expect(encodeTime(s, c)).toBe(true);
  return c;
};
const cmp = (a: TimeCode, b: TimeCode) => (a.hi !== b.hi ? Math.sign(a.hi - b.hi) : Math.sign(a.lo - b.lo));
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe("time codes", () => {
  it("give the string back exactly", () => {
    fc.assert(fc.property(isoTime, (s) => decodeTime(code(s).hi, code(s).lo) === s));
    for (const s of [
      "2026-12-07T21:52:55Z",
      "2026-12-07T21:52:55.5Z",
      "2026-12-07T21:52:55.1234567Z",
      "0001-01-01T00:00:00.000000000Z",
    ])
      expect(decodeTime(code(s).hi, code(s).lo)).toBe(s);
  });

  it("order as the strings do, fraction lengths mixed (a string comparison is what the engine always made)", () => {
    fc.assert(fc.property(isoTime, isoTime, (a, b) => cmp(code(a), code(b)) === cmpStr(a, b)));
    // The cases where string order is not time order are kept as the strings order them.
    const pairs = [
      ["2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00.59Z"],
      ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.1Z"],
      ["2026-01-01T00:00:00.1234567Z", "2026-01-01T00:00:00.123Z"],
    ] as const;
    for (const [a, b] of pairs) expect(cmp(code(a), code(b))).toBe(cmpStr(a, b));
  });

  it("refuse what is not a UTC ISO time (those are kept as strings)", () => {
    const c = { hi: 7, lo: 7 };
    for (const s of [
      "",
      "2026-12-07",
      "2026-12-07 21:52:55Z",
      "2026-12-07T21:52:55+01:00",
      "2026-12-07T21:52:55.Z1",
      "2026-12-07T21:52:55.1234567890Z",
      "２026-12-07T21:52:55Z",
    ])
      expect(encodeTime(s, c), s).toBe(false);
    expect(c).toEqual({ hi: 7, lo: 7 });
  });
});

describe("Baseline", () => {
  it("keeps the earliest time per key, as a Map of strings would, through growth", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.oneof(isoTime, fc.constant("yesterday"))), {
          maxLength: 1500,
        }),
        (ops) => {
          const b = new Baseline(16);
          const want = new Map<number, string>();
          for (const [n, t] of ops) {
            const k = keyHash(`key-${n}`);
            const c = { hi: 0, lo: 0 };
            const r = b.offer(k, t, encodeTime(t, c) ? c.hi : Number.NaN, c.lo, 1e9);
            const prev = want.get(k);
            expect(r).toBe(prev === undefined ? ADDED : t < prev ? EARLIER : KEPT);
            if (prev === undefined || t < prev) want.set(k, t);
          }
          expect(b.size).toBe(want.size);
          for (const [k, t] of want) expect(b.get(k)).toBe(t);
          expect(new Map(b.entries())).toEqual(want);
          expect(new Map(partEntries(b.part()))).toEqual(want);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses new keys past its bound and still lowers known ones", () => {
    const b = new Baseline();
    const c = code("2026-01-02T00:00:00Z");
    expect(b.offer(1, undefined, c.hi, c.lo, 2)).toBe(ADDED);
    expect(b.offer(2, undefined, c.hi, c.lo, 2)).toBe(ADDED);
    expect(b.offer(3, undefined, c.hi, c.lo, 2)).toBe(FULL);
    const earlier = code("2026-01-01T00:00:00Z");
    expect(b.offer(2, undefined, earlier.hi, earlier.lo, 2)).toBe(EARLIER);
    expect(b.get(2)).toBe("2026-01-01T00:00:00Z");
    expect(b.get(3)).toBeUndefined();
  });

  it("names only the keys a scan added or made earlier once tracking starts (what the state store writes back)", () => {
    const b = new Baseline();
    b.set(1, "2026-01-05T00:00:00Z");
    b.set(2, "2026-01-05T00:00:00Z");
    b.set(3, "2026-01-05T00:00:00Z");
    b.trackChanges();
    const at = (t: string) => code(t);
    const later = at("2026-01-09T00:00:00Z");
    const earlier = at("2026-01-01T00:00:00Z");
    b.offer(1, undefined, later.hi, later.lo, 1e9);
    b.offer(2, undefined, earlier.hi, earlier.lo, 1e9);
    for (let k = 10; k < 2000; k++) b.offer(k, undefined, later.hi, later.lo, 1e9); // grows the table
    const changed = new Map(b.entries(true));
    expect(changed.has(1)).toBe(false);
    expect(changed.has(3)).toBe(false);
    expect(changed.get(2)).toBe("2026-01-01T00:00:00Z");
    expect(changed.size).toBe(1 + 1990);
  });
});

describe("FirstSeenStage over packed baselines", () => {
  it("merges shares in any order to the same baselines, odd times included", () => {
    const tuples = [["principal.id", "callerIpPrefix"]];
    const obs = (i: number) => ({
      kind: "observation" as const,
      time: i % 17 === 0 ? `2026-01-0${1 + (i % 9)} 10:00` : `2026-01-0${1 + (i % 9)}T10:00:0${i % 10}.${i}Z`,
      operation: "microsoft.compute/virtualmachines/write",
      at: { file: "f", line: i, offset: 0, length: 0, gzip: false },
      principalId: `p${i % 13}`,
      callerIpAddress: `10.0.${i % 7}.1`,
    });
    const parts = [0, 1, 2].map((w) => {
      const s = new FirstSeenStage(tuples, new MemoryState(), 1e6);
      for (let i = w; i < 600; i += 3) s.observeLean(obs(i));
      return s.share();
    });
    const whole = new FirstSeenStage(tuples, new MemoryState(), 1e6);
    for (let i = 0; i < 600; i++) whole.observeLean(obs(i));
    const entries = (s: FirstSeenStage) =>
      [...partEntries(s.share().baselines[0]?.[1] as never)].sort((a, b) => a[0] - b[0]);
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      const merged = new FirstSeenStage(tuples, new MemoryState(), 1e6);
      for (const i of order) merged.absorb(parts[i] as never);
      expect(entries(merged)).toEqual(entries(whole));
    }
    expect(entries(whole).some(([, t]) => t.includes(" "))).toBe(true);
  });
});
