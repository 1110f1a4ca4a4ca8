/**
 * What an hourly scan carries to the next through the state store: the latest write per resource
 * (who configured what) and correlation matches whose window is still open. Each case runs the
 * CLI as a child process, as a user would, on one temporary state file; the control runs the
 * second scan without state and must not find what the carried state finds.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { runCli, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

interface Report {
  findings: {
    id: string;
    ruleId: string;
    status?: string;
    resourceId: string;
    time: string;
    principal: { id?: string };
    evidence: { kind: string; steps?: { ruleId: string; time?: string }[] };
  }[];
}

async function scan(name: string, input: string, state: string | false): Promise<Report> {
  const out = join(tmp.dir, `${name}.json`);
  const r = await runCli([
    "scan",
    "--input",
    input,
    ...(state === false ? ["--no-state"] : ["--state", state]),
    "--format",
    "json",
    "-o",
    out,
    "--allow-incomplete",
  ]);
  expect(r.code, r.stderr).toBe(0);
  const { readFileSync } = await import("node:fs");
  return JSON.parse(readFileSync(out, "utf8")) as Report;
}

/** The demo's attacker (demo/README.md) and the run command it wrote. */
const ATTACKER = "a442edc7-37ba-4cef-a407-f093bfc1c697";
const RUN_COMMAND =
  "/subscriptions/8b1811f6-5813-475a-8054-5d2939bd681f/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-app-01/runCommands/update-agent";

describe("the resource-writer index persists", () => {
  it("a run command configured in one scan is attributed to the write an earlier scan read", async () => {
    const state = join(tmp.dir, "writers.db");
    // Hour 1: the Activity Log only (the write of the run command).
    await scan("w1", join(DEMO_TENANT_DIR, "activity"), state);
    // Hour 2: the configuration only (the run command resource, with its script).
    const second = await scan("w2", join(DEMO_TENANT_DIR, "resources"), state);
    const control = await scan("w2-control", join(DEMO_TENANT_DIR, "resources"), false);
    const payload = (r: Report) => r.findings.find((f) => f.resourceId === RUN_COMMAND);
    expect(payload(control)?.principal.id).toBeUndefined();
    expect(payload(second)?.principal.id).toBe(ATTACKER);
    expect(payload(second)?.time).toBe("2026-11-19T02:12:26.0145395Z");
  }, 120_000);
});

/** REST Activity Log events (the shape of detections/chains/function-deploy-then-keys.tests.yml). */
const SITE =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Web/sites/func1";
const CHAIN = "ee50a872-c1a3-41ae-bc61-b1e464cd2197";
const event = (op: string, time: string, resourceId: string, id: string) => ({
  eventDataId: id,
  operationName: { value: op },
  eventTimestamp: time,
  status: { value: "Succeeded" },
  claims: { "http://schemas.microsoft.com/identity/claims/objectidentifier": "5a5a5a5a-0000-0000-0000-000000000001" },
  resourceId,
});

describe("open correlation windows persist", () => {
  const deploy = join(tmp.dir, "deploy.json");
  const keys = join(tmp.dir, "keys.json");
  writeFileSync(
    deploy,
    JSON.stringify([
      event("Microsoft.Web/sites/extensions/write", "2026-11-19T02:40:00Z", `${SITE}/extensions/MSDeploy`, "e-1"),
    ]),
  );
  writeFileSync(
    keys,
    JSON.stringify([
      event("Microsoft.Web/sites/host/listkeys/action", "2026-11-19T02:52:00Z", `${SITE}/host/default`, "e-2"),
    ]),
  );

  it("a deployment in one scan and the key listing in the next make the chain, once", async () => {
    const state = join(tmp.dir, "chain.db");
    const chains = (r: Report) => r.findings.filter((f) => f.ruleId === CHAIN);
    expect(chains(await scan("c1", deploy, state))).toEqual([]);
    const second = chains(await scan("c2", keys, state));
    expect(chains(await scan("c2-control", keys, false))).toEqual([]);
    expect(second).toHaveLength(1);
    expect(second[0]?.status).toBe("new");
    expect(second[0]?.evidence.steps?.map((s) => s.time)).toEqual(["2026-11-19T02:40:00Z", "2026-11-19T02:52:00Z"]);
    // The same key listing read again: the same chain, open, not a second one.
    const third = chains(await scan("c3", keys, state));
    expect(third.map((f) => [f.id, f.status])).toEqual([[second[0]?.id, "open"]]);
  }, 120_000);

  it("a chain made only of an earlier scan's matches is not reported again", async () => {
    const state = join(tmp.dir, "quiet.db");
    const both = join(tmp.dir, "both.json");
    writeFileSync(
      both,
      JSON.stringify([
        event("Microsoft.Web/sites/extensions/write", "2026-11-19T02:40:00Z", `${SITE}/extensions/MSDeploy`, "e-1"),
        event("Microsoft.Web/sites/host/listkeys/action", "2026-11-19T02:52:00Z", `${SITE}/host/default`, "e-2"),
      ]),
    );
    const other = join(tmp.dir, "other.json");
    writeFileSync(
      other,
      JSON.stringify([
        event("Microsoft.Web/sites/write", "2026-11-19T05:00:00Z", `${SITE.replace("func1", "func9")}`, "e-9"),
      ]),
    );
    const chains = (r: Report) => r.findings.filter((f) => f.ruleId === CHAIN);
    expect(chains(await scan("q1", both, state))).toHaveLength(1);
    expect(chains(await scan("q2", other, state))).toEqual([]);
  }, 120_000);

  it("stores each match once and lets go of it past the 7-day horizon of the newest", async () => {
    const state = join(tmp.dir, "horizon.db");
    const later = join(tmp.dir, "later.json");
    writeFileSync(
      later,
      JSON.stringify([
        event("Microsoft.Web/sites/host/listkeys/action", "2026-11-27T03:00:00Z", `${SITE}/host/default`, "e-3"),
      ]),
    );
    const { DatabaseSync } = await import("node:sqlite");
    const rows = () => {
      const db = new DatabaseSync(state, { readOnly: true });
      try {
        return db
          .prepare("SELECT rowid, id FROM correlation_events WHERE correlation = ? ORDER BY id")
          .all(CHAIN)
          .map((r) => [r.id, r.rowid]);
      } finally {
        db.close();
      }
    };
    await scan("h1", deploy, state);
    const first = rows();
    expect(first.map(([id]) => id)).toEqual(["e-1"]);
    await scan("h2", keys, state);
    const second = rows();
    // e-1 is the row the first scan wrote, not written again; e-2 is new.
    expect(second).toEqual([first[0], ["e-2", expect.any(Number)]]);
    await scan("h3", later, state);
    // Eight days on, the earlier matches can start no chain the newest could end.
    expect(rows().map(([id]) => id)).toEqual(["e-3"]);
  }, 120_000);
});
