import { describe, expect, it } from "vitest";
import { cap, escapeHtml, escapeMarkdown, sanitizeForTerminal } from "../../src/util/text.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

describe("cap", () => {
  it("returns short strings unchanged", () => {
    expect(cap("hello", 5)).toBe("hello");
    expect(cap("", 0)).toBe("");
  });

  it("cuts with a visible marker and stays within max", () => {
    const s = "x".repeat(10_000);
    const out = cap(s, 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).toMatch(/…\[\+\d+ chars\]$/);
    const kept = out.indexOf("…");
    expect(out).toBe(`${"x".repeat(kept)}…[+${10_000 - kept} chars]`);
  });

  it("never splits a surrogate pair", () => {
    const s = "😀".repeat(50);
    const out = cap(s, 21);
    expect(out.length).toBeLessThanOrEqual(21);
    expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it("degrades to an ellipsis when max is tiny", () => {
    expect(cap("abcdef", 3)).toBe("ab…");
    expect(cap("abcdef", 0)).toBe("");
  });
});

describe("sanitizeForTerminal", () => {
  it("neutralises ANSI escapes in a resource name", () => {
    const name = "vm1\u001b[2J\u001b[H\u001b[31mred\u001b[0m\u001b]0;pwned\u0007tail";
    const out = sanitizeForTerminal(name);
    expect(out).not.toMatch(CONTROL_CHARS);
    expect(out).not.toContain("[2J");
    expect(out).not.toContain("pwned");
    expect(out.startsWith("vm1")).toBe(true);
    expect(out).toContain("red");
    expect(out.endsWith("tail")).toBe(true);
  });

  it("handles 8-bit C1 controls, bidi overrides and line breaks", () => {
    const out = sanitizeForTerminal("a\u009b31mb\u202eevil\u202c\r\nc\u2028d\te\u0000f\u007f");
    expect(out).not.toMatch(CONTROL_CHARS);
    expect(out).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(out).toContain("⏎c⏎d e");
  });

  it("leaves ordinary text alone", () => {
    const s = "Run command on vm-web-01 (rg-prod) — ok ✓ 日本";
    expect(sanitizeForTerminal(s)).toBe(s);
  });
});

describe("escapeMarkdown / escapeHtml", () => {
  it("escapes Markdown syntax and removes line breaks", () => {
    expect(escapeMarkdown("a|b *c* [x](y)\n`z`")).toBe("a\\|b \\*c\\* \\[x\\]\\(y\\) \\`z\\`");
    expect(escapeMarkdown("x\u001b[31my")).toBe("xy");
  });

  it("escapes HTML", () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&`)).toBe(
      "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;",
    );
  });
});
