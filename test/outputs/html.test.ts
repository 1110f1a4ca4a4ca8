/**
 * The HTML report: static checks of what it contains, then the page opened in headless Chromium
 * (Debian's chromium through playwright-core, as .ci/run installs it): it renders, the filter
 * hides rows, and hostile data neither runs script nor adds elements.
 */
import { createHash } from "node:crypto";
import { mkdtemp, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ScanResult } from "../../src/model/finding.js";
import { CONTENT_SECURITY_POLICY, htmlFormat } from "../../src/outputs/formats/html.js";
import { renderToString } from "../../src/outputs/registry.js";
import { tempDir } from "../helpers.js";
import { demoResult } from "./demo-result.js";
import { INJECTED_ID, makeHostileResult, XSS_NAME } from "./hostile.js";

/** Every directory a test makes is under this one, removed after the file's tests. */
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const CHROMIUM = "/usr/bin/chromium";

const render = (result: ScanResult) => renderToString(htmlFormat, result, { toolVersion: "0.1.0", color: false });

function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
}

describe("--format html (static)", () => {
  it("has one script, allowed by its hash in a policy that allows no network", async () => {
    const html = await render((await demoResult()) as ScanResult);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    const scripts = inlineScripts(html);
    expect(scripts).toHaveLength(1);
    const hash = createHash("sha256")
      .update(scripts[0] ?? "")
      .digest("base64");
    expect(CONTENT_SECURITY_POLICY).toContain(`script-src 'sha256-${hash}'`);
    expect(CONTENT_SECURITY_POLICY).toMatch(/^default-src 'none'; /);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|https?:|\*/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`);
    // Self-contained: nothing is loaded from anywhere.
    expect(html).not.toMatch(/\b(?:src|href)="(?!#)/);
  });

  it("escapes hostile data and leaks no secret", async () => {
    const { result, password } = makeHostileResult();
    const html = await render(result);
    expect(inlineScripts(html)).toHaveLength(1);
    expect(html.match(/<script/gi)).toHaveLength(1);
    expect(html).not.toMatch(/<(?:img|svg|b|i)\b/i);
    expect(html).not.toContain(password);
    expect(html).not.toContain("\u001b");
    expect(html).toContain("&lt;script&gt;window.__xss=3&lt;/script&gt;");
  });
});

describe("--format html with nothing found", () => {
  it("still has every section and says there are no findings", async () => {
    const { result } = makeHostileResult();
    const html = await render({ ...result, findings: [], coverage: [] });
    for (const id of ["summary", "matrix", "timeline", "findings", "coverage"])
      expect(html).toContain(`<section id="${id}">`);
    expect(html).toContain("<p>No findings.</p>");
    expect(html).toContain("No attack chain");
  });
});

describe("--format html in Chromium", () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmp.dir, "aea-html-"));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens the page; collects dialogs, page errors, CSP violations and requests to anything but the file. */
  async function open(name: string, html: string) {
    const file = join(dir, name);
    await writeFile(file, html);
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const seen = { dialogs: [] as string[], errors: [] as string[], requests: [] as string[], csp: [] as string[] };
    page.on("dialog", (d) => {
      seen.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("pageerror", (e) => seen.errors.push(e.message));
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) seen.csp.push(m.text());
    });
    page.on("request", (r) => {
      if (r.url() !== pathToFileURL(file).href) seen.requests.push(r.url());
    });
    await page.goto(pathToFileURL(file).href);
    return { page, seen, file };
  }

  const visibleRows = (page: Page) => page.locator("tbody.finding:visible").count();

  it("renders the demo report and its filter narrows the findings", async () => {
    const result = (await demoResult()) as ScanResult;
    const { page, seen } = await open("demo.html", await render(result));
    const shot = join(dir, "demo.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(10_000);
    expect(await page.locator("h1").textContent()).toBe("Azure code-execution audit");
    expect(await page.locator("#shown").textContent()).toBe("12 of 12 shown");
    expect(await visibleRows(page)).toBe(12);
    // The chain is on the timeline, its steps in order.
    expect(await page.locator(".chain").count()).toBe(2);
    expect(await page.locator(".chain").first().locator("ol.timeline > li").count()).toBe(7);
    // The heat map has a cell for the planted run command.
    expect(await page.locator('.matrix button[data-technique="T1651"]').textContent()).toBe("3");

    await page.locator("#filter").fill("T1610");
    expect(await visibleRows(page)).toBe(3);
    expect(await page.locator("#shown").textContent()).toBe("3 of 12 shown");
    await page.locator("#filter").fill("");
    await page.locator("#min-severity").selectOption({ label: "critical" });
    expect(await visibleRows(page)).toBe(2);
    await page.locator("#min-severity").selectOption({ label: "any" });
    // Clicking a heat-map cell filters by its technique.
    await page.locator('.matrix button[data-technique="T1648"]').click();
    expect(await page.locator("#filter").inputValue()).toBe("T1648");
    expect(await visibleRows(page)).toBe(3);
    // Payloads are in the (collapsed) evidence, searchable like the rest.
    await page.locator("#filter").fill("198.51.100.23/s2.sh");
    expect(await visibleRows(page)).toBeGreaterThanOrEqual(1);
    expect(await visibleRows(page)).toBeLessThan(12);

    expect(seen.errors).toEqual([]);
    expect(seen.csp).toEqual([]);
    expect(seen.requests).toEqual([]);
    await page.close();
  }, 60_000);

  it("runs no script from hostile data and shows it as text", async () => {
    const { result } = makeHostileResult();
    const { page, seen } = await open("hostile.html", await render(result));
    await page.locator("details").first().locator("summary").click();
    expect(seen.dialogs).toEqual([]);
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await page.locator(`#${INJECTED_ID}`).count()).toBe(0);
    expect(await page.locator("img, svg, b, i").count()).toBe(0);
    // Only the report's own script element exists.
    expect(await page.locator("script").count()).toBe(1);
    const payload = await page.locator("pre.payload").first().textContent();
    expect(payload).toContain("</pre></details><script>window.__xss=3</script>");
    expect(await page.locator("body").textContent()).toContain(XSS_NAME.slice(0, 20));
    // The filter still works on the hostile page.
    await page.locator("#filter").fill("calc");
    expect(await visibleRows(page)).toBe(1);
    expect(seen.requests).toEqual([]);
    await page.close();
  }, 60_000);

  it("blocks a script that escaping missed (the policy is in force)", async () => {
    const html = (await render((await demoResult()) as ScanResult)).replace(
      "</main>",
      `<script>window.__xss = "inline"; alert(1)</script><img src="x" id="probe" onerror="window.__xss='handler'"></main>`,
    );
    const { page, seen } = await open("injected.html", html);
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(seen.dialogs).toEqual([]);
    expect(seen.csp.length).toBeGreaterThan(0);
    // The report's own script still ran.
    expect(await page.locator("#shown").textContent()).toBe("12 of 12 shown");
    await page.close();
  }, 60_000);
});
